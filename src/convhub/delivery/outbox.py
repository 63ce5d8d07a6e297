"""The outbox: deliveries written with their message, claimed by workers under a lease.

A delivery is due when it is pending, its next attempt time has come, nobody holds a valid
lease on it, and no earlier delivery of its lane (same conversation and recipient application)
is still pending. Claiming takes a lease with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any
number of workers share the work without taking the same delivery; on SQLite, write
transactions are serialised (BEGIN IMMEDIATE) and the same query is safe.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.core.database import utcnow
from convhub.models import Conversation, Delivery, Message
from convhub.routing.workflow import Party

RETRY_WINDOW = timedelta(hours=24)


def enqueue(
    session: AsyncSession,
    *,
    conversation: Conversation,
    message: Message,
    recipient: Party,
    body: dict[str, Any],
    now: datetime,
) -> Delivery:
    delivery = Delivery(
        id=str(uuid.uuid4()),
        tenant_id=conversation.tenant_id,
        message_id=message.id,
        conversation_id=conversation.id,
        seq=message.seq,
        recipient_app_id=recipient.app_id,
        recipient_role=recipient.role,
        payload=json.dumps(body, separators=(",", ":")),
        state="pending",
        attempts=0,
        next_attempt_at=now,
        deadline=now + RETRY_WINDOW,
        created=now,
    )
    session.add(delivery)
    message.status = "retryInProgress"
    return delivery


def _due_ids(now: datetime, limit: int) -> Any:
    """The ids of up to ``limit`` due deliveries, oldest first, locked (SKIP LOCKED).

    Due means: pending, its time has come, no valid lease, and no earlier pending delivery in its
    lane, that is, it is its lane's first pending delivery. The lane heads come from one pass
    over the pending rows (grouped by lane); a per-row "no earlier pending" probe walked every
    delivered row of the lane too, so a claim cost grew with the queue times the lane length."""
    heads = (
        select(
            Delivery.conversation_id.label("conversation_id"),
            Delivery.recipient_app_id.label("recipient_app_id"),
            func.min(Delivery.seq).label("seq"),
        )
        .where(Delivery.state == "pending")
        .group_by(Delivery.conversation_id, Delivery.recipient_app_id)
        .subquery("heads")
    )
    return (
        select(Delivery.id)
        .join(
            heads,
            and_(
                heads.c.conversation_id == Delivery.conversation_id,
                heads.c.recipient_app_id == Delivery.recipient_app_id,
                heads.c.seq == Delivery.seq,
            ),
        )
        .where(
            Delivery.state == "pending",
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
        )
        .order_by(Delivery.next_attempt_at, Delivery.seq)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Delivery)
    )


async def claim(
    session: AsyncSession, *, owner: str, limit: int, lease: timedelta
) -> list[Delivery]:
    """Take a lease on up to ``limit`` due deliveries, oldest first."""
    now = utcnow()
    chosen = list((await session.execute(_due_ids(now, limit))).scalars())
    if not chosen:
        return []
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(chosen))
        .values(lease_until=now + lease, lease_owner=owner, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(select(Delivery).where(Delivery.id.in_(chosen)))
    return sorted(rows.scalars(), key=lambda d: (d.next_attempt_at, d.seq))


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the earliest pending delivery becomes due (for the worker's sleep)."""
    query = select(Delivery.next_attempt_at).where(Delivery.state == "pending")
    return (await session.execute(query.order_by(Delivery.next_attempt_at).limit(1))).scalar()
