"""PostgreSQL: workers of other processes hear of new deliveries from the INSERT itself (a
statement trigger, migration 0008), so sendMessage sends no ``pg_notify`` of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from convhub.delivery.signal import CHANNEL
from tests.conversations.conftest import say, send

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
async def heard(hub_settings) -> AsyncIterator[asyncio.Queue[str]]:
    """The notifications a listener of another process receives, as they arrive."""
    url = make_url(hub_settings.database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    queue: asyncio.Queue[str] = asyncio.Queue()
    await connection.add_listener(CHANNEL, lambda *args: queue.put_nowait(args[2]))
    try:
        yield queue
    finally:
        await connection.close()


async def test_a_started_conversation_notifies_at_commit(hub, apps, heard):
    await send(hub, apps.start())
    assert await asyncio.wait_for(heard.get(), 10) == CHANNEL


async def test_a_continued_conversation_notifies_at_commit(hub, apps, heard):
    started = await send(hub, apps.start())
    conversation = started["messages"]["message"][0]["conversation"]["id"]
    await asyncio.wait_for(heard.get(), 10)
    await send(hub, say(conversation, "customer"))
    assert await asyncio.wait_for(heard.get(), 10) == CHANNEL


async def test_the_trigger_is_on_the_deliveries_table(database):
    async with database.session(write=False) as session:
        found = await session.execute(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'deliveries'::regclass"
                " AND NOT tgisinternal"
            )
        )
        assert [row[0] for row in found] == ["deliveries_notify"]
