"""Delivered outcomes recorded in one statement on PostgreSQL (recording.record_delivered_at_once):
what the transaction of recording.record_delivered writes, and what the worker needs next (the
lanes whose next delivery waits, the callbacks whose health to clear)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from convhub.core.database import Database, utcnow
from convhub.delivery import health, outbox, recording
from convhub.delivery.client import Outcome
from convhub.models import CallbackHealth, Delivery, DeliveryAttempt, Message
from tests.delivery_processes.test_idle import NOW, _lane

pytestmark = pytest.mark.postgresql_only

LEASE = timedelta(seconds=60)
DELIVERED = Outcome("delivered", 202, None, None, 0.012)


async def _claim(db: Database, owner: str) -> list[Delivery]:
    async with db.session() as session:
        claimed = await outbox.claim(
            session, owner=owner, limit=10, lease=LEASE, probe=LEASE, probes=False
        )
    return [c.delivery for c in claimed]


async def _record(db: Database, owner: str, deliveries: list[Delivery]) -> recording.Recorded:
    async with db.session(transaction=False) as session:
        return await recording.record_delivered_at_once(
            session, owner=owner, batch=[(d, DELIVERED) for d in deliveries]
        )


async def _rows(db: Database, model: type, *where) -> list:
    async with db.session(write=False) as session:
        return list((await session.execute(select(model).where(*where))).scalars())


async def test_a_batch_is_sent_logged_and_its_messages_marked(db):
    await _lane(db, next_attempts=[NOW, NOW])  # a lane whose next delivery waits
    await _lane(db, next_attempts=[NOW])  # a lane with nothing after
    heads = await _claim(db, "w1")
    assert len(heads) == 2
    # An earlier attempt of one of them: the new one is numbered after it.
    async with db.session() as session:
        session.add(
            DeliveryAttempt(
                delivery_id=heads[0].id,
                tenant_id=heads[0].tenant_id,
                message_id=heads[0].message_id,
                number=1,
                started=NOW,
                result="retry",
                status_code=503,
                latency_ms=5,
            )
        )

    recorded = await _record(db, "w1", heads)

    assert {d.id for d in recorded.deliveries} == {d.id for d in heads}
    assert recorded.unhealthy == []
    assert recorded.successors is True
    for delivery in await _rows(db, Delivery, Delivery.id.in_([d.id for d in heads])):
        assert (delivery.state, delivery.last_status) == ("sent", 202)
        assert (delivery.lease_owner, delivery.lease_until) == (None, None)
        assert delivery.finished is not None
    messages = await _rows(db, Message, Message.id.in_([d.message_id for d in heads]))
    assert {(m.status, m.sent is not None) for m in messages} == {("sent", True)}
    attempts = await _rows(db, DeliveryAttempt, DeliveryAttempt.result == "delivered")
    numbers = {a.delivery_id: (a.number, a.status_code, a.latency_ms) for a in attempts}
    assert numbers == {heads[0].id: (2, 202, 12), heads[1].id: (1, 202, 12)}
    # The longer lane's next delivery is now its head.
    [after] = await _claim(db, "w1")
    assert after.seq == 2
    assert after.conversation_id in {d.conversation_id for d in heads}

    last = await _record(db, "w1", [after])
    assert last.successors is False


async def test_a_lease_another_worker_took_over_is_logged_not_recorded(db):
    await _lane(db, next_attempts=[NOW])
    [delivery] = await _claim(db, "w1")
    async with db.session() as session:
        row = await session.get(Delivery, delivery.id)
        assert row is not None
        row.lease_owner = "w2"

    recorded = await _record(db, "w1", [delivery])

    assert (recorded.deliveries, recorded.successors) == ([], False)
    [row] = await _rows(db, Delivery, Delivery.id == delivery.id)
    assert (row.state, row.lease_owner) == ("pending", "w2")
    [message] = await _rows(db, Message, Message.id == delivery.message_id)
    assert message.status != "sent"
    [attempt] = await _rows(db, DeliveryAttempt, DeliveryAttempt.delivery_id == delivery.id)
    assert attempt.result == "delivered"  # the receiver was called all the same


async def test_a_message_is_sent_once_its_last_delivery_is(db):
    await _lane(db, next_attempts=[NOW])
    [to_bot] = await _rows(db, Delivery)
    async with db.session() as session:
        session.add(
            Delivery(
                tenant_id=to_bot.tenant_id,
                message_id=to_bot.message_id,
                conversation_id=to_bot.conversation_id,
                seq=to_bot.seq,
                recipient_app_id="agent-app",
                recipient_role="custom_agent",
                payload="{}",
                next_attempt_at=NOW,
                deadline=NOW + timedelta(hours=24),
            )
        )
    first, second = await _claim(db, "w1")

    await _record(db, "w1", [first])
    [message] = await _rows(db, Message, Message.id == to_bot.message_id)
    assert message.status != "sent"

    await _record(db, "w1", [second])
    [message] = await _rows(db, Message, Message.id == to_bot.message_id)
    assert message.status == "sent"


async def test_a_callback_with_failures_counted_is_reported_then_cleared(db, settings):
    await _lane(db, next_attempts=[NOW])
    await _lane(db, next_attempts=[NOW])
    first, second = await _claim(db, "w1")
    # The second lane's callback is another application's, with failures counted.
    async with db.session() as session:
        row = await session.get(Delivery, second.id)
        assert row is not None
        row.recipient_app_id = second.recipient_app_id = f"app-{uuid.uuid4().hex}"
        session.add(
            CallbackHealth(
                tenant_id=second.tenant_id,
                application_id=second.recipient_app_id,
                role=second.recipient_role,
                state="closed",
                consecutive_failures=2,
                updated=NOW,
            )
        )

    recorded = await _record(db, "w1", [first, second])

    assert [d.id for d in recorded.unhealthy] == [second.id]
    async with db.session() as session:
        await health.on_delivered(session, recorded.unhealthy, now=utcnow(), settings=settings)
    [row] = await _rows(db, CallbackHealth, CallbackHealth.tenant_id == second.tenant_id)
    assert row.consecutive_failures == 0
