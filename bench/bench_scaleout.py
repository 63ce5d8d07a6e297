"""Scale-out on PostgreSQL: ingest with 1 and 2 API processes (`convhub serve`, no worker), and
drain with 1 and 2 `convhub worker` processes, to show how the cost grows with processes on
this machine (bench/README.md says what a bigger machine should give).

    .venv/bin/python bench/bench_scaleout.py [--seconds 8] [--messages 5000]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, loadgen
from bench.bench_drain import drain, queue
from bench.bench_ingest import CONNECTIONS, CONVERSATIONS


def ingest(apis: int, seconds: float, workdir: Path) -> dict[str, Any]:
    with harness.fresh_database("postgresql") as url, contextlib.ExitStack() as stack:
        env = harness.hub_env(url, run_worker=False)
        client = harness.new_client(env)
        hubs = [stack.enter_context(harness.hub(env, workdir)) for _ in range(apis)]
        tenant = harness.set_up_tenant(hubs[0].url, client, "http://127.0.0.1:9")
        ids = harness.start_conversations(hubs[0].url, tenant, CONVERSATIONS)

        def body(worker: int, i: int) -> bytes:
            n = (i * 2 + worker) % len(ids)
            return harness.continue_body(ids[n], [harness.marker(n, i + 1)])

        with harness.RssSampler(*(h.pid for h in hubs)) as rss:
            result = loadgen.run(
                loadgen.Plan(
                    host="127.0.0.1",
                    ports=[int(h.url.rsplit(":", 1)[1]) for h in hubs],
                    path=harness.SEND_PATH,
                    headers=tenant.headers,
                    body=body,
                    seconds=seconds,
                    connections=CONNECTIONS * apis,
                )
            )
    return {
        "api_processes": apis,
        "accepted_per_s": round(result.rate(202), 1),
        "p50_ms": harness.ms(result.percentile(202, 50)),
        "p99_ms": harness.ms(result.percentile(202, 99)),
        "statuses": result.statuses,
        "peak_rss_mb": rss.peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--conversations", type=int, default=200)
    args = parser.parse_args()
    if not harness.pg_available():
        print("scale-out: PostgreSQL is not reachable; skipped")
        return
    details: dict[str, Any] = {"seconds": args.seconds, "messages": args.messages}
    with harness.workdir() as workdir:
        one, two = ingest(1, args.seconds, workdir), ingest(2, args.seconds, workdir)
        with queue(args.messages, args.conversations, workdir) as q:
            w1 = drain(q, workdir, delay=0.0, workers=1)
            w2 = drain(q, workdir, delay=0.0, workers=2)
    details.update({"ingest_1": one, "ingest_2": two, "drain_1": w1, "drain_2": w2})
    rows = [
        harness.row(
            "scale-out ingest: 2 API processes vs 1",
            two["accepted_per_s"],
            one["accepted_per_s"],
            unit="msg/s (baseline column: 1 process)",
        ),
        harness.row(
            "scale-out drain: 2 workers vs 1",
            w2["callbacks_per_s"],
            w1["callbacks_per_s"],
            unit="callbacks/s (baseline column: 1 worker)",
        ),
    ]
    harness.write("scaleout", rows, details)


if __name__ == "__main__":
    main()
