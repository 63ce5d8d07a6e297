"""What the demo runs: the hub, served from a thread of the demo's process, and the three sample
applications of ``examples/``, each a process of its own started with its documented command
line, its output in a log file."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

from convhub.core.settings import Settings


class DemoError(Exception):
    """The demo cannot go on; the message says why, for the person running it."""


def loopback_socket() -> socket.socket:
    """A socket bound to a free loopback port: the hub's address is known (and the applications
    can be told) before the hub starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def root_url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def hub_server(settings: Settings, sock: socket.socket) -> Iterator[None]:
    """Serve the hub (API and delivery worker) on ``sock`` until the block ends."""
    from convhub.app import create_app  # the whole API: imported only when the demo runs

    config = uvicorn.Config(
        create_app(settings), log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    # A thread with a loop of its own: the hub keeps delivering while the demo waits.
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise DemoError("the hub did not start")
            time.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def free_port() -> int:
    """A loopback port nobody listens on right now, for an application to bind."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SampleApp:
    """One program of ``examples/`` and the process running it."""

    title: str  # "the bot"
    script: str  # "bot.py"
    arguments: list[str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def callback(self) -> str:
        return f"{self.url}/callback"

    def command(self, examples: Path) -> list[str]:
        script = examples / self.script
        return [sys.executable, str(script), "--port", str(self.port), *self.arguments]

    def start(self, *, examples: Path, env: dict[str, str], logs: Path) -> None:
        self.log = logs / f"{Path(self.script).stem}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.command(examples),
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    async def wait_until_up(self, *, wait_limit: float) -> None:
        deadline = time.monotonic() + wait_limit
        async with httpx.AsyncClient(timeout=1) as http:
            while True:
                if self.process is None or self.process.poll() is not None:
                    raise DemoError(f"{self.title} ({self.script}) exited:\n{self.log_tail()}")
                try:
                    await http.get(self.url)  # any answer: it is listening
                    return
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise DemoError(
                            f"{self.title} ({self.script}) did not listen on {self.url} "
                            f"within {wait_limit:g} s:\n{self.log_tail()}"
                        ) from None
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 15) -> str:
        if self.log is None or not self.log.exists():
            return "  (no output)"
        tail = self.log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"  | {line}" for line in tail) or "  (no output)"
