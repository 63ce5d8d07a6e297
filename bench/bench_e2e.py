"""End to end: at a fixed offered rate (300 messages/s), the time from the send request to the
bot's callback receiving the message, on PostgreSQL, in the two layouts a deployment has:

- ``split``: ``convhub serve`` without its worker and one ``convhub worker`` process, woken by
  the INSERT's notification (PostgreSQL's production layout: API and delivery each get a core);
- ``single``: ``convhub serve`` with the worker inside (one process, as ``make run`` starts it).

    .venv/bin/python bench/bench_e2e.py [--rate 300] [--seconds 10] [--layouts split,single]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, loadgen
from bench.receiver import Receiver

CONVERSATIONS = 300


def run(kind: str, rate: float, seconds: float, workdir: Path, *, layout: str) -> dict[str, Any]:
    port = harness.free_port()
    with (
        harness.fresh_database(kind) as url,
        Receiver(port, out=workdir / f"e2e-{layout}.json") as rx,
    ):
        env = harness.hub_env(url, run_worker=layout == "single")
        client = harness.new_client(env)
        worker = harness.worker(env, workdir) if layout == "split" else contextlib.nullcontext()
        with harness.hub(env, workdir) as hub, worker as apart:
            tenant = harness.set_up_tenant(hub.url, client, rx.url)
            ids = harness.start_conversations(hub.url, tenant, CONVERSATIONS)
            rx.wait_for(CONVERSATIONS, within=60)

            def body(worker: int, i: int) -> bytes:
                n = (i * 2 + worker) % len(ids)
                return harness.continue_body(ids[n], [harness.marker(n, i + 1)])

            host, hub_port = hub.url.removeprefix("http://").split(":")
            pids = [hub.pid] + ([apart.pid] if apart is not None else [])
            cpu = sum(harness.cpu_seconds(pid) for pid in pids)
            result = loadgen.run(
                loadgen.Plan(
                    host=host,
                    ports=[int(hub_port)],
                    path=harness.SEND_PATH,
                    headers=tenant.headers,
                    body=body,
                    seconds=seconds,
                    rate=rate,
                    connections=256,
                    warmup=1.0,
                )
            )
            accepted_all = sum(result.statuses.values())  # counted phase only
            delivered = rx.wait_for(CONVERSATIONS + accepted_all, within=60)
            # Accepting and delivering every message sent (warm-up included), API and worker.
            cpu = sum(harness.cpu_seconds(pid) for pid in pids) - cpu
    latencies = [(a.at_ns - a.sent_ns) / 1e9 for a in rx.arrivals if a.seq > 0 and a.sent_ns]
    return {
        "offered_per_s": rate,
        "accepted_per_s": round(result.rate(202), 1),
        "statuses": result.statuses,
        "timeouts": result.timeouts,
        "errors": result.errors,
        "accept_p50_ms": harness.ms(result.percentile(202, 50)),
        "accept_p99_ms": harness.ms(result.percentile(202, 99)),
        "service_cpu_ms_per_message": round(1000 * cpu / max(1, result.completed), 2),
        "callbacks": len(latencies),
        "all_delivered": delivered,
        "e2e_p50_ms": harness.ms(loadgen.percentile(latencies, 50)),
        "e2e_p99_ms": harness.ms(loadgen.percentile(latencies, 99)),
        "e2e_max_ms": harness.ms(max(latencies) if latencies else None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--database", default="postgresql")
    parser.add_argument("--layouts", default="split,single")
    args = parser.parse_args()
    kind, layouts = args.database, args.layouts.split(",")
    figures: dict[str, Any] = {}
    with harness.workdir() as workdir:
        for layout in layouts:
            figures[layout] = run(kind, args.rate, args.seconds, workdir, layout=layout)
    rows = []
    for layout in layouts:
        found, name = figures[layout], f"e2e {kind} {layout} @ {args.rate:g}/s"
        rows.append(harness.row(f"{name}: accepted", found["accepted_per_s"], unit="msg/s"))
        rows.append(
            harness.row(f"{name}: 202 p50", found["accept_p50_ms"], unit="ms (of the figure below)")
        )
        for percentile, target in (("p50", 15), ("p99", 100)):
            figure = found[f"e2e_{percentile}_ms"]
            rows.append(
                harness.row(
                    f"{name}: send → callback {percentile}",
                    figure,
                    unit="ms",
                    target=f"<= {target} ms",
                    met=figure is not None and figure <= target,
                )
            )
        rows.append(
            harness.row(
                f"{name}: service CPU per message",
                found["service_cpu_ms_per_message"],
                unit="ms (API and worker, accept and delivery)",
            )
        )
    harness.write("e2e", rows, {"seconds": args.seconds, kind: figures})


if __name__ == "__main__":
    main()
