"""PostgreSQL stopped (``immediate``: a crash, recovered from the WAL on start) and started again
under load: meanwhile requests fail fast and cleanly (5xx with a WSErrorCommon body, never a
hang), and the service recovers by itself: every message is then accepted, stored once and
delivered, nothing acknowledged with 202 lost.

The restarted server is a cluster of this test's own (initdb in a temporary directory, its own
port): the machine's shared server serves the rest of the suite and other users. Collected on
PostgreSQL runs only (see conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from convhub.core.migrations import upgrade
from convhub.core.settings import Settings
from tests.conversations.conftest import build_apps
from tests.delivery_processes.conftest import Arrivals, wait_for_all
from tests.factories import basic_authentication
from tests.faults.conftest import (
    REQUEST_TIMEOUT,
    ApiProcess,
    Resending,
    accepted_status,
    api_client,
    assert_stored_once,
    is_error_common,
    send_batches,
    start_conversations,
    tenant_token,
)
from tests.receivers import receiving
from tests.server import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
CONVERSATIONS = 10
BATCHES = 5
BATCH = 5  # 26 messages a conversation, 260 in all
OUTAGE = 3.0  # seconds the database is down


class Cluster:
    """A PostgreSQL cluster in a temporary directory, run as the ``postgres`` user (initdb
    refuses root), listening on 127.0.0.1 on a port of its own."""

    def __init__(self) -> None:
        shm = Path("/dev/shm")
        self.dir = Path(tempfile.mkdtemp(prefix="convhub-pg-", dir=shm if shm.is_dir() else None))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, program: str, *args: str) -> None:
        command = [str(BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.dir, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        log = str(self.dir / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("fast")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        cluster.start()
        upgrade(cluster.url)
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def api(settings: Settings, cluster: Cluster, tmp_path) -> Iterator[ApiProcess]:
    process = ApiProcess(
        settings.model_copy(
            update={
                "database_url": cluster.url,
                "allow_private_callbacks": True,
                "retry_scale": 0.001,
                "run_worker": True,
                # An outcome the worker could not record during the outage is retried this soon.
                "delivery_lease_seconds": 2,
            }
        ),
        tmp_path,
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def _during_outage(hub: httpx.AsyncClient, conversation_id: str) -> list[httpx.Response]:
    """A read and a write while the database is down: each answered at once, 5xx."""
    read = await hub.get(f"/conversations/{conversation_id}")
    write = await hub.post("/authentications", json=basic_authentication())
    return [read, write]


async def _readiness(root: str) -> tuple[int, dict[str, object]]:
    async with httpx.AsyncClient(base_url=root, timeout=REQUEST_TIMEOUT) as client:
        answer = await client.get("/health/ready")
    return answer.status_code, answer.json()


async def _ready_again(root: str, *, within: float) -> int:
    """/health/ready once the database is back: the service recovers by itself."""
    deadline = time.monotonic() + within
    status, _ = await _readiness(root)
    while status != 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        status, _ = await _readiness(root)
    return status


class TestPostgresRestart:
    async def test_requests_fail_cleanly_and_the_service_recovers(self, api, cluster):
        token = await tenant_token(api.settings)
        burst = Resending()
        with receiving() as customer, receiving() as bot, receiving() as agent:
            async with api_client(api.url, token) as hub:
                apps = await build_apps(hub, (customer, bot, agent))
                conversations = await start_conversations(hub, apps, CONVERSATIONS, burst)
                total = CONVERSATIONS * (1 + BATCHES * BATCH)
                sending = asyncio.create_task(
                    send_batches(hub, conversations, burst, batches=BATCHES, batch=BATCH)
                )
                try:
                    while burst.count < total // 3:
                        assert not sending.done(), sending.result()
                        await asyncio.sleep(0.005)
                    at_stop = burst.count
                    await asyncio.to_thread(cluster.stop)
                    probes = await _during_outage(hub, conversations[0])
                    outage_ready = await _readiness(api.url)
                    await asyncio.sleep(OUTAGE)
                    await asyncio.to_thread(cluster.start)
                    await sending
                finally:
                    if not sending.done():
                        sending.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await sending

                assert burst.count == total
                assert await _ready_again(api.url, within=30) == 200
                await assert_stored_once(hub, burst)
                began = time.monotonic()
                await wait_for_all(bot, set(burst.conversation_of), accepted_status, within=120)
                took = time.monotonic() - began
                await asyncio.sleep(0.5)
                arrivals = Arrivals.of(burst, bot.requests, accepted_status)
        codes = sorted({body.get("code") for _, body in burst.failures if isinstance(body, dict)})
        summary = (
            f"{burst.count} messages in {len(burst.accepted)} conversations; database down "
            f"{OUTAGE:.0f} s from {at_stop} accepted on: "
            f"{len(burst.failures)} requests answered 5xx {codes}, {burst.unanswered} unanswered, "
            f"{burst.hangs} hung; all delivered {took:.1f} s after the burst; "
            f"{len(bot.requests)} callbacks, {arrivals.duplicates()} duplicates"
        )
        print(summary)
        assert outage_ready[0] == 503, outage_ready
        checks = outage_ready[1]["checks"]
        assert isinstance(checks, dict), outage_ready
        assert str(checks["database"]).startswith("unreachable"), outage_ready
        for probe in probes:
            assert probe.status_code >= 500, probe.text
            assert is_error_common(probe.json()), probe.text
        assert burst.failures, summary  # the outage was met by the burst
        assert all(s >= 500 and is_error_common(body) for s, body in burst.failures), summary
        assert burst.hangs == 0, summary
        assert arrivals.foreign == 0, summary
        assert arrivals.order_problems(burst) == [], summary
