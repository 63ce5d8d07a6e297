"""A message's writes in as few round trips as the database allows: the conversation's changes,
the message and its deliveries.

Each statement is a round trip, and on this path a round trip costs more CPU than the work it
carries (the driver, SQLAlchemy's execution and the event loop, per statement). Through the
ORM's unit of work the three writes were three statements. On PostgreSQL they go as one: data-
modifying CTEs (``WITH c AS (UPDATE conversations ...), m AS (INSERT INTO messages ...)
INSERT INTO deliveries ...``), whose foreign-key checks run at the end of the statement, after
every part has written. SQLite takes no DML in a CTE: three Core statements, still without the
unit of work.

The conversation stays the ORM object the accept path read and changed: its changed attributes
are read from its history, written here, and the object is then taken out of the session, so
that no flush writes them a second time. A later read in the same transaction (the next message
of a batch) reads the row again, as written.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, inspect, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Executable

from convhub.models import Conversation, Delivery, Message


def changes(conversation: Conversation) -> dict[str, Any]:
    """The conversation's attributes changed since it was read (or last flushed)."""
    state = inspect(conversation)
    return {
        attr.key: attr.value
        for attr in state.attrs
        if attr.key in state.mapper.column_attrs and attr.history.has_changes()
    }


def row(item: Message | Delivery) -> dict[str, Any]:
    """All columns of a new row, with the model's Python-side defaults for those left unset."""
    values: dict[str, Any] = {}
    for column in type(item).__table__.columns:
        value = getattr(item, column.key)
        default = column.default
        if value is None and default is not None and default.is_scalar:
            value = default.arg
        elif value is None and default is not None and default.is_callable:
            value = default.arg(None)
        values[column.key] = value
    return values


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


async def write(
    session: AsyncSession,
    *,
    conversation: Conversation,
    message: Message,
    deliveries: list[Delivery],
) -> None:
    """Write ``conversation``'s changes, the new ``message`` and its ``deliveries`` (none for a
    retained or skipped message), in one statement on PostgreSQL."""
    changed = changes(conversation)
    # Out of the session before any statement: an autoflush would write its changes first.
    session.expunge(conversation)
    parameters = {f"c_{key}": value for key, value in changed.items()}
    parameters["c_id_"] = conversation.id
    parameters.update({f"m_{key}": value for key, value in row(message).items()})
    for n, delivery in enumerate(deliveries):
        parameters.update({f"d{n}_{key}": value for key, value in row(delivery).items()})
    statements = _statements(
        one_statement=session.get_bind().dialect.name == "postgresql",
        changed=tuple(sorted(changed)),
        deliveries=len(deliveries),
    )
    for statement in statements:
        await session.execute(statement, parameters)
