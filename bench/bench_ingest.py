"""Ingest: accepted messages per second and 202 latency, ours against the baseline, on
PostgreSQL and SQLite; the service's peak RSS during the run; the load generator's ceiling.

Customer text messages on 1,000 conversations started beforehand, one message per request, from
a closed loop of 32 keep-alive connections in 2 generator processes. The hub runs without its
worker (CONVHUB_RUN_WORKER=false): deliveries queue, the drain benchmark measures them; the
baseline has no worker either.

    .venv/bin/python bench/bench_ingest.py [--seconds 10] [--databases postgresql,sqlite]
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, loadgen
from bench.receiver import Receiver

CONVERSATIONS = 1000
# As many requests in flight as the service admits by default (CONVHUB_MAX_IN_FLIGHT): more
# would measure admission control answering 503, which bench_overload measures on its own.
CONNECTIONS = 32


def ceiling(seconds: float, workdir: Path) -> float:
    """Requests/s the generator reaches against the cheapest server there is (bench/receiver)."""
    port = harness.free_port()
    with Receiver(port, out=workdir / "ceiling.json"):
        result = loadgen.run(
            loadgen.Plan(
                host="127.0.0.1",
                ports=[port],
                path="/",
                headers={},
                body=lambda w, i: harness.continue_body("c", [harness.marker(w, i)]),
                seconds=seconds,
                connections=CONNECTIONS,
            )
        )
    return round(result.rate(202), 1)


def measure(
    url: str,
    path: str,
    headers: dict[str, str],
    ids: list[str],
    seconds: float,
    *,
    rate: float | None = None,
    connections: int = CONNECTIONS,
) -> loadgen.Result:
    """Requests of one message each, over the conversations ``ids`` in turn: a closed loop, or
    ``rate`` a second (open loop). Each text carries its marker, numbered from 1."""

    def body(worker: int, i: int) -> bytes:
        n = (i * 2 + worker) % len(ids)
        return harness.continue_body(ids[n], [harness.marker(n, i + 1)])

    host, port = url.removeprefix("http://").split(":")
    return loadgen.run(
        loadgen.Plan(
            host=host,
            ports=[int(port)],
            path=path,
            headers=headers,
            body=body,
            seconds=seconds,
            rate=rate,
            connections=connections,
        )
    )


def ours(kind: str, seconds: float, workdir: Path) -> dict[str, Any]:
    with harness.fresh_database(kind) as url:
        env = harness.hub_env(url, run_worker=False)
        client = harness.new_client(env)
        with harness.hub(env, workdir) as hub:
            tenant = harness.set_up_tenant(hub.url, client, "http://127.0.0.1:9")
            ids = harness.start_conversations(hub.url, tenant, CONVERSATIONS)
            cpu, postgres = harness.cpu_seconds(hub.pid), harness.postgres_cpu_seconds()
            with harness.RssSampler(hub.pid) as rss:
                result = measure(hub.url, harness.SEND_PATH, tenant.headers, ids, seconds)
            cpu = harness.cpu_seconds(hub.pid) - cpu
            postgres = harness.postgres_cpu_seconds() - postgres
    return summary(result, cpu, postgres) | {"peak_rss_mb": rss.peak_mb}


def base(kind: str, seconds: float, workdir: Path) -> dict[str, Any]:
    with harness.fresh_database(kind) as url, harness.baseline(url, workdir) as server:
        ids = [str(uuid.uuid4()) for _ in range(CONVERSATIONS)]
        cpu, postgres = harness.cpu_seconds(server.pid), harness.postgres_cpu_seconds()
        with harness.RssSampler(server.pid) as rss:
            result = measure(server.url, "/messages", {}, ids, seconds)
        cpu = harness.cpu_seconds(server.pid) - cpu
        postgres = harness.postgres_cpu_seconds() - postgres
    return summary(result, cpu, postgres) | {"peak_rss_mb": rss.peak_mb}


def summary(result: loadgen.Result, cpu: float, postgres: float) -> dict[str, Any]:
    """``postgres``: the CPU time of PostgreSQL's processes over the run (0 on SQLite: its
    work is in the service's process)."""
    return {
        "cpu_ms_per_request": round(1000 * cpu / max(1, result.completed), 2),
        "postgresql_cpu_ms_per_request": round(1000 * postgres / max(1, result.completed), 2),
        "accepted_per_s": round(result.rate(202), 1),
        "p50_ms": harness.ms(result.percentile(202, 50)),
        "p99_ms": harness.ms(result.percentile(202, 99)),
        "statuses": result.statuses,
        "timeouts": result.timeouts,
        "errors": result.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--databases", default="postgresql,sqlite")
    args = parser.parse_args()
    kinds = [k for k in args.databases.split(",") if k != "postgresql" or harness.pg_available()]
    rows: list[dict[str, Any]] = []
    details: dict[str, Any] = {"seconds": args.seconds, "connections": CONNECTIONS}
    with harness.workdir() as workdir:
        details["loadgen_ceiling_per_s"] = ceiling(args.seconds / 2, workdir)
        rows.append(
            harness.row(
                "load generator ceiling (trivial endpoint)",
                details["loadgen_ceiling_per_s"],
                unit="req/s",
            )
        )
        for kind in kinds:
            mine, theirs = ours(kind, args.seconds, workdir), base(kind, args.seconds, workdir)
            details[kind] = {"ours": mine, "baseline": theirs}
            accepted = harness.row(
                f"ingest {kind}: accepted",
                mine["accepted_per_s"],
                theirs["accepted_per_s"],
                unit="msg/s",
                target=">= 70 % of baseline",
            )
            accepted["met"] = accepted["ratio"] is not None and accepted["ratio"] >= 0.7
            rows.append(accepted)
            rows.append(
                harness.row(
                    f"ingest {kind}: service CPU per request",
                    mine["cpu_ms_per_request"],
                    theirs["cpu_ms_per_request"],
                    unit="ms",
                )
            )
            if kind == "postgresql":
                rows.append(
                    harness.row(
                        f"ingest {kind}: PostgreSQL CPU per request",
                        mine["postgresql_cpu_ms_per_request"],
                        theirs["postgresql_cpu_ms_per_request"],
                        unit="ms",
                    )
                )
            rows.append(
                harness.row(f"ingest {kind}: 202 p50", mine["p50_ms"], theirs["p50_ms"], unit="ms")
            )
            rows.append(
                harness.row(f"ingest {kind}: 202 p99", mine["p99_ms"], theirs["p99_ms"], unit="ms")
            )
            rows.append(
                harness.row(
                    f"ingest {kind}: service peak RSS",
                    mine["peak_rss_mb"],
                    theirs["peak_rss_mb"],
                    unit="MB",
                    target="<= 250 MB",
                    met=mine["peak_rss_mb"] <= 250,
                )
            )
    harness.write("ingest", rows, details)


if __name__ == "__main__":
    main()
