"""A continued conversation's message on PostgreSQL is accepted without a transaction: the
conversation read unlocked with its row's version, then one statement that writes only if the
row is still that version (conversations/sending.py). A conversation changed in between is read
again; what one statement cannot write is accepted under a transaction."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select, update

from convhub.conversations import repository, writes
from convhub.core.database import Database, utcnow
from convhub.models import Conversation, Message
from tests.conversations.conftest import event, only, received, say, send

pytestmark = pytest.mark.postgresql_only


def _began(queries: list[str]) -> bool:
    return any(q.strip().rstrip(";").upper() == "BEGIN" for q in queries)


async def _start(hub, apps) -> str:
    started = await send(hub, apps.start())
    return started["messages"]["message"][0]["conversation"]["id"]


async def test_a_continued_message_is_written_without_a_transaction(hub, apps, in_process):
    conversation = await _start(hub, apps)
    await send(in_process.client, say(conversation, "customer", "second"))
    in_process.statements.clear()
    in_process.driver_queries.clear()
    await send(in_process.client, say(conversation, "customer", "third"))
    assert not _began(in_process.driver_queries), in_process.driver_queries
    read, write = in_process.statements
    assert "FOR UPDATE" not in read
    assert "xmin" in read
    assert "xmin" in write  # the guard
    texts = [only(body)["content"]["text"] for body in await received(apps.bot, 3)]
    assert texts == ["Hello", "second", "third"]


async def test_a_resend_is_found_by_the_same_read(hub, apps, in_process):
    conversation = await _start(hub, apps)
    # The process's first message reads what it then keeps (API client, configuration).
    await send(in_process.client, say(conversation, "customer", "first"))
    message = say(conversation, "customer", "once", messageId="m-1")
    in_process.statements.clear()
    first = await send(in_process.client, message)
    assert len(in_process.statements) == 2  # the read (with the resend's look) and the write
    in_process.statements.clear()
    again = await send(in_process.client, message)
    assert len(in_process.statements) == 1  # the read found it: nothing written
    assert again == first
    view = (await hub.get(f"/conversations/{conversation}")).json()
    texts = [m["content"]["text"] for m in view["messages"]["message"]]
    assert texts == ["Hello", "first", "once"]


async def test_several_messages_in_one_request_are_one_transaction(hub, apps, in_process):
    conversation = await _start(hub, apps)
    in_process.driver_queries.clear()
    await send(
        in_process.client,
        say(conversation, "customer", "one"),
        say(conversation, "customer", "two"),
    )
    assert _began(in_process.driver_queries)
    texts = [only(body)["content"]["text"] for body in await received(apps.bot, 3)]
    assert texts == ["Hello", "one", "two"]


async def test_an_escalation_is_accepted_under_a_transaction_with_its_transcript(
    hub, apps, in_process
):
    await send(
        hub,
        {
            "type": {"value": "agent.available"},
            "sender": {"type": "custom_agent", "participant": {"name": "desk"}},
            "conversation": {"entryPoint": {"id": apps.entry_point}},
        },
    )
    conversation = await _start(hub, apps)
    in_process.statements.clear()
    in_process.driver_queries.clear()
    await send(in_process.client, event(conversation, "custom_bot", "escalation.transfer"))
    # Tried guarded first: the transcript needs more than one statement, so nothing was written
    # before the transaction.
    assert _began(in_process.driver_queries)
    [transfer] = [only(body) for body in await received(apps.agent, 1)]
    assert transfer["type"] == {"value": "escalation.transfer"}
    assert [m["content"]["text"] for m in transfer["conversation"]["messages"]["message"]] == [
        "Hello"
    ]
    view = (await hub.get(f"/conversations/{conversation}")).json()
    assert [m["type"]["value"] for m in view["messages"]["message"]] == [
        "text",
        "escalation.transfer",
    ]


async def test_a_write_guarded_by_a_stale_version_writes_nothing(hub, apps, hub_settings):
    conversation_id = await _start(hub, apps)
    db = Database(hub_settings.database_url)
    try:
        async with db.session(write=False) as session:
            where = {
                "tenant_id": await session.scalar(
                    select(Conversation.tenant_id).where(Conversation.id == conversation_id)
                ),
                "conversation_id": conversation_id,
            }
        async with db.session(transaction=False) as session:
            read = await repository.conversation_as_read(session, **where)
            assert read is not None
            conversation, version = read.conversation, read.row_version
            # Another writer of the conversation, after the read.
            async with db.session() as other:
                await other.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id)
                    .values(last_message_at=utcnow())
                )
            seq = conversation.next_seq
            conversation.next_seq += 1
            conversation.last_message_at = utcnow()
            message = _message(conversation, seq)
            written = await writes.write(
                session, conversation=conversation, message=message, deliveries=[], guard=version
            )
        assert written is False
        async with db.session(write=False) as session:
            stored = await session.scalar(
                select(func.count()).where(Message.conversation_id == conversation_id)
            )
            next_seq = await session.scalar(
                select(Conversation.next_seq).where(Conversation.id == conversation_id)
            )
        assert (stored, next_seq) == (1, seq)

        # The same write guarded by the version as it now is, is written.
        async with db.session(transaction=False) as session:
            read = await repository.conversation_as_read(session, **where)
            assert read is not None
            conversation, version = read.conversation, read.row_version
            conversation.next_seq += 1
            written = await writes.write(
                session,
                conversation=conversation,
                message=_message(conversation, seq),
                deliveries=[],
                guard=version,
            )
        assert written is True
    finally:
        await db.dispose()


def _message(conversation: Conversation, seq: int) -> Message:
    return Message(
        id=str(uuid.uuid4()),
        tenant_id=conversation.tenant_id,
        conversation_id=conversation.id,
        seq=seq,
        type="text",
        sender_type="customer",
        document={"content": {"text": "late"}},
        status="retained",
        created=utcnow(),
    )


async def test_concurrent_messages_to_one_conversation_are_each_stored_once_in_order(hub, apps):
    conversation = await _start(hub, apps)
    texts = [f"m{n}" for n in range(20)]
    answers = await asyncio.gather(
        *(send(hub, say(conversation, "customer", text, messageId=text)) for text in texts)
    )
    ids = {answer["messages"]["message"][0]["id"] for answer in answers}
    assert len(ids) == len(texts)
    view = (await hub.get(f"/conversations/{conversation}?$pagesize=50")).json()
    stored = [m["content"]["text"] for m in view["messages"]["message"]]
    assert stored[0] == "Hello"
    assert sorted(stored[1:]) == sorted(texts)
    # Delivered once each, in the conversation's order.
    bodies = await received(apps.bot, 1 + len(texts))
    assert [only(body)["content"]["text"] for body in bodies] == stored
    await asyncio.sleep(0.3)
    assert len(apps.bot.requests) == 1 + len(texts)
