"""SQLAlchemy's aiosqlite adapter with one trip to SQLite's thread per statement instead of
three or four.

aiosqlite runs each sqlite3 call on the connection's own thread and hands the result back to
the event loop. SQLAlchemy's adapter makes one such call per step of a statement: open a
cursor, execute, fetch the rows, close the cursor. Each call costs CPU and waits its turn on the
event loop to come back. SQLite has one writer at a time, and a write transaction holds the
write lock across every one of those waits. An accepted message took 17 trips (BEGIN, the read,
three writes, COMMIT, the pool's rollback); it now takes 3: the read with the BEGIN before it,
then its write with the COMMIT after it (:meth:`OneHopConnection.hold_next_statement`).

Here a statement's steps run together on the connection's thread, and the rows come back with
the description, the row count and the last row id. BEGIN goes with the transaction's first
statement, and a commit or rollback with nothing to end costs no trip. Connecting, terminating
and server-side cursors are SQLAlchemy's adapter as it is. This reaches into aiosqlite as
SQLAlchemy's own adapter does (``_execute``, ``_conn``); the aiosqlite version is pinned, and
tests/core/test_sqlite_driver.py covers what it relies on.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncIODBAPIConnection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import await_only, immutabledict

_Outcome = tuple[Any, list[Any] | None, int, int | None]
_Statement = tuple[str, Any]


def _before(cursor: sqlite3.Cursor, begin: str | None, held: list[_Statement]) -> None:
    if begin is not None:
        cursor.execute(begin)
    for operation, parameters in held:
        cursor.execute(operation, parameters)


def _run(
    raw: sqlite3.Connection,
    begin: str | None,
    held: list[_Statement],
    operation: str,
    parameters: Any,
    many: bool,
) -> _Outcome:
    """One statement, whole, on the connection's thread; after ``begin`` and the statements
    held back, if any."""
    cursor = raw.cursor()
    try:
        _before(cursor, begin, held)
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _commit(raw: sqlite3.Connection, begin: str | None, held: list[_Statement]) -> None:
    """The statements held back, then COMMIT, on the connection's thread."""
    cursor = raw.cursor()
    try:
        _before(cursor, begin, held)
    finally:
        cursor.close()
    raw.commit()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor (one hop to open, one to close): each statement opens its own
        # sqlite3 cursor on the thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = immutabledict()
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return cast(int, self._lastrowid)

    def execute(self, operation: Any, parameters: Any = None) -> None:
        adapted = cast(OneHopConnection, self._adapt_connection)
        if adapted._hold_next:
            # Sent with the transaction's next statement or its COMMIT: no rows, no count.
            adapted._hold_next, adapted._open = False, True
            adapted._held.append((operation, () if parameters is None else parameters))
            self._description, self._rowcount, self._lastrowid = None, -1, None
            self._rows.clear()
            return
        self._hop(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        self._hop(operation, seq_of_parameters, many=True)

    def _hop(self, operation: str, parameters: Any, *, many: bool) -> None:
        adapted = cast(OneHopConnection, self._adapt_connection)
        connection = cast(aiosqlite.Connection, self._connection)
        begin, adapted._begin, adapted._open = adapted._begin, None, True
        held, adapted._held, adapted._hold_next = adapted._held, [], False
        try:
            outcome: _Outcome = await_only(
                connection._execute(  # type: ignore[no-untyped-call]
                    _run, connection._conn, begin, held, operation, parameters, many
                )
            )
        except Exception as error:
            adapted._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows or ())

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """Also saves the trips of transaction control: BEGIN goes with the transaction's first
    statement, a statement held back goes with the COMMIT, and a commit or rollback with no
    statement since the last one (the pool's rollback when a committed connection is returned)
    costs nothing."""

    __slots__ = ("_begin", "_held", "_hold_next", "_open")

    def __init__(self, dbapi: Any, connection: AsyncIODBAPIConnection) -> None:
        super().__init__(dbapi, connection)
        # The BEGIN to run before the next statement; whether a statement ran since the last
        # commit or rollback (with isolation_level None, only then can a transaction be open).
        self._begin: str | None = None
        self._open = False
        # Statements held back (hold_next_statement), sent before the next one or the COMMIT.
        self._hold_next = False
        self._held: list[_Statement] = []

    _cursor_cls = OneHopCursor  # type: ignore[assignment]

    def begin_with_next_statement(self, begin: str) -> None:
        self._begin = begin

    def hold_next_statement(self) -> None:
        """Send the next statement (one that returns no rows, whose row count nobody reads)
        together with the one after it, or with the COMMIT: one trip fewer while the write lock
        is held. An error it raises is raised there."""
        self._hold_next = True

    def commit(self) -> None:
        begin, self._begin, self._hold_next = self._begin, None, False
        if not self._open:
            return
        held, self._held = self._held, []
        if held:
            connection = cast(aiosqlite.Connection, self._connection)
            try:
                await_only(
                    connection._execute(  # type: ignore[no-untyped-call]
                        _commit, connection._conn, begin, held
                    )
                )
            except Exception as error:
                self._handle_exception(error)
        else:
            super().commit()
        # Not before: a COMMIT that fails (a deferred constraint) leaves the transaction open,
        # and the rollback that follows must then run.
        self._open = False

    def rollback(self) -> None:
        self._begin, self._hold_next, self._held = None, False, []
        if self._open:
            super().rollback()
            self._open = False


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Pass as ``module=`` to ``create_async_engine`` for a ``sqlite+aiosqlite`` URL."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
