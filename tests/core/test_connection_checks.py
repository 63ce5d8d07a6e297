"""PostgreSQL connections the server dropped (a restart, an idle timeout): one that sat idle in
the pool is checked before use and replaced; one used moments ago fails its request once, and
the pool then discards every connection it holds (core/database._ping_when_idle)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from convhub.core import database as database_module
from convhub.core.database import Database

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=1)
    yield database
    await database.dispose()


async def _backend(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(admin: Database, pid: int) -> None:
    async with admin.session() as session:
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_an_idle_dropped_connection_is_replaced_unnoticed(db, database, monkeypatch):
    monkeypatch.setattr(database_module, "_PING_AFTER_IDLE", 0.0)
    dropped = await _backend(db)
    await _terminate(database, dropped)
    assert await _backend(db) != dropped  # the check found it gone: no error


async def test_a_recently_used_dropped_connection_fails_once_then_the_pool_recovers(
    db, database, monkeypatch
):
    monkeypatch.setattr(database_module, "_PING_AFTER_IDLE", 3600.0)
    dropped = await _backend(db)
    await _terminate(database, dropped)
    with pytest.raises(DBAPIError) as failure:
        await _backend(db)
    assert failure.value.connection_invalidated
    assert await _backend(db) != dropped


async def test_a_live_idle_connection_is_kept(db, monkeypatch):
    monkeypatch.setattr(database_module, "_PING_AFTER_IDLE", 0.0)
    assert await _backend(db) == await _backend(db)
