"""A message's writes in as few round trips as the database allows: the conversation's changes,
the message and its deliveries.

Each statement is a round trip, and on this path a round trip costs more CPU than the work it
carries (the driver, SQLAlchemy's execution and the event loop, per statement). Through the
ORM's unit of work the three writes were three statements. On PostgreSQL they go as one: data-
modifying CTEs (``WITH c AS (UPDATE conversations ...), m AS (INSERT INTO messages ...)
INSERT INTO deliveries ...``), whose foreign-key checks run at the end of the statement, after
every part has written.

SQLite takes no DML in a CTE. There the one statement is an INSERT into a view whose INSTEAD OF
trigger makes the three writes (a row of the view carries the conversation's changed columns,
with a mask of which they are, the message and its delivery). The view and its trigger are
TEMP objects, made on each new connection from the models themselves (:func:`install`): they
live with the connection, need no migration, and cannot fall behind a new column. A connection
without them (a process that did not install them) and a message with several deliveries take
three Core statements, still without the unit of work. On SQLite the one statement goes to
SQLite together with the COMMIT (core/sqlite_driver.py: the write lock is held from the read to
the commit, and each trip to SQLite's thread waits its turn on the event loop).

The conversation stays the ORM object the accept path read and changed: its changed columns
are read from the ORM's record of what was set (``committed_state``), written here, and the
object is then taken out of the session, so that no flush writes them a second time. A later
read in the same transaction (the next message of a batch) reads the row again, as written.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    bindparam,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.expression import Executable, Insert

from convhub.conversations import repository
from convhub.core import sqlite_driver
from convhub.core.database import Database, is_sqlite
from convhub.models import Conversation, Delivery, Message

# The SQLite view a message's writes are inserted into; also the connection info key saying the
# connection has it.
_VIEW = "convhub_message_writes"
# Which part of a view row is which table's columns.
_PARTS = (("c_", Conversation), ("m_", Message), ("d_", Delivery))


def changes(conversation: Conversation) -> dict[str, Any]:
    """The conversation's columns set since it was read (or last flushed), with their values.

    Read from the ORM's record of the original values of what was set (``committed_state``),
    not by asking every attribute for its history: this runs for every message.
    """
    state = inspect(conversation)
    columns = state.mapper.column_attrs
    return {key: state.dict[key] for key in state.committed_state if key in columns}


def row(item: Message | Delivery) -> dict[str, Any]:
    """All columns of a new row, with the model's Python-side defaults for those left unset."""
    values = item.__dict__
    row: dict[str, Any] = {}
    for key, scalar, factory in _defaults(type(item)):
        value = values.get(key)
        if value is None:
            value = factory(None) if factory is not None else scalar
        row[key] = value
    return row


@functools.cache
def _defaults(model: type[Message | Delivery]) -> tuple[tuple[str, Any, Any], ...]:
    """Per column of ``model``: its key, its scalar default and its default factory."""
    plan = []
    for column in cast(Table, model.__table__).columns:
        default = cast(Any, column.default)  # a ColumnDefault when set
        scalar = default.arg if default is not None and default.is_scalar else None
        factory = default.arg if default is not None and default.is_callable else None
        plan.append((column.key, scalar, factory))
    return tuple(plan)


def _bound(table: Table, prefix: str, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: bindparam(f"{prefix}{key}", type_=table.c[key].type) for key in keys}


@functools.lru_cache(maxsize=64)
def _statements(
    *, one_statement: bool, changed: tuple[str, ...], deliveries: int
) -> tuple[Executable, ...]:
    """The statements for these changed columns and this many deliveries, built (and so
    compiled, once, into SQLAlchemy's cache) once per shape: values go as parameters."""
    conversations, messages, outbox = (
        cast(Table, model.__table__) for model in (Conversation, Message, Delivery)
    )
    conversation_update = (
        update(conversations)
        .where(conversations.c.id == bindparam("c_id_"))
        .values(_bound(conversations, "c_", changed))
    )
    message_insert = insert(messages).values(_bound(messages, "m_", tuple(messages.c.keys())))
    if not deliveries:
        return (conversation_update, message_insert)
    delivery_keys = tuple(outbox.c.keys())
    rows = [_bound(outbox, f"d{n}_", delivery_keys) for n in range(deliveries)]
    # One row as a plain VALUES: SQLAlchemy caches no multi-row VALUES (a message to a bot and
    # an agent at once is rare; it compiles each time).
    delivery_insert = insert(outbox).values(rows[0] if deliveries == 1 else rows)
    if one_statement:
        return (
            delivery_insert.add_cte(
                conversation_update.cte("conversation_written"),
                message_insert.cte("message_written"),
            ),
        )
    return (conversation_update, message_insert, delivery_insert)


