"""Overload: offered load at twice the measured maximum, on PostgreSQL. Admission control
(core/admission.py) must keep at least 80 % goodput (accepted/s against the maximum), the p99 of
accepted requests within 1 s, and shed the excess early with 503 + Retry-After: never a 500,
never a timeout.

The maximum is measured in the same run (closed loop, as bench_ingest), then the open-loop
generator offers twice that rate for ``--seconds``.

    .venv/bin/python bench/bench_overload.py [--seconds 10] [--database postgresql]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, loadgen
from bench.bench_ingest import CONVERSATIONS, measure


def run(kind: str, seconds: float, workdir: Path) -> dict[str, Any]:
    with harness.fresh_database(kind) as url:
        env = harness.hub_env(url, run_worker=False)
        client = harness.new_client(env)
        with harness.hub(env, workdir) as hub:
            tenant = harness.set_up_tenant(hub.url, client, "http://127.0.0.1:9")
            ids = harness.start_conversations(hub.url, tenant, CONVERSATIONS)
            maximum = measure(hub.url, harness.SEND_PATH, tenant.headers, ids, seconds / 2)
            peak = maximum.rate(202)

            def body(worker: int, i: int) -> bytes:
                n = (i * 2 + worker) % len(ids)
                return harness.continue_body(ids[n], [harness.marker(n, i + 1)])

            host, port = hub.url.removeprefix("http://").split(":")
            result = loadgen.run(
                loadgen.Plan(
                    host=host,
                    ports=[int(port)],
                    path=harness.SEND_PATH,
                    headers=tenant.headers,
                    body=body,
                    seconds=seconds,
                    rate=2 * peak,
                    connections=1024,
                    timeout=10.0,
                )
            )
    shed = result.count(503) + result.count(429)
    return {
        "maximum_per_s": round(peak, 1),
        "offered_per_s": round(2 * peak, 1),
        "accepted_per_s": round(result.rate(202), 1),
        "goodput": round(result.rate(202) / peak, 2) if peak else None,
        "accepted_p50_ms": harness.ms(result.percentile(202, 50)),
        "accepted_p99_ms": harness.ms(result.percentile(202, 99)),
        "shed": shed,
        "shed_with_retry_after": result.retry_after,
        "shed_p99_ms": harness.ms(result.percentile(503, 99)),
        "statuses": result.statuses,
        "server_errors": sum(c for s, c in result.statuses.items() if s >= 500 and s != 503),
        "timeouts": result.timeouts,
        "connection_errors": result.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--database", default="postgresql")
    args = parser.parse_args()
    kind = args.database if args.database != "postgresql" or harness.pg_available() else "sqlite"
    with harness.workdir() as workdir:
        f = run(kind, args.seconds, workdir)
    rows = [
        harness.row(
            f"overload {kind} (2x max): goodput",
            f["goodput"],
            unit="of max",
            target=">= 0.8",
            met=f["goodput"] is not None and f["goodput"] >= 0.8,
        ),
        harness.row(
            f"overload {kind}: accepted p99",
            f["accepted_p99_ms"],
            unit="ms",
            target="<= 1000 ms",
            met=f["accepted_p99_ms"] is not None and f["accepted_p99_ms"] <= 1000,
        ),
        harness.row(
            f"overload {kind}: shed with 503 + Retry-After",
            f["shed"],
            unit=f"requests ({f['server_errors']} 500s, {f['timeouts']} timeouts)",
            target="all with Retry-After, no 500, no timeout",
            met=f["shed"] == f["shed_with_retry_after"]
            and f["server_errors"] == 0
            and f["timeouts"] == 0
            and f["connection_errors"] == 0,
        ),
    ]
    harness.write("overload", rows, {"seconds": args.seconds, kind: f})


if __name__ == "__main__":
    main()
