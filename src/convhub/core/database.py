"""Engines, sessions and column types for SQLite and PostgreSQL, kept in lockstep.

A :class:`Database` is built in the application's lifespan (or by the command line), never at
import. Requests get a session from :meth:`Database.session`; the request owns the transaction
and commits once, at the edge (see ``core/dependencies.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

from convhub.core import sqlite_driver

# PostgreSQL: seconds to open a connection, to run one statement of a request or of the worker,
# and to wait for a pooled connection. Far above what a healthy server needs, they bound how long
# an outage can hold a request (tests/faults/test_postgres_restart.py).
_CONNECT_TIMEOUT = 5.0
_STATEMENT_TIMEOUT = 30.0
_POOL_TIMEOUT = 10.0
# PostgreSQL: connections for statements that reach every row by an index (Database.session's
# ``by_index``): the worker's claim and the batches of outcomes it writes at once.
_BY_INDEX_POOL = 6
# Their settings. Each statement planned once, for any parameters (a generic plan), not at each
# run; and no plan that reads a table or an index whole, however small the table was when the
# statement was planned (no statistics yet, or autovacuum off): a sequential scan, a hash or
# merge join; nor a bitmap scan, which reads the index entries of rows no longer there without
# marking them, so that every later scan reads them again until a vacuum (an index scan marks
# them). Each is a cost penalty, not a ban: a statement with no other way still runs (a table
# with no index for it). No JIT compilation: such a penalty makes the plan look costly enough
# for it (58 ms to compile the probes' statement of a table of one row).
BY_INDEX_SETTINGS = {
    "jit": "off",
    "plan_cache_mode": "force_generic_plan",
    "enable_seqscan": "off",
    "enable_bitmapscan": "off",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
}

# A pooled PostgreSQL connection unused for longer than this is checked (one round trip) before a
# request or the worker gets it; one used more recently is taken as it is (see _ping_when_idle).
_PING_AFTER_IDLE = 5.0

# Execution option read by the SQLite "begin" hook: which kind of transaction to open.
_BEGIN_MODE = "convhub_sqlite_begin"


def utcnow() -> datetime:
    """Now, in UTC, to the millisecond: the precision the API shows and compares (`modified`)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that refuses naive datetimes and always comes back timezone-aware UTC.

    SQLite has no timezone type, so values are normalised to UTC on the way in and tagged UTC on
    the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # We issue BEGIN ourselves (see _sqlite_begin); pysqlite's implicit transactions would
    # otherwise start them late and break SAVEPOINT and write-lock ordering.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer and the writer never blocks readers.
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before we answer, so an acknowledged write survives power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Several processes share the file: wait for the write lock instead of failing at once.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Write transactions take the write lock up front (BEGIN IMMEDIATE): a deferred transaction
    # that reads, then writes after another writer committed, fails with SQLITE_BUSY_SNAPSHOT
    # without waiting. Read-only sessions stay DEFERRED so they never queue behind writers.
    mode = conn.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
    # Sent with the transaction's first statement, not in a trip of its own (every SQLite
    # engine is create_engine's, on sqlite_driver).
    driver = cast(sqlite_driver.OneHopConnection, conn.connection.dbapi_connection)
    driver.begin_with_next_statement(f"BEGIN {mode}")


