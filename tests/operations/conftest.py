"""A delivering hub of this package's own, on a database of its own, with the retry window, the
circuit breaker and retry delays compressed, and SMTP to a mailbox on loopback (aiosmtpd).

Its own database: the session's delivering hub (tests/conversations) runs a worker with other
settings (a 24-hour window, another breaker threshold), which would take these tests' deliveries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from convhub.core.settings import Settings
from tests.apiclients import client_of
from tests.conftest import API_BASE
from tests.conversations.conftest import Apps, build_apps
from tests.conversations.test_notification_mail import Mailbox
from tests.databases import fresh_database
from tests.receivers import Receiver, receiving
from tests.server import free_port, server_process

OPERATIONS_BASE = "/convhub/v1"
# One retry window lasts this many seconds here (24 hours in production): long enough that the
# breaker test, on a busy machine, ends well within it. Retry delays are a hundredth of theirs,
# so the longest (Retry-After is capped at an hour) is 36 s, past the window.
WINDOW = 30.0
THRESHOLD = 3
PROBE = 0.5


@pytest.fixture(scope="session")
def ops_mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def ops_settings(
    settings: Settings, ops_mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with fresh_database(tmp_path_factory.mktemp("ops-db")) as url:
        yield settings.model_copy(
            update={
                "database_url": url,
                "allow_private_callbacks": True,
                "retry_scale": 0.01,
                "retry_window_seconds": WINDOW,
                "breaker_threshold": THRESHOLD,
                "breaker_probe_seconds": PROBE,
                # Few slots: a receiver that holds them would show at once.
                "worker_concurrency": 4,
                "run_worker": True,
                "smtp_host": "127.0.0.1",
                "smtp_port": ops_mailbox.port,
            }
        )


@pytest.fixture(scope="session")
def ops_url(ops_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with server_process(ops_settings, log_path=tmp_path_factory.mktemp("ops") / "hub.log") as url:
        yield url


@dataclass
class Tenant:
    api: httpx.AsyncClient  # eGain's API
    ops: httpx.AsyncClient  # ours, /convhub/v1


@pytest.fixture
async def make_tenant(
    ops_url: str, ops_settings: Settings
) -> AsyncIterator[Callable[..., Awaitable[Tenant]]]:
    """``await make_tenant(permissions=[...])``: a new tenant on this package's hub, with a
    client holding these permissions (all when not given)."""
    opened: list[httpx.AsyncClient] = []

    async def build(*, permissions: list[str] | None = None) -> Tenant:
        _, _, token = await client_of(ops_settings, permissions=permissions)
        headers = {"Authorization": f"Bearer {token}"}
        api = httpx.AsyncClient(base_url=ops_url + API_BASE, headers=headers, timeout=30)
        ops = httpx.AsyncClient(base_url=ops_url + OPERATIONS_BASE, headers=headers, timeout=30)
        opened.extend((api, ops))
        return Tenant(api, ops)

    yield build
    for client in opened:
        await client.aclose()


@pytest.fixture
async def tenant(make_tenant: Callable[..., Awaitable[Tenant]]) -> Tenant:
    """A new tenant on this package's hub, with a client holding every permission."""
    return await make_tenant()


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver, Receiver]]:
    with receiving() as customer, receiving() as bot, receiving() as agent:
        yield customer, bot, agent


@pytest.fixture
async def apps(tenant: Tenant, receivers: tuple[Receiver, Receiver, Receiver]) -> Apps:
    return await build_apps(tenant.api, receivers)


async def eventually(check: Any, *, within: float = 20.0) -> Any:
    """Polls ``await check()`` until it answers something true, and answers that."""
    deadline = time.monotonic() + within
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.05)


async def deliveries(ops: httpx.AsyncClient, message_id: str) -> dict[str, Any]:
    answer = await ops.get(f"/messages/{message_id}/deliveries")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def state_of(
    ops: httpx.AsyncClient, message_id: str, wanted: str, *, within: float = 20.0
) -> dict[str, Any]:
    """The message's single delivery once it is in state ``wanted``."""

    async def check() -> dict[str, Any] | None:
        [delivery] = (await deliveries(ops, message_id))["delivery"]
        return delivery if delivery["state"] == wanted else None

    return dict(await eventually(check, within=within))
