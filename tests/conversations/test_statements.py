"""How a message is written: a continued conversation's message costs one read (the
conversation, locked, with its tenant's configuration version) and then its writes, the
conversation's changes, the message and its delivery, as one statement (conversations/writes.py:
data-modifying CTEs on PostgreSQL, an INSERT into a view with an INSTEAD OF trigger on SQLite).
Each statement is a round trip, and on this path a round trip costs more than the work it
carries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import event

from convhub.app import create_app
from convhub.core.urls import API_BASE
from tests.conversations.conftest import only, received, say, send


@pytest.fixture
async def in_process(hub_settings, hub) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """The API in this process (no worker) on the hub's database, as the hub's tenant, and the
    SQL statements it executes."""
    app = create_app(hub_settings.model_copy(update={"run_worker": False}))
    statements: list[str] = []
    async with app.router.lifespan_context(app):
        engine = app.state.runtime.db.engine.sync_engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub" + API_BASE, headers=hub.headers
        ) as client:
            yield client, statements
        event.remove(engine, "before_cursor_execute", listener)


async def test_a_continued_message_is_one_read_and_its_writes(hub, apps, in_process):
    client, statements = in_process
    started = await send(hub, apps.start())
    conversation = started["messages"]["message"][0]["conversation"]["id"]
    # The first message of this process reads what it then keeps: the API client's state and
    # the tenant's configuration.
    await send(client, say(conversation, "customer", "second"))
    statements.clear()
    await send(client, say(conversation, "customer", "third"))
    assert len(statements) == 2, statements
    assert statements[0].lstrip().upper().startswith("SELECT")
    # Written whole: the hub's worker delivers them, in order, after the first.
    texts = [only(body)["content"]["text"] for body in await received(apps.bot, 3)]
    assert texts == ["Hello", "second", "third"]
