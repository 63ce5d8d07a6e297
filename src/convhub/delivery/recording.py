"""What a delivery attempt changes: the attempts log, the callback's health, the delivery, its
message's status, and on final failure an ``error`` message to the sender's application and a
notice to the role's notificationEmail (DECISIONS §8).

A delivery refused by the receiver (4xx) is ``failed``; one still failing at the end of its retry
window is ``dead`` (a dead letter). Both set the message's status to ``failed``, as the contract
knows no other, and an operator can re-deliver both (:mod:`convhub.operations`). A ``410 Gone``
fails the delivery like any 4xx and deactivates the callback (:mod:`convhub.delivery.health`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.configuration import repository as config
from convhub.conversations.callbacks import callback_body
from convhub.core.database import UTCDateTime, utcnow
from convhub.core.runtime import Runtime
from convhub.delivery import health, outbox
from convhub.delivery.backoff import next_delay
from convhub.delivery.client import Outcome
from convhub.delivery.redaction import redact_when_done
from convhub.models import (
    ConfigObject,
    Conversation,
    Delivery,
    DeliveryAttempt,
    Message,
    NotificationSent,
)
from convhub.observability.metrics import delivery_recorded
from convhub.routing import workflow as workflows
from convhub.routing.system_messages import SYSTEM_SENDER
from convhub.routing.workflow import Party

NOTICE_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class Notice:
    to: str
    subject: str
    text: str


async def record(
    session: AsyncSession, runtime: Runtime, *, delivery: Delivery, owner: str, outcome: Outcome
) -> Notice | None:
    """Apply ``outcome`` to the delivery this worker leased; returns a notice to mail, if any."""
    now = utcnow()
    await _log_attempt(session, delivery, outcome, now=now)
    row = await session.get(Delivery, delivery.id, with_for_update=True)
    if row is None or row.state != "pending" or row.lease_owner != owner:
        return None  # our lease expired and another worker took over: its outcome counts
    settings = runtime.settings
    window = timedelta(seconds=settings.retry_window_seconds)
    held = await health.on_outcome(
        session, delivery=row, outcome=outcome, now=now, settings=settings
    )
    row.last_status, row.last_error = outcome.status_code, outcome.error
    row.lease_until = row.lease_owner = None
    message = await session.get(Message, row.message_id)
    assert message is not None
    if outcome.result == "delivered":
        delivery_recorded("delivered", accepted=row.created, now=now)
        row.state, row.finished = "sent", now
        if not await _undelivered(session, message.id):
            message.status, message.sent = "sent", now
        await session.flush()
        await redact_when_done(session, message)
        return None
    if outcome.result == "retry":
        delay = next_delay(
            row.attempts, retry_after=outcome.retry_after, scale=settings.retry_scale
        )
        if now + timedelta(seconds=delay) < row.deadline + held:
            row.next_attempt_at = now + timedelta(seconds=delay)
            message.status = "retryInProgress"
            delivery_recorded("retrying", accepted=row.created, now=now)
            return (
                await _dead_letter_long_held(session, row, now=now, window=window) if held else None
            )
    # Still failing at the end of the retry window: a dead letter; refused: failed.
    delivery_recorded("failed", accepted=row.created, now=now)
    row.state, row.finished = ("dead" if outcome.result == "retry" else "failed"), now
    notice = await _give_up(session, row, message, now=now, window=window)
    if outcome.status_code == 410:
        notice = await _deactivate(session, row, now=now) or notice
    return notice


def needs_transaction(batch: list[tuple[Delivery, Outcome]]) -> bool:
    """Whether :func:`record_delivered_at_once` cannot record ``batch``: a message to redact
    once delivered (rare) is redacted in the transaction that records its delivery."""
    return any('"redact":true' in delivery.payload for delivery, _ in batch)


@dataclass(frozen=True)
class Recorded:
    """What :func:`record_delivered_at_once` recorded, and what the worker does next."""

    deliveries: list[Delivery]  # recorded sent (our lease still held)
    unhealthy: list[Delivery]  # their callback has a breaker, failures or a deactivation
    successors: bool  # a lane of theirs has a next delivery waiting


async def record_delivered_at_once(
    session: AsyncSession, *, owner: str, batch: list[tuple[Delivery, Outcome]]
) -> Recorded:
    """PostgreSQL: what :func:`record_delivered` records, in one statement (atomic without a
    transaction). The callbacks' health is read, not locked: the few with something to clear
    are cleared after (:func:`health.on_delivered`), and of two outcomes of one callback recorded at
    the same moment either may count last."""
    now = utcnow()
    parameters = {
        "ids": [delivery.id for delivery, _ in batch],
        "statuses": [outcome.status_code for _, outcome in batch],
        "started": [now - timedelta(seconds=outcome.elapsed) for _, outcome in batch],
        "latencies": [round(outcome.elapsed * 1000) for _, outcome in batch],
        "attempt_ids": [str(uuid.uuid4()) for _ in batch],
        "now": now,
        "owner": owner,
    }
    # By the Connection: a text statement needs nothing of the ORM Session.
    rows = (await (await session.connection()).execute(_RECORD_DELIVERED, parameters)).all()
    recorded = {row.id for row in rows}
    unhealthy = {row.id for row in rows if row.unhealthy}
    for row in rows:
        delivery_recorded("delivered", accepted=row.created, now=now)
    return Recorded(
        deliveries=[delivery for delivery, _ in batch if delivery.id in recorded],
        unhealthy=[delivery for delivery, _ in batch if delivery.id in unhealthy],
        successors=any(row.successor for row in rows),
    )


# One statement: the batch as arrays (one statement text whatever the batch's size, so that
# PostgreSQL and SQLAlchemy each prepare it once), the attempts logged (numbered after those
# before, counted as record() counts them: every attempt, ours or not), the deliveries sent where
# our lease still holds, their messages marked sent once no other delivery of theirs is pending.
# Every part sees the table as it was before the statement: the deliveries it marks sent still
# look pending to the others, hence ``NOT IN (SELECT id FROM sent)``.
# Run on the worker's connections that reach rows by index (Database.session(by_index=True)):
# each delivery is found by its primary key, which suits one outcome as well as 256. The state
# is tested as ``(...) IS TRUE`` so that no index on it is a way in (the due index holds every
# delivery ever sent until a vacuum); the test stays on the updated row, rechecked on the
# newest version should another worker change it meanwhile.
_RECORD_DELIVERED = text(
    """
