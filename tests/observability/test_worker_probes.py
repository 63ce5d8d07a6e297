"""``convhub worker --port``: a worker alone serves its health and its delivery metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server import free_port

CONVHUB = Path(sys.executable).parent / "convhub"


def test_a_worker_answers_health_and_metrics_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
    env["CONVHUB_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'convhub.db'}"
    env["CONVHUB_RUN_WORKER"] = "false"  # as compose.yaml sets it for every process
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [str(CONVHUB), "worker", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(url + "/health/ready", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, (tmp_path / "worker.log").read_text()
                assert time.monotonic() < deadline, "the worker never answered"
                time.sleep(0.1)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "worker": "ok"}
        metrics = httpx.get(url + "/metrics", timeout=10)
        assert "convhub_delivery_latency_seconds_count" in metrics.text
        assert httpx.get(url + "/health/live", timeout=10).json()["status"] == "live"
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        log.close()
    assert code == 0, (tmp_path / "worker.log").read_text()
