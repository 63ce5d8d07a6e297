"""End to end: at a fixed offered rate (300 messages/s), the time from the send request to the
bot's callback receiving the message, on PostgreSQL, in the two layouts a deployment has:

- ``split``: ``convhub serve`` without its worker and one ``convhub worker`` process, woken by
  the INSERT's notification (PostgreSQL's production layout: API and delivery each get a core);
- ``single``: ``convhub serve`` with the worker inside (one process, as ``make run`` starts it).

The baseline, at the same offered rate with the same bodies, is the ``split`` layout of the
thinnest pipeline on the same stack: bench/baseline_app.py accepting, bench/baseline_worker.py
delivering. What the machine gives a message's way from request to callback, before convhub.

    .venv/bin/python bench/bench_e2e.py [--rate 300] [--seconds 10] [--layouts split,single]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, loadgen
from bench.bench_ingest import measure
from bench.receiver import Receiver

CONVERSATIONS = 300


def offer(
    url: str, headers: dict[str, str], path: str, ids: list[str], rate: float, seconds: float
) -> loadgen.Result:
    """The fixed schedule: each request one message, spread over the conversations."""
    return measure(url, path, headers, ids, seconds, rate=rate, connections=256)


class Cost:
    """CPU per message of the service's processes and of PostgreSQL, and how busy the machine
    was, over the load and the delivery of what it accepted."""

    def __init__(self, **pids: int) -> None:
        self.pids = pids
        self.busy = harness.MachineBusy()

    def __enter__(self) -> Cost:
        self._start = {name: harness.cpu_seconds(pid) for name, pid in self.pids.items()}
        self._postgres = harness.postgres_cpu_seconds()
        self.busy.__enter__()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.busy.__exit__()
        self.seconds = {
            name: harness.cpu_seconds(pid) - self._start[name] for name, pid in self.pids.items()
        }
        self.postgres = harness.postgres_cpu_seconds() - self._postgres

    def figures(self, messages: int) -> dict[str, Any]:
        per = 1000 / max(1, messages)
        return {
            "service_cpu_ms_per_message": round(per * sum(self.seconds.values()), 2),
            "cpu_ms_per_message": {n: round(per * s, 2) for n, s in self.seconds.items()}
            | {"postgresql": round(per * self.postgres, 2)},
            "machine_busy": self.busy.share,
        }


def figures(
    rate: float, result: loadgen.Result, cost: Cost, rx: Receiver, delivered: bool
) -> dict[str, Any]:
    latencies = [(a.at_ns - a.sent_ns) / 1e9 for a in rx.arrivals if a.seq > 0 and a.sent_ns]
    return {
        "offered_per_s": rate,
        "accepted_per_s": round(result.rate(202), 1),
        "statuses": result.statuses,
        "timeouts": result.timeouts,
        "errors": result.errors,
        "accept_p50_ms": harness.ms(result.percentile(202, 50)),
        "accept_p99_ms": harness.ms(result.percentile(202, 99)),
        **cost.figures(result.accepted),
        "callbacks": len(latencies),
        "all_delivered": delivered,
        "e2e_p50_ms": harness.ms(loadgen.percentile(latencies, 50)),
        "e2e_p99_ms": harness.ms(loadgen.percentile(latencies, 99)),
        "e2e_max_ms": harness.ms(max(latencies) if latencies else None),
    }


def baseline(kind: str, rate: float, seconds: float, workdir: Path) -> dict[str, Any]:
    port = harness.free_port()
    with (
        harness.fresh_database(kind) as url,
        Receiver(port, out=workdir / "e2e-baseline.json") as rx,
        harness.baseline(url, workdir) as api,
        harness.baseline_worker(url, rx.url, workdir) as apart,
    ):
        ids = [str(uuid.uuid4()) for _ in range(CONVERSATIONS)]
        with Cost(api=api.pid, worker=apart.pid) as cost:
            result = offer(api.url, {}, "/messages", ids, rate, seconds)
            delivered = rx.wait_for(result.accepted, within=60)
    return figures(rate, result, cost, rx, delivered)


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
            pids = {"api": hub.pid} | ({"worker": apart.pid} if apart is not None else {})
            # Accepting and delivering every message sent (warm-up included), API and worker.
            with Cost(**pids) as cost:
                result = offer(hub.url, tenant.headers, harness.SEND_PATH, ids, rate, seconds)
                delivered = rx.wait_for(CONVERSATIONS + result.accepted, within=60)
    return figures(rate, result, cost, rx, delivered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--database", default="postgresql")
    parser.add_argument("--layouts", default="split,single")
    args = parser.parse_args()
    kind, layouts = args.database, args.layouts.split(",")
    found: dict[str, Any] = {}
    with harness.workdir() as workdir:
        for layout in layouts:
            found[layout] = run(kind, args.rate, args.seconds, workdir, layout=layout)
        found["baseline"] = theirs = baseline(kind, args.rate, args.seconds, workdir)
    rows = []
    for layout in layouts:
        mine, name = found[layout], f"e2e {kind} {layout} @ {args.rate:g}/s"

        def line(label: str, key: str, unit: str, **target: Any) -> dict[str, Any]:
            return harness.row(f"{name}: {label}", mine[key], theirs[key], unit=unit, **target)  # noqa: B023

        rows.append(line("accepted", "accepted_per_s", "msg/s"))
        rows.append(line("202 p50", "accept_p50_ms", "ms (of the figure below)"))
        for percentile, target in (("p50", 15), ("p99", 100)):
            figure = mine[f"e2e_{percentile}_ms"]
            met = figure is not None and figure <= target
            rows.append(
                line(
                    f"send → callback {percentile}",
                    f"e2e_{percentile}_ms",
                    "ms",
                    target=f"<= {target} ms",
                    met=met,
                )
            )
        rows.append(
            line(
                "service CPU per message",
                "service_cpu_ms_per_message",
                "ms (API and worker, accept and delivery)",
            )
        )
        rows.append(line("machine busy", "machine_busy", "of all cores (load and receiver too)"))
    harness.write("e2e", rows, {"seconds": args.seconds, kind: found})


if __name__ == "__main__":
    main()
