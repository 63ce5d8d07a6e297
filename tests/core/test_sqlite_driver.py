"""The SQLite driver (core/sqlite_driver.py): a statement is one trip to the connection's thread,
BEGIN goes with the transaction's first statement, and a commit or rollback with nothing to end
costs nothing; results, row counts, errors and rollbacks are what the DBAPI gives."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.core.database import Database
from convhub.core.sqlite_driver import OneHopConnection

pytestmark = pytest.mark.database_free


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.session() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
    yield database
    await database.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions sent to aiosqlite's connection threads, as they are sent."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_write_transaction_is_one_trip_per_statement_and_one_to_commit(db, hops):
    async with db.session() as session:
        await session.execute(text("INSERT INTO t (v) VALUES ('a')"))
        await session.execute(text("INSERT INTO t (v) VALUES ('b')"))
        rows = (await session.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert rows == ["a", "b"]
    # BEGIN IMMEDIATE went with the first INSERT; no cursor opened or closed on its own; the
    # pool's rollback of the returned connection had nothing to end.
    assert hops == ["_run", "_run", "_run", "commit"]


async def test_a_transaction_without_statements_costs_no_trip(db, hops):
    async with db.session():
        pass
    async with db.session(write=False):
        pass
    assert hops == []


async def test_results_row_counts_and_last_row_ids(db):
    async with db.session() as session:
        inserted = await session.execute(text("INSERT INTO t (v) VALUES ('x')"))
        assert inserted.lastrowid == 1
        await session.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "y"}, {"v": "z"}])
        updated = await session.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        result = await session.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "v"]
        assert [tuple(r) for r in result] == [(1, "x"), (2, "y!"), (3, "z!")]
        assert (await session.execute(text("SELECT v FROM t WHERE id = 9"))).first() is None


async def _in_one_transaction(db: Database, *statements: str) -> None:
    async with db.session() as session:
        for statement in statements:
            await session.execute(text(statement))


async def test_a_failed_statement_rolls_the_whole_transaction_back(db):
    first, again = (
        "INSERT INTO t (id, v) VALUES (1, 'kept?')",
        "INSERT INTO t (id, v) VALUES (1, 'x')",
    )
    with pytest.raises(IntegrityError):
        await _in_one_transaction(db, first, again)
    async with db.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
        await session.execute(text("INSERT INTO t (id, v) VALUES (1, 'later')"))
    async with db.session(write=False) as session:
        assert (await session.execute(text("SELECT v FROM t"))).scalar_one() == "later"


async def test_a_failing_first_statement_leaves_no_transaction_open(db):
    with pytest.raises(OperationalError):
        await _in_one_transaction(db, "INSERT INTO missing (v) VALUES ('x')")
    # The BEGIN that went with it was rolled back: the next transaction begins as usual.
    async with db.session() as session:
        await session.execute(text("INSERT INTO t (v) VALUES ('next')"))
    async with db.session(write=False) as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1


async def test_the_write_lock_is_taken_with_the_first_statement(db, tmp_path):
    """BEGIN IMMEDIATE still runs before the first statement: another connection (another
    process's) cannot write until this transaction ends."""
    other = sqlite3.connect(tmp_path / "driver.db", timeout=0.05, isolation_level=None)
    try:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free once it has ended
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_sessions_of_one_process_write_in_turn(db):
    async def add(n: int) -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": str(n)})

    await asyncio.gather(*(add(n) for n in range(50)))
    async with db.session(write=False) as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 50


async def test_a_failed_commit_is_rolled_back_and_releases_the_write_lock(db):
    """A deferred constraint fails the COMMIT itself, which leaves SQLite's transaction open:
    the rollback that follows must still reach the database."""
    statements = [
        "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
        "CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
    ]
    await _in_one_transaction(db, *statements)
    with pytest.raises(IntegrityError):
        await _in_one_transaction(
            db, "INSERT INTO t (v) VALUES ('lost')", "INSERT INTO child VALUES (1)"
        )
    async with db.session() as session:
        await session.execute(text("INSERT INTO t (v) VALUES ('kept')"))
    async with db.session(write=False) as session:
        assert (await session.execute(text("SELECT v FROM t"))).scalars().all() == ["kept"]


async def _hold(session: AsyncSession) -> None:
    driver = (await (await session.connection()).get_raw_connection()).dbapi_connection
    assert isinstance(driver, OneHopConnection)
    driver.hold_next_statement()


async def test_a_held_statement_goes_with_the_commit(db, hops):
    async with db.session() as session:
        await _hold(session)
        await session.execute(text("INSERT INTO t (v) VALUES ('held')"))
    assert hops == ["_commit"]  # BEGIN IMMEDIATE, the INSERT and COMMIT: one trip
    async with db.session(write=False) as session:
        assert (await session.execute(text("SELECT v FROM t"))).scalars().all() == ["held"]


async def test_a_held_statement_goes_before_the_next_one(db, hops):
    async with db.session() as session:
        await session.execute(text("INSERT INTO t (v) VALUES ('first')"))
        await _hold(session)
        await session.execute(text("INSERT INTO t (v) VALUES ('held')"))
        seen = (await session.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert seen == ["first", "held"]
    assert hops == ["_run", "_run", "commit"]


async def _held_failure(db: Database) -> None:
    async with db.session() as session:
        await session.execute(text("INSERT INTO t (id, v) VALUES (1, 'one')"))
        await _hold(session)
        await session.execute(text("INSERT INTO t (id, v) VALUES (1, 'again')"))


async def test_a_held_statement_that_fails_fails_the_commit_and_nothing_stays(db):
    with pytest.raises(IntegrityError):
        await _held_failure(db)
    async with db.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
        await session.execute(text("INSERT INTO t (v) VALUES ('after')"))
