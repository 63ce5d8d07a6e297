"""A callback receiver in a process of its own: raw asyncio HTTP/1.1, keep-alive, answers 202
after ``delay`` seconds, and records for each callback when it arrived and the marker the
benchmark put in the message text (``bench:<conversation>:<seq>:<sent monotonic ns>``).

CLOCK_MONOTONIC is one clock for every process of the machine, so the sender's timestamp and the
receiver's arrival time compare directly.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = re.compile(rb"bench:(\d+):(\d+):(\d+)")
_REPLY = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


@dataclass
class Arrival:
    at_ns: int
    conversation: int
    seq: int
    sent_ns: int


class _Protocol(asyncio.Protocol):
    def __init__(self, server: _Server) -> None:
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = 0
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line[15:])
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body, self.buffer = self.buffer[end + 4 : total], self.buffer[total:]
            self.server.received(body)
            if self.server.delay:
                asyncio.get_running_loop().call_later(self.server.delay, self._reply)
            else:
                self._reply()

    def _reply(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_REPLY)


class _Server:
    def __init__(self, delay: float, counter: Any) -> None:
        self.delay = delay
        self.counter = counter
        self.arrivals: list[tuple[int, bytes]] = []

    def received(self, body: bytes) -> None:
        self.arrivals.append((time.monotonic_ns(), body))
        with self.counter.get_lock():
            self.counter.value += 1


def _serve(port: int, delay: float, counter: Any, ready: Any, stop: Any, out: str) -> None:
    async def main() -> list[list[int]]:
        server = _Server(delay, counter)
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(lambda: _Protocol(server), "127.0.0.1", port)
        ready.set()
        await asyncio.to_thread(stop.wait)
        listener.close()
        records = []
        for at, body in server.arrivals:
            found = MARKER.search(body)
            if found:
                conv, seq, sent = (int(x) for x in found.groups())
                records.append([at, conv, seq, sent])
            else:
                records.append([at, -1, -1, 0])
        return records

    Path(out).write_text(json.dumps(asyncio.run(main())))


class Receiver:
    """Start with ``with Receiver(port, delay) as rx``; ``rx.count`` is live, ``rx.arrivals``
    is read after the block."""

    def __init__(self, port: int, *, delay: float = 0.0, out: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.port, self.out = port, out
        self.url = f"http://127.0.0.1:{port}"
        self._counter = context.Value("q", 0)
        self._ready, self._stop = context.Event(), context.Event()
        self._process = context.Process(
            target=_serve,
            args=(port, delay, self._counter, self._ready, self._stop, str(out)),
            daemon=True,
        )
        self.arrivals: list[Arrival] = []

    @property
    def count(self) -> int:
        return int(self._counter.value)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def __enter__(self) -> Receiver:
        self._process.start()
        if not self._ready.wait(20):
            raise RuntimeError("receiver did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._process.join(30)
        if self.out.exists():
            self.arrivals = [Arrival(*row) for row in json.loads(self.out.read_text())]

    def wait_for(self, count: int, *, within: float) -> bool:
        deadline = time.monotonic() + within
        while self.count < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True
