"""A message's writes on SQLite (conversations/writes.py): the one statement through the view and
its trigger writes exactly what the three plain statements write: only the conversation's
changed columns, the message, and its delivery when it has one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from convhub.conversations import writes
from convhub.core.database import Database, utcnow
from convhub.models import Base, Conversation, Delivery, Message, Tenant

pytestmark = pytest.mark.database_free

NOW = utcnow()


async def _database(path: Path, *, view: bool) -> Database:
    db = Database(f"sqlite+aiosqlite:///{path}")
    if view:
        writes.install(db)
    async with db.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with db.session() as session:
        session.add(Tenant(id="t", name="t", signing_secret="s", created=NOW))
    async with db.session() as session:
        session.add(
            Conversation(
                id="c",
                tenant_id="t",
                account_id="a",
                orchestration_id="o",
                entry_point_id="e",
                state="bot",
                language="en-US",
                document={"customer": {"name": "John"}},
                next_seq=3,
                created=NOW,
                last_message_at=NOW,
                expires_at=NOW + timedelta(minutes=5),
            )
        )
    return db


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[dict[str, Database]]:
    both = {
        "view": await _database(tmp_path / "view.db", view=True),
        "plain": await _database(tmp_path / "plain.db", view=False),
    }
    yield both
    for db in both.values():
        await db.dispose()


def _message(seq: int) -> Message:
    return Message(
        id=f"m{seq}",
        tenant_id="t",
        conversation_id="c",
        seq=seq,
        message_id=None,
        type="text",
        sender_type="customer",
        document={"content": {"text": f"hello {seq}"}},
        status="retryInProgress",
        created=NOW,
    )


def _delivery(message: Message) -> Delivery:
    return Delivery(
        id=f"d{message.seq}",
        tenant_id="t",
        message_id=message.id,
        conversation_id="c",
        seq=message.seq,
        recipient_app_id="bot-app",
        recipient_role="bot",
        payload=json.dumps({"messages": {"message": [message.document]}}),
        state="pending",
        attempts=0,
        next_attempt_at=NOW,
        deadline=NOW + timedelta(days=1),
        created=NOW,
    )


Change = Callable[[Conversation], None]


async def _write(db: Database, change: Change, *, delivered: bool) -> None:
    async with db.session() as session:
        conversation = (
            await session.execute(select(Conversation).where(Conversation.id == "c"))
        ).scalar_one()
        message = _message(conversation.next_seq)
        change(conversation)
        conversation.next_seq += 1
        deliveries = [_delivery(message)] if delivered else []
        await writes.write(
            session, conversation=conversation, message=message, deliveries=deliveries
        )


async def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    async with db.session(write=False) as session:
        return {
            table: [tuple(r) for r in await session.execute(text(f"SELECT * FROM {table}"))]
            for table in ("conversations", "messages", "deliveries")
        }


def _escalate(conversation: Conversation) -> None:
    conversation.state, conversation.escalated_at = "agent", NOW
    conversation.expires_at = NOW + timedelta(minutes=9)


def _complete(conversation: Conversation) -> None:
    conversation.status, conversation.completed = "completed", NOW


def _nothing(_conversation: Conversation) -> None:
    pass


def _touch(conversation: Conversation) -> None:
    conversation.document = {**conversation.document, "language": "fr-FR"}


@pytest.mark.parametrize(
    ("changes", "delivered"),
    [
        ([_escalate], True),
        ([_touch, _complete], False),  # a retained message: no delivery
        ([_nothing], True),  # next_seq alone
    ],
)
async def test_the_view_writes_what_the_plain_statements_write(databases, changes, delivered):
    for db in databases.values():
        for change in changes:
            await _write(db, change, delivered=delivered)
    written = await _rows(databases["view"])
    assert written == await _rows(databases["plain"])
    assert len(written["messages"]) == len(changes)
    assert len(written["deliveries"]) == (len(changes) if delivered else 0)


async def test_one_statement_where_the_view_is_installed_three_elsewhere(databases):
    written: dict[str, list[str]] = {}
    for name, db in databases.items():
        seen = written[name] = []

        def record(*args: Any, seen: list[str] = seen) -> None:
            words = args[2].split()
            seen.append(" ".join(words[:3] if words[0] == "INSERT" else words[:2]))

        event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        await _write(db, _escalate, delivered=True)
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert written == {
        "view": ["SELECT conversations.id,", "INSERT INTO convhub_message_writes"],
        "plain": [
            "SELECT conversations.id,",
            "UPDATE conversations",
            "INSERT INTO messages",
            "INSERT INTO deliveries",
        ],
    }