@functools.lru_cache(maxsize=64)
def _guarded(changed: tuple[str, ...], delivery: bool) -> Executable:
    """PostgreSQL, one statement: the conversation's UPDATE only where its row is still the
    version read (``c_version_``), and the message and its delivery inserted only from the row
    it updated. Returns a row if it wrote, none if the conversation changed meanwhile."""
    conversations, messages, outbox = (
        cast(Table, model.__table__) for model in (Conversation, Message, Delivery)
    )
    written = (
        update(conversations)
        .where(
            conversations.c.id == bindparam("c_id_"),
            repository.ROW_VERSION == bindparam("c_version_"),
        )
        .values(_bound(conversations, "c_", changed))
        .returning(conversations.c.id)
        .cte("conversation_written")
    )

    def insert_from_written(table: Table, prefix: str) -> Insert:
        values = _bound(table, prefix, tuple(table.c.keys()))
        rows = select(*values.values()).select_from(written)
        return insert(table).from_select(list(values), rows).returning(table.c.id)

    message_insert = insert_from_written(messages, "m_")
    if not delivery:
        return message_insert.add_cte(written)
    message_written = message_insert.cte("message_written")
    return insert_from_written(outbox, "d0_").add_cte(written, message_written)


def _tables() -> tuple[Table, Table, Table]:
    return cast(tuple[Table, Table, Table], tuple(model.__table__ for _prefix, model in _PARTS))


@functools.cache
def _view() -> Table:
    """The view's columns, typed as the tables' (so that values are bound as they would be)."""
    columns = [Column("c_changed", Integer)]
    for prefix, table in zip((p for p, _m in _PARTS), _tables(), strict=True):
        columns += [Column(f"{prefix}{c.key}", c.type) for c in table.columns]
    return Table(_VIEW, MetaData(), *columns)


@functools.cache
def _mask(key: str) -> int:
    """The bit of the conversation's column ``key`` in the view's ``c_changed``."""
    conversations = _tables()[0]
    return 1 << list(conversations.c.keys()).index(key)


def sqlite_ddl() -> tuple[str, str]:
    """The TEMP view and its INSTEAD OF INSERT trigger."""
    conversations, messages, deliveries = _tables()
    view = _view()
    names = ", ".join(f"NULL AS {c.name}" for c in view.columns)
    assignments = ", ".join(
        f"{c.name} = CASE WHEN NEW.c_changed & {_mask(c.key)} THEN NEW.c_{c.key} ELSE {c.name} END"
        for c in conversations.columns
        if not c.primary_key
    )

    def insert_of(table: Table, prefix: str) -> str:
        columns = ", ".join(c.name for c in table.columns)
        values = ", ".join(f"NEW.{prefix}{c.key}" for c in table.columns)
        return f"INSERT INTO {table.name} ({columns}) SELECT {values}"

    trigger = (
        f"CREATE TEMP TRIGGER IF NOT EXISTS {_VIEW}_insert INSTEAD OF INSERT ON {_VIEW} BEGIN "
        f"UPDATE {conversations.name} SET {assignments} "
        "WHERE id = NEW.c_id AND NEW.c_changed <> 0; "
        f"{insert_of(messages, 'm_')}; "
        f"{insert_of(deliveries, 'd_')} WHERE NEW.d_id IS NOT NULL; "
        "END"
    )
    return f"CREATE TEMP VIEW IF NOT EXISTS {_VIEW} AS SELECT {names} WHERE 0", trigger


