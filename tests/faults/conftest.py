"""Fault injection (issue 6): the API process killed mid-burst, PostgreSQL restarted under load,
a receiver down for hours. Each test runs its own server process on a database of its own (a
fault must not reach the rest of the suite, and no other process may deliver its messages), and
sends a burst the way a careful client does: every message carries a ``messageId``, and a request
that got no answer, or a 5xx, is sent again until it is accepted (DECISIONS §6 makes that safe).

What the burst accepted is then checked against what was stored (each ``messageId`` exactly once)
and what the receiver got (every message, in order per conversation), with the machinery of
tests/delivery_processes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from convhub.core.settings import Settings
from tests.apiclients import client_of
from tests.conftest import API_BASE
from tests.conversations.conftest import Apps, say
from tests.delivery_processes.conftest import Burst
from tests.server import free_port, settings_env

# Restarting PostgreSQL needs a cluster of the test's own, which only a PostgreSQL run has: on
# SQLite the module is not collected at all rather than skipped (see delivery_processes).
ON_POSTGRESQL = os.environ.get("CONVHUB_TEST_DATABASE_URL", "").startswith("postgresql")
collect_ignore = [] if ON_POSTGRESQL else ["test_postgres_restart.py"]

# A client gives a request this long before it calls it unanswered: longer than anything the
# service may take, so a request cut off by it is a hang (asserted never to happen).
REQUEST_TIMEOUT = 20.0


class ApiProcess:
    """``convhub serve`` (uvicorn, with its delivery worker unless the settings say otherwise) on
    one loopback port that survives restarts, so clients keep their base URL across a kill."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.starts += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
        env.update(settings_env(self.settings))
        command = [sys.executable, "-m", "uvicorn", "--factory", "convhub.app:create_app"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        log = self.log_dir / f"api-{self.starts}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "--no-access-log"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the API process exited:\n{log.read_text()}")
            try:
                if httpx.get(self.url + "/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the API process did not start:\n{log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no clean-up, requests in flight cut off, as in a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def tenant_token(settings: Settings) -> str:
    """A token for a client with every permission in a new tenant of ``settings``' database."""
    _, _, token = await client_of(settings)
    return token


@asynccontextmanager
async def api_client(url: str, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=url + API_BASE,
        headers={"Authorization": f"Bearer {token}"},
        timeout=REQUEST_TIMEOUT,
    ) as client:
        yield client


# --- a burst that resends -----------------------------------------------------------------------


@dataclass
class Resending(Burst):
    """A :class:`Burst` whose requests were sent until accepted, and what the attempts met."""

    unanswered: int = 0  # requests cut off (connection refused or reset): sent again
    failures: list[tuple[int, Any]] = field(default_factory=list)  # each 5xx: status, body
    hangs: int = 0  # requests that outlived REQUEST_TIMEOUT
    resent_ids: set[str] = field(default_factory=set)  # messageIds sent more than once


async def post_until_accepted(
    hub: httpx.AsyncClient,
    messages: list[dict[str, Any]],
    burst: Resending,
    *,
    within: float = 120,
) -> list[dict[str, Any]]:
    """POST one batch until it is answered 202; every failed attempt is counted in ``burst``."""
    body = {"messages": {"message": messages}}
    began = time.monotonic()
    while True:
        try:
            answer = await hub.post("/conversations/messages", json=body)
        except httpx.TimeoutException:
            burst.hangs += 1
        except httpx.TransportError:
            burst.unanswered += 1
        else:
            if answer.status_code == 202:
                return list(answer.json()["messages"]["message"])
            assert answer.status_code >= 500, answer.text  # a 4xx would be our bug
            burst.failures.append((answer.status_code, _json_or_text(answer)))
        burst.resent_ids.update(m["messageId"] for m in messages)
        assert time.monotonic() - began < within, "a batch was never accepted"
        await asyncio.sleep(0.1)


def _json_or_text(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text


def first_message(apps: Apps, number: int) -> dict[str, Any]:
    """The message that starts the conversation of customer ``number``."""
    return apps.start(f"c{number} m0", messageId=f"c{number}-m0")


async def start_conversations(
    hub: httpx.AsyncClient, apps: Apps, count: int, burst: Resending, *, first: int = 0
) -> list[str]:
    """Start ``count`` conversations (numbered from ``first``), each start sent until accepted
    (a resent start opens no second conversation, DECISIONS §6), and record their first
    messages."""

    async def one(number: int) -> str:
        [accepted] = await post_until_accepted(hub, [first_message(apps, number)], burst)
        burst.accepted[accepted["conversation"]["id"]] = [accepted["id"]]
        return str(accepted["conversation"]["id"])

    return list(await asyncio.gather(*(one(n) for n in range(first, first + count))))


async def start_answers_lost(
    hub: httpx.AsyncClient, apps: Apps, count: int, burst: Resending, *, first: int = 0
) -> None:
    """Send the starts of ``count`` conversations once and drop the answers, as a client whose
    requests timed out after the hub committed them: start_conversations then resends them."""
    messages = [first_message(apps, n) for n in range(first, first + count)]
    await asyncio.gather(
        *(
            hub.post("/conversations/messages", json={"messages": {"message": [m]}})
            for m in messages
        )
    )
    burst.resent_ids.update(m["messageId"] for m in messages)


async def send_batches(
    hub: httpx.AsyncClient,
    conversations: list[str],
    burst: Resending,
    *,
    batches: int,
    batch: int,
    first: int = 1,
    at_once: int = 4,
    numbered_from: int = 0,
) -> None:
    """Each conversation's customer sends ``batches`` batches of ``batch`` messages (numbered
    from ``first`` in their ``messageId``, the conversations from ``numbered_from``), the
    conversations side by side (``at_once`` requests in flight), each one's batches in turn."""
    gate = asyncio.Semaphore(at_once)

    async def conversation(number: int, conversation_id: str) -> None:
        for b in range(batches):
            numbers = range(first + b * batch, first + (b + 1) * batch)
            messages = [
                say(conversation_id, "customer", f"c{number} m{i}", messageId=f"c{number}-m{i}")
                for i in numbers
            ]
            async with gate:
                accepted = await post_until_accepted(hub, messages, burst)
            assert [m["messageId"] for m in accepted] == [m["messageId"] for m in messages]
            burst.accepted[conversation_id].extend(m["id"] for m in accepted)

    await asyncio.gather(*(conversation(n, c) for n, c in enumerate(conversations, numbered_from)))


async def stored_messages(hub: httpx.AsyncClient, conversation_id: str) -> list[dict[str, Any]]:
    """Every message stored in a conversation, in order (GET /conversations/{id}, all pages)."""
    messages: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = await hub.get(
            f"/conversations/{conversation_id}", params={"$pagenum": page, "$pagesize": 200}
        )
        assert answer.status_code == 200, answer.text
        found = answer.json()["messages"].get("message", [])
        messages.extend(found)
        if len(found) < 200:
            return messages
        page += 1


async def assert_stored_once(hub: httpx.AsyncClient, burst: Burst) -> None:
    """Every accepted message is stored, once: one stored message per ``messageId``, the one
    whose id the 202 answered, in the order accepted."""
    for conversation_id, accepted in burst.accepted.items():
        stored = await stored_messages(hub, conversation_id)
        per_message_id = Counter(m.get("messageId") for m in stored)
        twice = {k: n for k, n in per_message_id.items() if n > 1}
        assert not twice, f"{conversation_id}: stored more than once: {twice}"
        assert [m["id"] for m in stored] == accepted, conversation_id


def is_error_common(body: Any) -> bool:
    """Whether ``body`` is a WSErrorCommon of a server error (``5xx-nnn``)."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("code"), str)
        and body["code"][:1] == "5"
        and isinstance(body.get("developerMessage"), str)
    )


def accepted_status(_: int) -> int:
    """The receivers of these tests answer every callback 202 once they are up."""
    return 202


StatusOf = Callable[[int], int]
