"""Profile the accept path or the worker with py-spy while the ingest (or drain) load runs, and
print where the time goes: inclusive share per function, and the queries per message.

    .venv/bin/python bench/profile.py ingest [--database postgresql] [--seconds 8]
    .venv/bin/python bench/profile.py worker [--seconds 8]    # `convhub worker` draining 20,000
    .venv/bin/python bench/profile.py e2e [--seconds 8]       # bench_e2e's split layout, 300/s
    .venv/bin/python bench/profile.py queries [--database postgresql]

Writes bench/results/profile-<what>-<database>.txt (collapsed stacks: flamegraph.pl or
speedscope read them). Not part of `make bench`: run it when changing the hot path.
"""

from __future__ import annotations

import argparse
import collections
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.bench_drain import queue
from bench.bench_ingest import CONVERSATIONS, measure
from bench.receiver import Receiver


def _record(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    command = [
        str(harness.BIN / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize(path: Path, top: int = 45) -> str:
    """Inclusive share of samples per function (file:function), the busiest first."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        seen = set()
        for frame in stack.split(";"):
            function, _, where = frame.partition(" (")
            name = f"{function} {where.split(':')[0]}"
            if name not in seen:
                seen.add(name)
                inclusive[name] += n
    lines = [f"{total} samples"]
    for name, n in inclusive.most_common(top):
        lines.append(f"{100 * n / total:5.1f}%  {name}")
    return "\n".join(lines)


def count_queries(kind: str, messages: int = 200) -> dict[str, float]:
    """SQL statements per accepted message (the accept path) and per delivery (the worker),
    counted in-process on every engine: a figure that, unlike a rate, no other load changes."""
    import asyncio as aio

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from bench.receiver import Receiver
    from convhub.app import create_app
    from convhub.core.settings import Settings

    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    event.listen(Engine, "before_cursor_execute", count)
    with harness.workdir() as workdir, harness.fresh_database(kind) as url:
        env = harness.hub_env(url, run_worker=False)
        client = harness.new_client(env)
        port = harness.free_port()
        with Receiver(port, out=workdir / "rx.json") as rx:
            settings = Settings(  # type: ignore[call-arg]
                database_url=url, run_worker=False, allow_private_callbacks=True, _env_file=None
            )
            with _in_thread(create_app(settings)) as hub_url:
                tenant = harness.set_up_tenant(hub_url, client, rx.url)
                ids = harness.start_conversations(hub_url, tenant, 10)
                import httpx

                with httpx.Client(headers=tenant.headers, timeout=60) as api:
                    statements[0] = 0
                    for i in range(messages):
                        body = harness.continue_body(ids[i % 10], [harness.marker(i % 10, i + 1)])
                        answer = api.post(
                            hub_url + harness.SEND_PATH,
                            content=body,
                            headers={"Content-Type": "application/json"},
                        )
                        assert answer.status_code == 202, answer.text
                    accept = statements[0] / messages
            # The worker alone on the queue just written (10 + messages deliveries).
            from convhub.core.runtime import Runtime
            from convhub.delivery.worker import DeliveryWorker

            async def drain() -> None:
                runtime = Runtime.build(settings)
                worker = DeliveryWorker(runtime)
                task = aio.create_task(worker.run())
                await aio.to_thread(rx.wait_for, 10 + messages, within=300)
                await worker.stop()
                task.cancel()
                await runtime.db.dispose()

            statements[0] = 0
            aio.run(drain())
            deliver = statements[0] / (10 + messages)
    event.remove(Engine, "before_cursor_execute", count)
    return {
        "statements_per_message": round(accept, 2),
        "statements_per_delivery": round(deliver, 2),
    }


@contextmanager
def _in_thread(app: object) -> Iterator[str]:
    import uvicorn

    port = harness.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def profile_worker(seconds: float, messages: int = 20_000, conversations: int = 500) -> None:
    """`convhub worker` draining a queue (bench_drain's) to a fast receiver, recorded from its
    first callback on (its start-up is not delivery), for ``seconds`` or until it is done."""
    out = harness.RESULTS / "profile-worker-postgresql.txt"
    with harness.workdir() as workdir, queue(messages, conversations, workdir) as q:
        with (
            harness.fresh_database("postgresql", template=q.url) as url,
            Receiver(q.receiver_port, out=workdir / "receiver.json") as rx,
            harness.worker(harness.hub_env(url), workdir) as worker,
        ):
            rx.wait_for(1, within=60)
            spy = _record(worker.pid, seconds, out)
            rx.wait_for(messages, within=600)
            spy.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
            spy.wait()
    print(summarize(out))


def profile_e2e(seconds: float, rate: float = 300) -> None:
    """bench_e2e's ``split`` layout at ``rate``: the API process and the worker process, each
    recorded while the fixed schedule runs (a message at a time: what a steady load costs)."""
    from bench.bench_e2e import CONVERSATIONS, offer

    outs = {
        name: harness.RESULTS / f"profile-e2e-{name}-postgresql.txt" for name in ("api", "worker")
    }
    with (
        harness.workdir() as workdir,
        harness.fresh_database("postgresql") as url,
        Receiver(harness.free_port(), out=workdir / "receiver.json") as rx,
    ):
        env = harness.hub_env(url, run_worker=False)
        client = harness.new_client(env)
        with harness.hub(env, workdir) as hub, harness.worker(env, workdir) as worker:
            tenant = harness.set_up_tenant(hub.url, client, rx.url)
            ids = harness.start_conversations(hub.url, tenant, CONVERSATIONS)
            rx.wait_for(CONVERSATIONS, within=60)
            spies: list[subprocess.Popen[bytes]] = []

            def start_spies() -> None:
                time.sleep(1.5)
                for name, pid in (("api", hub.pid), ("worker", worker.pid)):
                    spies.append(_record(pid, seconds - 2, outs[name]))

            threading.Thread(target=start_spies).start()
            result = offer(hub.url, tenant.headers, harness.SEND_PATH, ids, rate, seconds)
            for spy in spies:
                spy.wait()
    print(f"accepted {result.rate(202):.1f}/s of {rate:g}/s offered during the profile")
    for name, out in outs.items():
        print(f"== {name}")
        print(summarize(out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["ingest", "worker", "e2e", "queries"])
    parser.add_argument("--database", default="postgresql")
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    if args.what == "queries":
        print(count_queries(args.database))
        return
    if args.what == "worker":
        profile_worker(args.seconds)
        return
    if args.what == "e2e":
        profile_e2e(args.seconds)
        return
    out = harness.RESULTS / f"profile-{args.what}-{args.database}.txt"
    with harness.workdir() as workdir, harness.fresh_database(args.database) as url:
        env = harness.hub_env(url, run_worker=False)
        client = harness.new_client(env)
        with harness.hub(env, workdir) as hub:
            tenant = harness.set_up_tenant(hub.url, client, "http://127.0.0.1:9")
            ids = harness.start_conversations(hub.url, tenant, CONVERSATIONS)
            spy = None

            def start_spy() -> None:
                nonlocal spy
                time.sleep(1.5)
                spy = _record(hub.pid, args.seconds - 2, out)

            threading.Thread(target=start_spy).start()
            result = measure(hub.url, harness.SEND_PATH, tenant.headers, ids, args.seconds)
            assert spy is not None
            spy.wait()
    print(f"accepted {result.rate(202):.1f}/s during the profile (py-spy slows it a little)")
    print(summarize(out))


if __name__ == "__main__":
    main()