def create_engine(
    url: str,
    *,
    pool_size: int = 20,
    statement_timeout: float | None = None,
    server_settings: dict[str, str] | None = None,
) -> AsyncEngine:
    """The engine for ``url``; ``statement_timeout`` (seconds, PostgreSQL) bounds each statement
    (none for migrations, whose statements may rightly take long); ``server_settings``
    (PostgreSQL): settings of each connection."""
    if is_sqlite(url):
        engine = create_async_engine(
            url,
            connect_args={"timeout": 30},
            module=sqlite_driver.dbapi(),
            # Each connection has a thread of its own (aiosqlite): the most recently used one
            # is taken again, not each in turn (measured: 0.48 ms of SQLite thread CPU per
            # message on one thread, 0.5 ms spread over four, with more wakeups).
            pool_use_lifo=True,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    engine = create_async_engine(
        url,
        # Every connection opened is kept: overflow connections (closed when returned to a
        # pool with as many idle) were opened and closed again by the hundred under a steady
        # load, each a TCP connection, authentication and a server process.
        pool_size=pool_size,
        max_overflow=0,
        # A request waits this long at most for a free pooled connection, then answers 500.
        pool_timeout=_POOL_TIMEOUT,
        # While the server is away, requests fail fast instead of hanging: asyncpg's own
        # connect timeout is a minute, and a statement has none.
        connect_args={
            "timeout": _CONNECT_TIMEOUT,
            "command_timeout": statement_timeout,
            "server_settings": server_settings or {},
        },
    )
    event.listen(engine.sync_engine.pool, "checkin", _idle_from)
    event.listen(engine.sync_engine.pool, "checkout", _ping_when_idle)
    return engine


def _idle_from(_dbapi_connection: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_when_idle(
    _dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object
) -> None:
    """Check a connection that sat unused in the pool before it is handed out: the server may
    have dropped it meanwhile (a restart, an idle timeout). A failed check makes the pool
    discard it and take another.

    Not ``pool_pre_ping``: that checks every checkout, and with asyncpg in three round trips
    (BEGIN, ``;``, ROLLBACK), a fifth of the service's CPU per request. A connection in use
    moments ago needs no check; should the server have gone away since, the request's first
    statement fails (a 5xx, never a hang), and SQLAlchemy, seeing a disconnect, discards every
    connection of the pool at once (tests/faults/test_postgres_restart.py)."""
    since = record.info.get("idle_since")
    driver = record.driver_connection
    if since is None or driver is None or time.monotonic() - since < _PING_AFTER_IDLE:
        return
    try:
        await_only(driver.execute("SELECT 1"))
    except Exception as exc:
        raise DisconnectionError("the server dropped an idle connection") from exc


class Database:
    """The engine and the two session factories of one process."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size, statement_timeout=_STATEMENT_TIMEOUT)
        writer = self.engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
        self._write = async_sessionmaker(writer, expire_on_commit=False)
        self._read = async_sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL: each statement commits on its own (no BEGIN, no COMMIT: two round trips
        # fewer), for work whose writes are each one atomic statement (the worker's claim).
        autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._autocommit = (
            None if is_sqlite(url) else async_sessionmaker(autocommit, expire_on_commit=False)
        )
        # PostgreSQL: statements without a transaction on connections of their own, planned to
        # reach every row by an index (see :meth:`session`). Opens no connection until used.
        self._by_index_engine = (
            None
            if is_sqlite(url)
            else create_engine(
                url,
                pool_size=_BY_INDEX_POOL,
                statement_timeout=_STATEMENT_TIMEOUT,
                server_settings=BY_INDEX_SETTINGS,
            )
        )
        self._by_index = (
            None
            if self._by_index_engine is None
            else async_sessionmaker(
                self._by_index_engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )
        )
        # SQLite has one writer at a time and its busy handler polls instead of queueing: under
        # a burst, one waiting transaction can lose the race for longer than the busy timeout.
        # Within a process, writers take turns here first (first come, first served).
        self._write_turn = asyncio.Lock() if is_sqlite(url) else None

    @property
    def autocommits(self) -> bool:
        """Whether ``session(transaction=False)`` is without a transaction (PostgreSQL)."""
        return self._autocommit is not None

    @asynccontextmanager
    async def session(
        self, *, write: bool = True, transaction: bool = True, by_index: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits when the block ends and rolls back on error.

        ``transaction=False``: on PostgreSQL, no transaction around the statements, each
        commits on its own; on SQLite, which needs its write lock taken up front, the same as
        ``transaction=True``.

        ``by_index`` (with ``transaction=False``, on PostgreSQL): on a connection of
        :data:`BY_INDEX_SETTINGS`, for statements whose rows an index finds whatever the table
        holds (by key, or the first few of an index in order): the worker's claim and the
        recording of its outcomes. PostgreSQL otherwise planned the recording anew at each run
        (0.4 ms, more than running it), and planned both, in a table without statistics, as
        bitmap scans of the due index, which read the entries of every delivery sent since the
        last vacuum (4,153 for one outcome). Other statements keep PostgreSQL's choices: these
        settings are per connection, hence a pool of their own."""
        if not transaction and by_index and self._by_index is not None:
            factory, turn = self._by_index, None
        elif not transaction and self._autocommit is not None:
            factory, turn = self._autocommit, None
        else:
            factory = self._write if write else self._read
            turn = self._write_turn if write else None
        async with turn or contextlib.nullcontext(), factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._by_index_engine is not None:
            await self._by_index_engine.dispose()
