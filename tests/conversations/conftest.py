"""A hub that delivers: a server process with its worker, allowed to call back receivers on
loopback, with minutes and retry delays shortened; and three receiving applications."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event as sql_events

from convhub.app import create_app
from tests.conftest import API_BASE
from tests.factories import (
    account,
    channel,
    client_application,
    create,
    orchestration,
    participant,
    role,
)
from tests.receivers import Receiver, receiving
from tests.server import server_process

# One conversation minute lasts this many seconds in these tests.
MINUTE = 0.2


@pytest.fixture(scope="session")
def hub_settings(settings):
    return settings.model_copy(
        update={
            "allow_private_callbacks": True,
            "minute_seconds": MINUTE,
            "retry_scale": 0.001,
            # Not much shorter: a probe of a test's receiver, gone once the test ended, could reach
            # a later test's receiver on the same port.
            "breaker_probe_seconds": 2.0,
            "run_worker": True,
        }
    )


@pytest.fixture(scope="session")
def hub_url(hub_settings, tmp_path_factory) -> Iterator[str]:
    with server_process(hub_settings, log_path=tmp_path_factory.mktemp("hub") / "hub.log") as url:
        yield url


def hub_client(url: str, api: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client of the hub server at ``url`` as ``api``'s tenant (same token, same database)."""
    return httpx.AsyncClient(base_url=url + API_BASE, headers=api.headers, timeout=30)


@pytest.fixture
async def hub(hub_url, api) -> AsyncIterator[httpx.AsyncClient]:
    """The API of the delivering hub, as ``api``'s tenant."""
    async with hub_client(hub_url, api) as client:
        yield client


@dataclass
class Apps:
    customer: Receiver
    bot: Receiver
    agent: Receiver
    channel_type: str
    address: str
    account: str
    orchestration: str
    entry_point: str

    def start(self, text: str = "Hello", **extra: Any) -> dict[str, Any]:
        """A customer's first message, starting a conversation on the account."""
        message = {
            "type": {"value": "text"},
            "content": {"text": text},
            "sender": {"type": "customer", "participant": {"name": "John"}},
            "conversation": {
                "account": {"channel": {"type": self.channel_type}, "address": self.address},
                "customer": {"name": "John smith", "type": "individual"},
            },
        }
        message.update(extra)
        return message


def say(conversation_id: str, sender: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
    message = {
        "type": {"value": "text"},
        "content": {"text": text},
        "sender": {"type": sender, "participant": {"name": sender}},
        "conversation": {"id": conversation_id},
    }
    message.update(extra)
    return message


def event(conversation_id: str, sender: str, kind: str, **extra: Any) -> dict[str, Any]:
    message = {
        "type": {"value": kind},
        "sender": {"type": sender, "participant": {"name": sender}},
        "conversation": {"id": conversation_id},
    }
    message.update(extra)
    return message


async def send(hub: httpx.AsyncClient, *messages: dict[str, Any]) -> dict[str, Any]:
    answer = await hub.post(
        "/conversations/messages", json={"messages": {"message": list(messages)}}
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


async def received(receiver: Receiver, count: int, *, within: float = 15) -> list[Any]:
    """The JSON bodies of the first ``count`` callbacks, waiting for them to arrive."""
    deadline = time.monotonic() + within
    while len(receiver.requests) < count:
        assert time.monotonic() < deadline, f"{len(receiver.requests)} of {count} callbacks"
        await asyncio.sleep(0.02)
    return [r.json() for r in receiver.requests[:count]]


def only(body: dict[str, Any]) -> dict[str, Any]:
    """The single message of a callback body."""
    [message] = body["messages"]["message"]
    return message


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver, Receiver]]:
    with receiving() as customer, receiving() as bot, receiving() as agent:
        yield customer, bot, agent


async def build_apps(
    api: httpx.AsyncClient,
    receivers: tuple[Receiver, Receiver, Receiver],
    *,
    with_bot: bool = True,
    chat: dict[str, Any] | None = None,
    bypass_minutes: float | None = None,
    channel_body: dict[str, Any] | None = None,
) -> Apps:
    customer_rx, bot_rx, agent_rx = receivers

    def callback_role(name: str, receiver: Receiver) -> dict[str, Any]:
        return role(name, callback=f"{receiver.url}/{name}")

    customer = await create(
        api, "/clientapplications", client_application(callback_role("customer", customer_rx))
    )
    bot = await create(
        api, "/clientapplications", client_application(callback_role("custom_bot", bot_rx))
    )
    agent = await create(
        api, "/clientapplications", client_application(callback_role("custom_agent", agent_rx))
    )
    bot_participant = await create(api, "/participants", participant(bot, name="eva"))
    chan_body = channel_body or channel()
    chan = await create(api, "/channels", chan_body)
    orch_body = orchestration(
        bot_app=bot if with_bot else None,
        bot_participant=bot_participant if with_bot else None,
        agent_app=agent,
        customer_app=customer,
    )
    if bypass_minutes is not None:
        orch_body["applications"]["botConfiguration"]["bypassVaDuration"] = bypass_minutes
    orch = await create(api, "/orchestrations", orch_body)
    acct_body = account(channel_id=chan, orchestration_id=orch)
    acct_body["chatConfigurations"].update(chat or {})
    acct = await create(api, "/accounts", acct_body)
    return Apps(
        customer_rx,
        bot_rx,
        agent_rx,
        chan_body["type"],
        acct_body["address"],
        acct,
        orch,
        acct_body["chatConfigurations"]["entryPoint"]["id"],
    )


@pytest.fixture
async def apps(hub, receivers) -> Apps:
    # Created through the hub: it allows callbacks on loopback, the default server does not.
    return await build_apps(hub, receivers)


@dataclass
class InProcess:
    """The API in this process, and what it sends to the database."""

    client: httpx.AsyncClient
    # SQL statements, as SQLAlchemy executes them.
    statements: list[str]
    # PostgreSQL: every query asyncpg sends, BEGIN included (SQLAlchemy does not show it).
    driver_queries: list[str]


@pytest.fixture
async def in_process(hub_settings, hub) -> AsyncIterator[InProcess]:
    """The API in this process (no worker) on the hub's database, as the hub's tenant."""
    app = create_app(hub_settings.model_copy(update={"run_worker": False}))
    statements: list[str] = []
    driver_queries: list[str] = []
    logged: list[Any] = []  # the driver connections with our query logger

    def on_statement(*args: Any) -> None:
        statements.append(args[2])

    def on_checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        driver = record.driver_connection
        if hasattr(driver, "add_query_logger") and not any(d is driver for d in logged):
            logged.append(driver)
            driver.add_query_logger(lambda query: driver_queries.append(query.query))

    async with app.router.lifespan_context(app):
        engine = app.state.runtime.db.engine.sync_engine
        sql_events.listen(engine, "before_cursor_execute", on_statement)
        sql_events.listen(engine.pool, "checkout", on_checkout)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub" + API_BASE, headers=hub.headers
        ) as client:
            yield InProcess(client, statements, driver_queries)
        sql_events.remove(engine, "before_cursor_execute", on_statement)
        sql_events.remove(engine.pool, "checkout", on_checkout)
