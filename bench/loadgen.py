"""The load generator: raw HTTP/1.1 over keep-alive asyncio connections, in several processes.

httpx costs ~1 ms of CPU per request, which on two cores would make the generator the bottleneck;
a hand-rolled client writes prepared bytes and parses only the status line and Content-Length.
Its own ceiling is measured against a trivial endpoint (bench/receiver.py) and reported.

Two modes:
- closed loop (``rate=None``): ``connections`` connections each send the next request as soon as
  the previous answer arrived, for ``seconds``: the maximum throughput.
- open loop (``rate``): requests start on a fixed schedule whatever the answers; a request that
  could not start on time (no free connection) counts its latency from its scheduled time
  (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Builds request ``i`` of process ``worker``: the body bytes (a JSON document).
BodyFactory = Callable[[int, int], bytes]


@dataclass
class Plan:
    host: str
    ports: list[int]  # spread over these (scale-out: one port per API process)
    path: str
    headers: dict[str, str]
    body: BodyFactory
    seconds: float
    connections: int = 64  # in all (closed loop) or at most (open loop)
    rate: float | None = None  # requests/s in all; None: closed loop
    processes: int = 2
    timeout: float = 10.0
    warmup: float = 1.0  # seconds whose answers are not counted


@dataclass
class Result:
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    timeouts: int = 0
    errors: int = 0
    retry_after: int = 0  # 429/503 answers that carried Retry-After
    completed: int = 0  # every answer, warm-up included (for CPU time per request)
    accepted: int = 0  # every 202, warm-up included (what a receiver is to see delivered)
    latencies: dict[int, array] = field(default_factory=dict)  # status -> seconds
    elapsed: float = 0.0

    def merge(self, other: Result) -> None:
        self.sent += other.sent
        self.timeouts += other.timeouts
        self.errors += other.errors
        self.retry_after += other.retry_after
        self.completed += other.completed
        self.accepted += other.accepted
        self.elapsed = max(self.elapsed, other.elapsed)
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        for status, values in other.latencies.items():
            self.latencies.setdefault(status, array("d")).extend(values)

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)

    def rate(self, status: int) -> float:
        return self.count(status) / self.elapsed if self.elapsed else 0.0

    def percentile(self, status: int, p: float) -> float | None:
        return percentile(list(self.latencies.get(status, [])), p)


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank), or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, data: bytes) -> tuple[int, bool]:
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, retry_after, close = 0, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"retry-after":
                retry_after = True
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            raise ConnectionResetError("server closed the connection")
        return status, retry_after

    def close(self) -> None:
        self.writer.close()


async def _connect(host: str, port: int) -> _Connection:
    reader, writer = await asyncio.open_connection(host, port)
    return _Connection(reader, writer)


def _request_bytes(plan: Plan, port: int, body: bytes) -> bytes:
    head = [f"POST {plan.path} HTTP/1.1", f"Host: {plan.host}:{port}"]
    head += [f"{name}: {value}" for name, value in plan.headers.items()]
    head += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(head).encode() + body


async def _run(plan: Plan, worker: int) -> Result:
    result = Result()
    share = 1 / plan.processes
    start = time.monotonic()
    counted_from = start + plan.warmup
    end = start + plan.warmup + plan.seconds
    index = 0
    idle: list[_Connection] = []
    live = 0

    async def one(i: int, scheduled: float) -> None:
        nonlocal live
        port = plan.ports[(worker + i) % len(plan.ports)]
        conn = idle.pop() if idle else None
        reused = conn is not None
        try:
            if conn is None:
                live += 1
                conn = await _connect(plan.host, port)
            data = _request_bytes(plan, port, plan.body(worker, i))
            try:
                status, retry_after = await asyncio.wait_for(conn.request(data), plan.timeout)
            except (ConnectionResetError, asyncio.IncompleteReadError):
                if not reused:
                    raise
                # A kept-alive connection the server closed while it sat idle (uvicorn closes
                # them after 5 s): as any HTTP client does, send again on a new connection.
                conn.close()
                conn = await _connect(plan.host, port)
                status, retry_after = await asyncio.wait_for(conn.request(data), plan.timeout)
        except TimeoutError:
            if scheduled >= counted_from:
                result.timeouts += 1
            if conn is not None:
                conn.close()
            live -= 1
            return
        except (OSError, asyncio.IncompleteReadError, ValueError):
            if scheduled >= counted_from:
                result.errors += 1
            if conn is not None:
                conn.close()
            live -= 1
            return
        idle.append(conn)
        result.completed += 1
        result.accepted += status == 202
        done = time.monotonic()
        if scheduled >= counted_from and done <= end + plan.timeout:
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.latencies.setdefault(status, array("d")).append(done - scheduled)
            if retry_after:
                result.retry_after += 1

    if plan.rate is None:
        per_process = max(1, round(plan.connections * share))

        async def loop() -> None:
            nonlocal index
            while time.monotonic() < end:
                i = index
                index += 1
                if time.monotonic() >= counted_from:
                    result.sent += 1
                await one(i, time.monotonic())

        await asyncio.gather(*(loop() for _ in range(per_process)))
    else:
        interval = plan.processes / plan.rate
        pending: set[asyncio.Task[None]] = set()
        limit = max(1, round(plan.connections * share))
        next_at = start
        while next_at < end:
            now = time.monotonic()
            if now < next_at:
                await asyncio.sleep(next_at - now)
            if live - len(idle) >= limit:  # every connection busy: wait for one
                await asyncio.sleep(0.0005)
                continue
            if next_at >= counted_from:
                result.sent += 1
            task = asyncio.create_task(one(index, next_at))
            pending.add(task)
            task.add_done_callback(pending.discard)
            index += 1
            next_at += interval
        if pending:
            await asyncio.wait(pending)
    result.elapsed = plan.seconds
    for conn in idle:
        conn.close()
    return result


def _process(plan: Plan, worker: int, queue: Any) -> None:
    queue.put(asyncio.run(_run(plan, worker)))


def run(plan: Plan) -> Result:
    """Run ``plan`` in ``plan.processes`` processes and merge what they measured."""
    if plan.processes == 1:
        return asyncio.run(_run(plan, 0))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [
        context.Process(target=_process, args=(plan, worker, queue))
        for worker in range(plan.processes)
    ]
    for process in workers:
        process.start()
    total = Result()
    for _ in workers:
        total.merge(queue.get())
    for process in workers:
        process.join()
    return total