WITH batch AS (
    SELECT * FROM unnest(
        CAST(:ids AS VARCHAR[]), CAST(:statuses AS INTEGER[]),
        CAST(:started AS TIMESTAMPTZ[]), CAST(:latencies AS INTEGER[]),
        CAST(:attempt_ids AS VARCHAR[])
    ) AS b(id, status, started, latency_ms, attempt_id)
),
logged AS (
    INSERT INTO delivery_attempts
        (id, delivery_id, tenant_id, message_id, number, started, result, status_code, latency_ms)
    SELECT b.attempt_id, d.id, d.tenant_id, d.message_id,
        (SELECT count(*) FROM delivery_attempts a WHERE a.delivery_id = d.id) + 1,
        b.started, 'delivered', b.status, b.latency_ms
    FROM batch b JOIN deliveries d ON d.id = b.id
    WHERE d.id = ANY(CAST(:ids AS VARCHAR[]))
),
sent AS (
    UPDATE deliveries d
    SET state = 'sent', finished = :now, last_status = b.status, last_error = NULL,
        lease_until = NULL, lease_owner = NULL
    FROM batch b
    WHERE d.id = b.id AND (d.state = 'pending') IS TRUE AND d.lease_owner = :owner
    RETURNING d.id, d.message_id, d.created, d.tenant_id, d.conversation_id,
        d.recipient_app_id, d.recipient_role, d.seq
),
marked AS (
    UPDATE messages m SET status = 'sent', sent = :now
    WHERE m.id IN (SELECT message_id FROM sent)
    AND NOT EXISTS (
        SELECT 1 FROM deliveries o
        WHERE o.message_id = m.id AND o.state <> 'sent' AND o.id NOT IN (SELECT id FROM sent)
    )
)
SELECT s.id, s.created,
    EXISTS (
        SELECT 1 FROM callback_health h
        WHERE h.tenant_id = s.tenant_id AND h.application_id = s.recipient_app_id
        AND h.role = s.recipient_role
        AND (h.state <> 'closed' OR h.consecutive_failures > 0 OR h.deactivated_at IS NOT NULL)
    ) AS unhealthy,
    EXISTS (
        SELECT 1 FROM deliveries n
        WHERE n.conversation_id = s.conversation_id AND n.recipient_app_id = s.recipient_app_id
        AND n.state = 'pending' AND n.seq > s.seq
    ) AS successor
