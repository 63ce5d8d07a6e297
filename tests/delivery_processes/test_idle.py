"""When an idle worker wakes next (outbox.next_due_at): at the earliest time a delivery can be
claimed. The later messages of a conversation wait behind its first; while that one waits for its
retry, or is in flight at another worker, they are not due, and counting them kept a worker
polling the database without a pause."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from convhub.core.database import Database, utcnow
from convhub.delivery import outbox
from convhub.models import Conversation, Delivery, Message, Tenant

NOW = utcnow()


async def _lane(
    db: Database, *, next_attempts: list[datetime], lease_until: datetime | None = None
) -> None:
    """One conversation whose messages go to one application: deliveries 1, 2, ... in order,
    the first with ``lease_until``."""
    tenant, conversation = str(uuid.uuid4()), str(uuid.uuid4())
    async with db.session() as session:
        session.add(Tenant(id=tenant, name=tenant, signing_secret="x"))
        await session.flush()  # rows go in one table at a time, parents first
        session.add(
            Conversation(
                id=conversation,
                tenant_id=tenant,
                account_id="a",
                orchestration_id="o",
                entry_point_id="e",
                state="bot",
                language="en-US",
                document={},
                expires_at=NOW + timedelta(hours=1),
            )
        )
        await session.flush()
        for seq, at in enumerate(next_attempts, start=1):
            message = Message(
                id=str(uuid.uuid4()),
                tenant_id=tenant,
                conversation_id=conversation,
                seq=seq,
                type="text",
                sender_type="customer",
                document={},
            )
            session.add(message)
            await session.flush()
            session.add(
                Delivery(
                    tenant_id=tenant,
                    message_id=message.id,
                    conversation_id=conversation,
                    seq=seq,
                    recipient_app_id="bot-app",
                    recipient_role="custom_bot",
                    payload="{}",
                    next_attempt_at=at,
                    lease_until=lease_until if seq == 1 else None,
                    deadline=NOW + timedelta(hours=24),
                )
            )


async def _next_due(db: Database) -> datetime | None:
    async with db.session(write=False) as session:
        return await outbox.next_due_at(session)


class TestNextDue:
    async def test_nothing_pending_nothing_due(self, db):
        assert await _next_due(db) is None

    async def test_later_messages_wait_for_the_first_ones_retry(self, db):
        retry = NOW + timedelta(seconds=30)
        await _lane(db, next_attempts=[retry, NOW, NOW])
        assert await _next_due(db) == retry

    async def test_later_messages_wait_for_the_first_ones_lease(self, db):
        lease = NOW + timedelta(seconds=60)
        await _lane(db, next_attempts=[NOW, NOW], lease_until=lease)
        assert await _next_due(db) == lease

    async def test_an_expired_lease_is_due_at_once(self, db):
        await _lane(db, next_attempts=[NOW, NOW], lease_until=NOW - timedelta(seconds=5))
        assert await _next_due(db) == NOW

    async def test_the_earliest_lane_head_counts(self, db):
        await _lane(db, next_attempts=[NOW + timedelta(seconds=30), NOW])
        await _lane(db, next_attempts=[NOW + timedelta(seconds=10), NOW])
        assert await _next_due(db) == NOW + timedelta(seconds=10)
