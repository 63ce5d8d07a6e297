"""``Database.session(transaction=False)``: on PostgreSQL each statement commits on its own (no
BEGIN, no COMMIT round trips: the worker's claim); on SQLite, which takes its write lock up
front, it is an ordinary write transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.core.database import BY_INDEX_SETTINGS, Database


@pytest.fixture
async def table(database: Database) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:8]}"
    async with database.session() as session:
        await session.execute(text(f"CREATE TABLE {name} (v INTEGER NOT NULL)"))
    yield name
    async with database.session() as session:
        await session.execute(text(f"DROP TABLE {name}"))


async def _count(database: Database, table: str) -> int:
    async with database.session(write=False) as session:
        return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def _insert_then_fail(database: Database, table: str, **options: bool) -> None:
    async with database.session(transaction=False, **options) as session:
        await session.execute(text(f"INSERT INTO {table} (v) VALUES (1)"))
        await session.execute(text(f"INSERT INTO {table} (v) VALUES (NULL)"))


async def test_without_a_transaction_each_statement_stands_on_its_own(database, table):
    with pytest.raises(IntegrityError):
        await _insert_then_fail(database, table)
    kept = 1 if database.engine.dialect.name == "postgresql" else 0
    assert await _count(database, table) == kept


@pytest.mark.postgresql_only
async def test_by_index_settings_are_those_of_their_own_connections_only(database):
    """``by_index``: generic plans and no scans on those connections (the worker's claim and
    recording); every other session keeps PostgreSQL's own choices."""

    async def settings(session: AsyncSession) -> dict[str, str]:
        return {
            name: (await session.execute(text(f"SHOW {name}"))).scalar_one()
            for name in BY_INDEX_SETTINGS
        }

    async with database.session(transaction=False, by_index=True) as session:
        assert await settings(session) == BY_INDEX_SETTINGS
    for options in ({}, {"transaction": False}, {"write": False}):
        async with database.session(**options) as session:
            assert await settings(session) == {
                "jit": "on",
                "plan_cache_mode": "auto",
                "enable_seqscan": "on",
                "enable_bitmapscan": "on",
                "enable_hashjoin": "on",
                "enable_mergejoin": "on",
            }


async def test_by_index_without_a_transaction_stand_on_their_own(database, table):
    with pytest.raises(IntegrityError):
        await _insert_then_fail(database, table, by_index=True)
    kept = 1 if database.engine.dialect.name == "postgresql" else 0
    assert await _count(database, table) == kept
    async with database.session(transaction=False, by_index=True) as session:
        await session.execute(text(f"INSERT INTO {table} (v) VALUES (7)"))
    assert await _count(database, table) == kept + 1