FROM sent s
"""
).columns(created=UTCDateTime())


async def record_delivered(
    session: AsyncSession, runtime: Runtime, *, owner: str, batch: list[tuple[Delivery, Outcome]]
) -> None:
    """:func:`record` for a batch of delivered outcomes, in a handful of statements whatever
    the batch's size: the attempts logged, the deliveries sent, the callbacks' health told, the
    messages whose deliveries are all sent marked sent. Redaction, rare, goes one by one."""
    now = utcnow()
    await _log_attempts(session, batch, now=now)
    status = {delivery.id: outcome.status_code for delivery, outcome in batch}
    sent = (
        update(Delivery)
        .where(
            Delivery.id.in_(status),
            Delivery.state == "pending",
            Delivery.lease_owner == owner,  # else our lease expired and another worker took over
        )
        .values(
            state="sent",
            finished=now,
            last_status=case(status, value=Delivery.id),
            last_error=None,
            lease_until=None,
            lease_owner=None,
        )
        .returning(Delivery.id, Delivery.message_id, Delivery.created)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(sent)).all()
    if not rows:
        return
    ours = {row.id for row in rows}
    recorded = [delivery for delivery, _ in batch if delivery.id in ours]
    await health.on_delivered(session, recorded, now=now, settings=runtime.settings)
    others = exists().where(Delivery.message_id == Message.id, Delivery.state != "sent")
    await session.execute(
        update(Message)
        .where(Message.id.in_({row.message_id for row in rows}), ~others)
        .values(status="sent", sent=now)
        .execution_options(synchronize_session=False)
    )
    for delivery in recorded:
        if '"redact":true' in delivery.payload:
            message = await session.get(Message, delivery.message_id)
            assert message is not None
            await redact_when_done(session, message)
    for row in rows:
        delivery_recorded("delivered", accepted=row.created, now=now)


async def _log_attempts(
    session: AsyncSession, batch: list[tuple[Delivery, Outcome]], *, now: datetime
) -> None:
    ids = [delivery.id for delivery, _ in batch]
    counted = select(DeliveryAttempt.delivery_id, func.count()).where(
        DeliveryAttempt.delivery_id.in_(ids)
    )
    rows = await session.execute(counted.group_by(DeliveryAttempt.delivery_id))
    done: dict[str, int] = dict(rows.all())  # rows, not the Result: it has keys()
    await session.execute(
        insert(DeliveryAttempt),
        [
            _attempt_row(delivery, outcome, number=done.get(delivery.id, 0) + 1, now=now)
            for delivery, outcome in batch
        ],
    )


def _attempt_row(
    delivery: Delivery, outcome: Outcome, *, number: int, now: datetime
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "delivery_id": delivery.id,
        "tenant_id": delivery.tenant_id,
        "message_id": delivery.message_id,
        "number": number,
        "started": now - timedelta(seconds=outcome.elapsed),
        "result": outcome.result,
        "status_code": outcome.status_code,
        "latency_ms": round(outcome.elapsed * 1000),
        "error": outcome.error[:2000] if outcome.error else None,
    }


async def _log_attempt(
    session: AsyncSession, delivery: Delivery, outcome: Outcome, *, now: datetime
) -> None:
    """The attempt as the operator endpoints show it (logged even when our lease ran out: the
    receiver was called all the same)."""
    done = select(func.count()).where(DeliveryAttempt.delivery_id == delivery.id)
    number = int(await session.scalar(done) or 0) + 1
    session.add(DeliveryAttempt(**_attempt_row(delivery, outcome, number=number, now=now)))


async def _give_up(
    session: AsyncSession, row: Delivery, message: Message, *, now: datetime, window: timedelta
) -> Notice | None:
    message.status = "failed"
    await session.flush()
    await redact_when_done(session, message)
    return await _failed(session, row, message, now=now, window=window)


async def _dead_letter_long_held(
    session: AsyncSession, probe: Delivery, *, now: datetime, window: timedelta
) -> Notice | None:
    """After a failed probe: held deliveries past their window and the breaker's extra one
    become dead letters (see :mod:`convhub.delivery.health`)."""
    notice = None
    for row in await health.long_held(session, probe, now=now, window=window):
        row.state, row.finished = "dead", now
        row.last_error = f"held by the circuit breaker past the retry window: {probe.last_error}"
        message = await session.get(Message, row.message_id)
        assert message is not None
        notice = await _give_up(session, row, message, now=now, window=window) or notice
    return notice


async def _deactivate(session: AsyncSession, delivery: Delivery, *, now: datetime) -> Notice | None:
    """``410 Gone``: the receiver says the callback is gone for good. The role's callback is
    deactivated (in ``callback_health``, not in the client application the customer owns) until
    the application is replaced, and its notificationEmail is told at once."""
    found = await _app_and_role(session, delivery)
    if found is None:
        return None
    app, role = found
    await health.deactivate(
        session, delivery, callback=role["callback"], app_modified=app.modified, now=now
    )
    return Notice(
        to=role["notificationEmail"],
        subject=f"convhub: callback of {app.body['name']} ({delivery.recipient_role}) deactivated",
        text=(
            f"{role['callback']} answered 410 Gone to message {delivery.message_id} of "
            f"conversation {delivery.conversation_id}.\nconvhub no longer calls it: messages "
            "for this role fail at once, and their senders get an error message.\nTo call it "
            "again, replace the client application (PUT /clientapplications/{id}), with a new "
            "callback or the same one."
        ),
    )


async def _undelivered(session: AsyncSession, message_id: str) -> int:
    query = select(func.count()).where(Delivery.message_id == message_id, Delivery.state != "sent")
    return int(await session.scalar(query) or 0)


async def _failed(
    session: AsyncSession, delivery: Delivery, message: Message, *, now: datetime, window: timedelta
) -> Notice | None:
    conversation = await session.get(Conversation, delivery.conversation_id, with_for_update=True)
    assert conversation is not None
    workflow = await workflows.load(
        session, tenant_id=conversation.tenant_id, orchestration_id=conversation.orchestration_id
    )
    sender = _party_of(workflow, message.sender_type) if workflow else None
    if sender is not None and message.type != "error":
        await _error_to_sender(
            session, conversation, message, sender, delivery, now=now, window=window
        )
    return await _notice(session, delivery, message, now=now)


def _party_of(workflow: workflows.Workflow, sender_type: str) -> Party | None:
    if sender_type == "customer":
        return workflow.customer
    if sender_type in {"custom_bot", "egain_bot"}:
        return workflow.bot
    if sender_type in {"custom_agent", "egain_agent"}:
        return workflow.agent
    return None


async def _error_to_sender(
    session: AsyncSession,
    conversation: Conversation,
    failed: Message,
    sender: Party,
    delivery: Delivery,
    *,
    now: datetime,
    window: timedelta,
) -> None:
    parent = {"id": failed.id}
    if failed.message_id:
        parent["messageId"] = failed.message_id
    reason = delivery.last_error or f"the recipient answered {delivery.last_status}"
    error = Message(
        id=str(uuid.uuid4()),
        tenant_id=conversation.tenant_id,
        conversation_id=conversation.id,
        seq=conversation.next_seq,
        type="error",
        sender_type="system",
        document={
            "type": {"value": "error"},
            "parent": parent,
            "content": {"text": f"Message could not be delivered: {reason}"[:10000]},
            "sender": SYSTEM_SENDER,
            "recipients": {"recipient": [sender.as_client()]},
        },
        created=now,
    )
    conversation.next_seq += 1
    session.add(error)
    await session.flush()  # the message row before its delivery row (foreign key)
    body = callback_body(conversation=conversation, message=error, metadata=None)
    session.add(
        outbox.new_delivery(
            conversation=conversation,
            message=error,
            recipient=sender,
            body=body,
            now=now,
            window=window,
        )
    )


async def _notice(
    session: AsyncSession, delivery: Delivery, message: Message, *, now: datetime
) -> Notice | None:
    """A notice for the recipient role's notificationEmail, at most one an hour per role."""
    found = await _app_and_role(session, delivery)
    if found is None:
        return None
    app, role = found
    key = (delivery.tenant_id, delivery.recipient_app_id, delivery.recipient_role)
    sent = await session.get(NotificationSent, key, with_for_update=True)
    if sent is not None and sent.last_sent > now - NOTICE_INTERVAL:
        return None
    if sent is None:
        session.add(
            NotificationSent(tenant_id=key[0], application_id=key[1], role=key[2], last_sent=now)
        )
    else:
        sent.last_sent = now
    return Notice(
        to=role["notificationEmail"],
        subject=f"convhub: messages to {app.body['name']} ({delivery.recipient_role}) fail",
        text=(
            f"convhub could not deliver message {message.id} of conversation "
            f"{delivery.conversation_id} to {role['callback']} after {delivery.attempts} "
            f"attempts.\nLast error: {delivery.last_error or delivery.last_status}.\n"
            "Further failures of this callback are not mailed for an hour."
        ),
    )


async def _app_and_role(
    session: AsyncSession, delivery: Delivery
) -> tuple[ConfigObject, dict[str, Any]] | None:
    app = await config.get(
        session,
        tenant_id=delivery.tenant_id,
        kind="clientApplication",
        object_id=delivery.recipient_app_id,
    )
    role = next(
        (r for r in (app.body["roles"] if app else []) if r["name"] == delivery.recipient_role),
        None,
    )
    return None if app is None or role is None else (app, role)


async def send_notice(runtime: Runtime, notice: Notice) -> None:
    from convhub.delivery.mail import send_mail

    await send_mail(runtime.settings, to=notice.to, subject=notice.subject, text=notice.text)