def _create_view(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    for statement in sqlite_ddl():
        cursor.execute(statement)
    cursor.close()
    record.info[_VIEW] = True


def install(db: Database) -> None:
    """On SQLite, give each new connection of ``db`` the view a message's writes go through."""
    if is_sqlite(db.url):
        event.listen(db.engine.sync_engine, "connect", _create_view)


@functools.lru_cache(maxsize=64)
def _view_insert(changed: tuple[str, ...], delivery: bool) -> Executable:
    """The INSERT for these changed columns, with or without a delivery. Columns left out of
    the INSERT are NULL in the trigger's NEW row, and no value is bound (nor serialized) for
    them."""
    wanted = {"c_changed", "c_id", *(f"c_{key}" for key in changed)}
    view = _view()
    columns = [
        c
        for c in view.columns
        if c.key in wanted or c.key.startswith("m_") or (delivery and c.key.startswith("d_"))
    ]
    return insert(view).values({c.key: bindparam(c.key, type_=c.type) for c in columns})


async def _write_view(
    session: AsyncSession,
    changed: dict[str, Any],
    conversation: Conversation,
    message: Message,
    delivery: Delivery | None,
) -> None:
    parameters = {f"c_{key}": value for key, value in changed.items()}
    parameters["c_changed"] = sum(_mask(key) for key in changed)
    parameters["c_id"] = conversation.id
    parameters.update({f"m_{key}": value for key, value in row(message).items()})
    if delivery is not None:
        parameters.update({f"d_{key}": value for key, value in row(delivery).items()})
    statement = _view_insert(tuple(sorted(changed)), delivery is not None)
    await session.execute(statement, parameters)


async def write(
    session: AsyncSession,
    *,
    conversation: Conversation,
    message: Message,
    deliveries: list[Delivery],
    guard: str | None = None,
) -> bool:
    """Write ``conversation``'s changes, the new ``message`` and its ``deliveries`` (none for a
    retained or skipped message), in one statement (three on a SQLite connection without the
    view, or for several deliveries).

    ``guard`` (PostgreSQL, at most one delivery): the version of the conversation's row as it
    was read without a lock; nothing is written, and the answer is False, if the row changed
    since."""
    changed = changes(conversation)
    # Out of the session before any statement: an autoflush would write its changes first.
    session.expunge(conversation)
    if guard is not None:
        if len(deliveries) > 1:
            raise ValueError("a guarded write takes one delivery at most")
        parameters = _parameters(changed, conversation, message, deliveries)
        parameters["c_version_"] = guard
        statement = _guarded(tuple(sorted(changed)), bool(deliveries))
        return (await session.execute(statement, parameters)).first() is not None
    connection = await session.connection()
    if len(deliveries) <= 1 and connection.info.get(_VIEW):
        delivery = deliveries[0] if deliveries else None
        # Sent with the COMMIT (or the request's next statement): see the module's docstring.
        driver = (await connection.get_raw_connection()).dbapi_connection
        cast(sqlite_driver.OneHopConnection, driver).hold_next_statement()
        await _write_view(session, changed, conversation, message, delivery)
        return True
    statements = _statements(
        one_statement=session.get_bind().dialect.name == "postgresql",
        changed=tuple(sorted(changed)),
        deliveries=len(deliveries),
    )
    parameters = _parameters(changed, conversation, message, deliveries)
    for statement in statements:
        await session.execute(statement, parameters)
    return True


def _parameters(
    changed: dict[str, Any],
    conversation: Conversation,
    message: Message,
    deliveries: list[Delivery],
) -> dict[str, Any]:
    """The values of :func:`_statements`' and :func:`_guarded`'s parameters."""
    parameters = {f"c_{key}": value for key, value in changed.items()}
    parameters["c_id_"] = conversation.id
    parameters.update({f"m_{key}": value for key, value in row(message).items()})
    for n, delivery in enumerate(deliveries):
        parameters.update({f"d{n}_{key}": value for key, value in row(delivery).items()})
    return parameters
