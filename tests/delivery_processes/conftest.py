"""Delivery across processes (DECISIONS §8): an API server without a worker, and
``convhub worker`` processes that the tests start, kill and restart, sending a burst of customer
messages to a bot receiver on loopback.

These tests use a database of their own: the session database may be served by other delivering
processes (the conversation tests' hub keeps its worker until the session ends), and a worker
there would deliver these tests' messages too, so killing "the" worker would prove nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from convhub.core.database import Database
from convhub.core.settings import Settings
from tests.apiclients import client_of
from tests.conftest import API_BASE
from tests.conversations.conftest import Apps, build_apps, say
from tests.databases import fresh_database
from tests.receivers import Received, Receiver, receiving
from tests.server import server_process, settings_env

# Two workers sharing one database is a PostgreSQL feature (FOR UPDATE SKIP LOCKED, LISTEN): on
# SQLite the module is not collected at all rather than skipped, so a SQLite run leaves no
# skipped test behind that could hide a real skip elsewhere.
ON_POSTGRESQL = os.environ.get("CONVHUB_TEST_DATABASE_URL", "").startswith("postgresql")
collect_ignore = [] if ON_POSTGRESQL else ["test_two_workers.py"]

CONVERSATIONS = 50
BATCHES = 2  # of 10 messages, after each conversation's first message: 21 messages each
BATCH = 10
SENDING_AT_ONCE = 4
RESENDS = 5  # tries of a request answered 5xx


@pytest.fixture(scope="module")
def processes_settings(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """The suite's settings on a fresh database, callbacks to loopback allowed, retries
    almost immediate, and no worker inside the API server."""
    with fresh_database(tmp_path_factory.mktemp("processes-db")) as url:
        yield settings.model_copy(
            update={
                "database_url": url,
                "allow_private_callbacks": True,
                "retry_scale": 0.001,
                "run_worker": False,
            }
        )


@pytest.fixture(scope="module")
def api_url(
    processes_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("api") / "api.log"
    with server_process(processes_settings, log_path=log) as url:
        yield url


@pytest.fixture
async def hub(api_url: str, processes_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API server, as a client with every permission in a new tenant."""
    _, _, token = await client_of(processes_settings)
    async with httpx.AsyncClient(
        base_url=api_url + API_BASE, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture
async def apps(hub: httpx.AsyncClient) -> AsyncIterator[Apps]:
    """Customer, bot and agent applications; customer messages go to the bot's receiver."""
    with receiving() as customer, receiving() as bot, receiving() as agent:
        yield await build_apps(hub, (customer, bot, agent))


class WorkerProcess:
    """One ``convhub worker`` process, its stdout and stderr (JSON log lines) in ``log``."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
        env.update(settings_env(settings))
        env["PYTHONUNBUFFERED"] = "1"  # the log file shows what happened up to a SIGKILL
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "convhub.cli", "worker"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up, leases left behind, as in a crash."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def attempts(self) -> list[dict[str, Any]]:
        """The ``delivery_attempt`` log lines written so far."""
        *lines, _unfinished = self.log.read_text(errors="replace").split("\n")
        entries = [json.loads(line) for line in lines if '"delivery_attempt"' in line]
        return [entry for entry in entries if entry.get("event") == "delivery_attempt"]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[Settings], WorkerProcess]]:
    """Starts worker processes (``workers(settings)``); every one is stopped when the test ends,
    whatever happened."""
    started: list[WorkerProcess] = []

    def start(settings: Settings) -> WorkerProcess:
        worker = WorkerProcess(settings, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


# --- the burst --------------------------------------------------------------------------------


@dataclass
class Burst:
    """What the API accepted: message ids in accepted order, per conversation."""

    accepted: dict[str, list[str]] = field(default_factory=dict)
    refused: int = 0  # requests answered 5xx or cut off, each sent again

    @property
    def conversation_of(self) -> dict[str, str]:
        return {m: c for c, ids in self.accepted.items() for m in ids}

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.accepted.values())


async def send_burst(hub: httpx.AsyncClient, apps: Apps) -> Burst:
    """Start :data:`CONVERSATIONS` conversations and send each :data:`BATCHES` batches of
    :data:`BATCH` messages, conversations side by side, each one's requests in turn.

    A request answered 5xx (or cut off) accepted nothing (its transaction rolled back), and it is
    sent again, as a client would: each message carries a ``messageId``, so a request that did
    commit before failing would not be stored twice (DECISIONS §6). On SQLite a burst can meet
    "database is locked" (a write waiting longer than the busy timeout); ``refused`` counts
    those."""
    burst = Burst()
    gate = asyncio.Semaphore(SENDING_AT_ONCE)

    async def post(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = {"messages": {"message": messages}}
        for attempt in range(1, RESENDS + 1):
            try:
                async with gate:
                    answer = await hub.post("/conversations/messages", json=body)
            except httpx.TransportError:
                # The server closes a connection after a 500 on it: a request that was on its
                # way over that connection is cut off, unanswered.
                if attempt == RESENDS:
                    raise
            else:
                if answer.status_code < 500:
                    break
            burst.refused += 1
            await asyncio.sleep(0.5)
        assert answer.status_code == 202, answer.text
        return list(answer.json()["messages"]["message"])

    async def conversation(number: int) -> None:
        [first] = await post([apps.start(f"c{number} m0", messageId=f"c{number}-m0")])
        conversation_id = first["conversation"]["id"]
        ids = burst.accepted[conversation_id] = [first["id"]]
        for batch in range(BATCHES):
            numbers = range(1 + batch * BATCH, 1 + (batch + 1) * BATCH)
            accepted = await post(
                [
                    say(conversation_id, "customer", f"c{number} m{i}", messageId=f"c{number}-m{i}")
                    for i in numbers
                ]
            )
            ids.extend(m["id"] for m in accepted)

    await asyncio.gather(*(conversation(n) for n in range(CONVERSATIONS)))
    return burst


def complete(request: Received) -> bool:
    """Whether the whole body arrived: a worker killed while sending leaves a torn request."""
    return len(request.body) == int(request.header("Content-Length") or -1)


def delivered_ids(requests: list[Received], statuses: Callable[[int], int]) -> set[str]:
    """Ids of the messages whose callback was answered 2xx (``statuses(i)``: the answer to the
    ``i``-th request)."""
    return {
        r.header("webhook-id") or ""
        for i, r in enumerate(requests)
        if statuses(i) // 100 == 2 and complete(r)
    }


async def wait_for_all(
    receiver: Receiver, wanted: set[str], statuses: Callable[[int], int], *, within: float
) -> float:
    """Until every id in ``wanted`` was delivered; returns the seconds it took."""
    began = time.monotonic()
    while True:
        missing = wanted - delivered_ids(receiver.requests, statuses)
        if not missing:
            return time.monotonic() - began
        if time.monotonic() - began > within:
            raise AssertionError(f"{len(missing)} of {len(wanted)} messages never delivered")
        await asyncio.sleep(0.1)


@dataclass
class Arrivals:
    """The callbacks of a burst, per conversation, in the order the receiver got them."""

    per_conversation: dict[str, list[tuple[str, int]]]  # (message id, status answered)
    foreign: int  # callbacks for messages not in the burst
    torn: int  # requests cut short by a killed worker

    @classmethod
    def of(cls, burst: Burst, requests: list[Received], statuses: Callable[[int], int]) -> Arrivals:
        conversation_of = burst.conversation_of
        per_conversation: dict[str, list[tuple[str, int]]] = defaultdict(list)
        foreign = torn = 0
        for i, request in enumerate(requests):
            if not complete(request):
                torn += 1
                continue
            message_id = request.header("webhook-id") or ""
            [message] = request.json()["messages"]["message"]
            assert message["id"] == message_id, "webhook-id is not the id of the message carried"
            if message_id not in conversation_of:
                foreign += 1
                continue
            assert message["conversation"]["id"] == conversation_of[message_id]
            per_conversation[conversation_of[message_id]].append((message_id, statuses(i)))
        return cls(dict(per_conversation), foreign, torn)

    def duplicates(self) -> int:
        """Successful deliveries beyond the first of each message."""
        delivered = [
            m for arrivals in self.per_conversation.values() for m, s in arrivals if 200 <= s < 300
        ]
        return len(delivered) - len(set(delivered))

    def order_problems(self, burst: Burst) -> list[str]:
        """Per conversation: any callback (attempt or success) for a message while an earlier
        one was not yet delivered, and first successful deliveries out of accepted order."""
        problems = []
        for conversation_id, accepted in burst.accepted.items():
            position = {m: i for i, m in enumerate(accepted)}
            done: set[str] = set()
            first: list[str] = []
            prefix = 0  # accepted[:prefix] all delivered
            for message_id, status in self.per_conversation.get(conversation_id, []):
                if position[message_id] > prefix:
                    problems.append(
                        f"{conversation_id}: message #{position[message_id]} ({message_id}) "
                        f"called back before #{prefix} ({accepted[prefix]}) was delivered"
                    )
                if 200 <= status < 300 and message_id not in done:
                    done.add(message_id)
                    first.append(message_id)
                    while prefix < len(accepted) and accepted[prefix] in done:
                        prefix += 1
            if first != accepted:
                problems.append(f"{conversation_id}: first deliveries in the order {first}")
        return problems


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A database of the test's own (the outbox tests count every row)."""
    with fresh_database(tmp_path) as url:  # migrates with an event loop of its own
        yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()
