"""Drain: 20,000 queued messages over 500 conversations, delivered by one `convhub worker` to a
fast receiver and to one that takes 100 ms per call; callbacks per second, and the order within
each conversation checked. On PostgreSQL the queue is written once through the API and copied
(CREATE DATABASE ... TEMPLATE) for each run, so every run starts from the same queue.

The baseline drains the same queue, written through bench/baseline_app.py, with
bench/baseline_worker.py: the thinnest delivery on the same stack (see that module).

    .venv/bin/python bench/bench_drain.py [--messages 20000] [--conversations 500]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.receiver import Receiver

SENDERS = 16  # requests in flight while the queue is written


@dataclass
class Queue:
    url: str  # the database holding the queue (a template: never opened for writing again)
    receiver_port: int  # the port every callback URL of the tenant names
    messages: int
    conversations: int
    seconds: float  # how long writing it took


def _fill(url: str, path: str, headers: dict[str, str], ids: list[str], remaining: int) -> None:
    """``remaining`` messages over the conversations ``ids``, ten to a request. Each sender owns
    its own conversations, so the order of each is the order written."""
    conversations = len(ids)
    per_conversation = [remaining // conversations] * conversations
    for n in range(remaining % conversations):
        per_conversation[n] += 1

    async def sender(first: int, api: httpx.AsyncClient) -> None:
        for n in range(first, conversations, SENDERS):
            seq = 1
            while seq <= per_conversation[n]:
                texts = [
                    harness.marker(n, s) for s in range(seq, min(per_conversation[n], seq + 9) + 1)
                ]
                answer = await api.post(
                    url + path,
                    content=harness.continue_body(ids[n], texts),
                    headers={"Content-Type": "application/json"},
                )
                if answer.status_code != 202:
                    raise RuntimeError(f"fill: {answer.status_code} {answer.text}")
                seq += len(texts)

    async def main() -> None:
        async with httpx.AsyncClient(headers=headers, timeout=120) as api:
            await asyncio.gather(*(sender(first, api) for first in range(SENDERS)))

    asyncio.run(main())


@contextmanager
def queue(messages: int, conversations: int, workdir: Path) -> Iterator[Queue]:
    with harness.fresh_database("postgresql") as url:
        env = harness.hub_env(url, run_worker=False)
        client = harness.new_client(env)
        port = harness.free_port()
        with harness.hub(env, workdir) as hub:
            tenant = harness.set_up_tenant(hub.url, client, f"http://127.0.0.1:{port}")
            started = time.monotonic()
            # The first message of each conversation starts it.
            ids = harness.start_conversations(hub.url, tenant, conversations)
            _fill(hub.url, harness.SEND_PATH, tenant.headers, ids, messages - conversations)
            seconds = time.monotonic() - started
        yield Queue(url, port, messages, conversations, round(seconds, 1))


@contextmanager
def baseline_queue(messages: int, conversations: int, workdir: Path) -> Iterator[Queue]:
    """The same queue, written through bench/baseline_app.py into its own tables."""
    with harness.fresh_database("postgresql") as url:
        with harness.baseline(url, workdir) as api:
            started = time.monotonic()
            ids = [str(uuid.uuid4()) for _ in range(conversations)]
            _fill(api.url, "/messages", {}, ids, messages)
            seconds = time.monotonic() - started
        yield Queue(url, harness.free_port(), messages, conversations, round(seconds, 1))


def drain(
    q: Queue,
    workdir: Path,
    *,
    delay: float,
    workers: int = 1,
    apis: int = 0,
    baseline: bool = False,
) -> dict[str, Any]:
    """Deliver a copy of the queue with ``workers`` `convhub worker` processes (and ``apis``
    `convhub serve` processes running their worker too), or, ``baseline``, with
    bench/baseline_worker.py."""
    with harness.fresh_database("postgresql", template=q.url) as url:
        env = harness.hub_env(url)
        out = workdir / f"drain-{delay}-{workers}-{baseline}.json"
        with Receiver(q.receiver_port, delay=delay, out=out) as rx, contextlib.ExitStack() as stack:
            started = time.monotonic()
            pids = []
            if baseline:
                pids.append(stack.enter_context(harness.baseline_worker(url, rx.url, workdir)).pid)
            for _ in range(workers if not baseline else 0):
                pids.append(stack.enter_context(harness.worker(env, workdir)).pid)
            for _ in range(apis):
                pids.append(stack.enter_context(harness.hub(env, workdir)).pid)
            with harness.RssSampler(*pids) as rss:
                # CPU from the first callback on: the processes' start-up is not delivery.
                rx.wait_for(1, within=60)
                early = rx.count
                cpu = sum(harness.cpu_seconds(pid) for pid in pids)
                postgres = harness.postgres_cpu_seconds()
                with harness.MachineBusy() as busy:
                    done = rx.wait_for(q.messages, within=600)
                cpu = sum(harness.cpu_seconds(pid) for pid in pids) - cpu
                postgres = harness.postgres_cpu_seconds() - postgres
            wall = time.monotonic() - started
    arrivals = sorted(rx.arrivals, key=lambda a: a.at_ns)
    first, last = arrivals[0].at_ns, arrivals[-1].at_ns
    seen: dict[int, int] = {}
    out_of_order = 0
    for a in arrivals:
        if a.seq <= seen.get(a.conversation, -1):
            out_of_order += 1
        seen[a.conversation] = max(a.seq, seen.get(a.conversation, -1))
    rate = (len(arrivals) - 1) / ((last - first) / 1e9) if len(arrivals) > 1 else 0.0
    return {
        "receiver_delay_ms": delay * 1000,
        "workers": workers,
        "callbacks": len(arrivals),
        "all_delivered": done,
        "callbacks_per_s": round(rate, 1),
        "seconds_first_to_last": round((last - first) / 1e9, 2),
        "seconds_with_start": round(wall, 2),
        "out_of_order": out_of_order,
        "duplicates": len(arrivals) - len({(a.conversation, a.seq) for a in arrivals}),
        "peak_rss_mb": rss.peak_mb,
        "cpu_ms_per_callback": round(1000 * cpu / max(1, q.messages - early), 3),
        "postgresql_cpu_ms_per_callback": round(1000 * postgres / max(1, q.messages - early), 3),
        "machine_busy": busy.share,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--conversations", type=int, default=500)
    args = parser.parse_args()
    if not harness.pg_available():
        print("drain: PostgreSQL is not reachable; skipped")
        return
    details: dict[str, Any] = {"messages": args.messages, "conversations": args.conversations}
    with harness.workdir() as workdir:
        with queue(args.messages, args.conversations, workdir) as q:
            details["queue_written_in_s"] = q.seconds
            fast = drain(q, workdir, delay=0.0)
            slow = drain(q, workdir, delay=0.1)
        with baseline_queue(args.messages, args.conversations, workdir) as q:
            details["baseline_queue_written_in_s"] = q.seconds
            base_fast = drain(q, workdir, delay=0.0, baseline=True)
            base_slow = drain(q, workdir, delay=0.1, baseline=True)
    details["fast"], details["slow"] = fast, slow
    details["baseline_fast"], details["baseline_slow"] = base_fast, base_slow
    rows = [
        harness.row(
            "drain postgresql: fast receiver",
            fast["callbacks_per_s"],
            base_fast["callbacks_per_s"],
            unit="callbacks/s",
            target=">= 1000/s, in order",
            met=fast["callbacks_per_s"] >= 1000
            and fast["all_delivered"]
            and not fast["out_of_order"],
        ),
        harness.row(
            "drain postgresql: 100 ms receiver",
            slow["callbacks_per_s"],
            base_slow["callbacks_per_s"],
            unit="callbacks/s",
            target=">= 500/s, in order",
            met=slow["callbacks_per_s"] >= 500
            and slow["all_delivered"]
            and not slow["out_of_order"],
        ),
    ]
    rows.append(
        harness.row(
            "drain postgresql: worker CPU per callback (fast)",
            fast["cpu_ms_per_callback"],
            base_fast["cpu_ms_per_callback"],
            unit="ms",
        )
    )
    rows.append(
        harness.row(
            "drain postgresql: PostgreSQL CPU per callback (fast)",
            fast["postgresql_cpu_ms_per_callback"],
            base_fast["postgresql_cpu_ms_per_callback"],
            unit="ms",
        )
    )
    harness.write("drain", rows, details)


if __name__ == "__main__":
    main()
