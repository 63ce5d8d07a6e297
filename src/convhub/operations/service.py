"""What the operator endpoints read and change; never commits (the handler owns the
transaction). Every query is scoped to the caller's tenant: another tenant's message is a 404."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.core.errors import ContentRedacted, NotFound, NothingToRedeliver
from convhub.core.pagination import Page
from convhub.core.schemas import format_timestamp
from convhub.delivery.redaction import REDACTED
from convhub.models import CallbackHealth, ConfigObject, Delivery, DeliveryAttempt, Message


def _when(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


def _recipient(delivery: Delivery) -> dict[str, str]:
    return {"applicationId": delivery.recipient_app_id, "role": delivery.recipient_role}


async def _message(
    session: AsyncSession, *, tenant_id: str, message_id: str, for_update: bool = False
) -> Message:
    query = select(Message).where(Message.id == message_id, Message.tenant_id == tenant_id)
    message = (await session.execute(query.with_for_update() if for_update else query)).scalar()
    if message is None:
        raise NotFound(message_id)
    return message


async def message_deliveries(
    session: AsyncSession, *, tenant_id: str, message_id: str
) -> dict[str, Any]:
    """Each delivery of the message (one per recipient) with every attempt, oldest first."""
    message = await _message(session, tenant_id=tenant_id, message_id=message_id)
    deliveries = (
        await session.execute(
            select(Delivery).where(Delivery.message_id == message.id).order_by(Delivery.created)
        )
    ).scalars()
    attempts = (
        await session.execute(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.tenant_id == tenant_id, DeliveryAttempt.message_id == message.id)
            .order_by(DeliveryAttempt.number)
        )
    ).scalars()
    by_delivery: dict[str, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(
            {
                "number": attempt.number,
                "started": format_timestamp(attempt.started),
                "result": attempt.result,
                "statusCode": attempt.status_code,
                "latencyMs": attempt.latency_ms,
                "error": attempt.error,
            }
        )
    return {
        "messageId": message.id,
        "conversationId": message.conversation_id,
        "status": message.status,
        "delivery": [
            {
                "id": d.id,
                "recipient": _recipient(d),
                "state": d.state,
                "created": format_timestamp(d.created),
                "nextAttemptAt": _when(d.next_attempt_at) if d.state == "pending" else None,
                "deadline": format_timestamp(d.deadline),
                "finished": _when(d.finished),
                "attempt": by_delivery.get(d.id, []),
            }
            for d in deliveries
        ],
    }


def _info(count: int, page: Page) -> dict[str, int]:
    return {"count": count, "pagenum": page.number, "pagesize": page.size}


async def dead_letters(session: AsyncSession, *, tenant_id: str, page: Page) -> dict[str, Any]:
    """Deliveries still failing at the end of their retry window, oldest first."""
    where = (Delivery.tenant_id == tenant_id, Delivery.state == "dead")
    count = int(await session.scalar(select(func.count()).where(*where)) or 0)
    rows = (
        await session.execute(
            select(Delivery)
            .where(*where)
            .order_by(Delivery.created, Delivery.id)
            .offset(page.offset)
            .limit(page.size)
        )
    ).scalars()
    return {
        "paginationInfo": _info(count, page),
        "deadLetter": [
            {
                "id": d.id,
                "messageId": d.message_id,
                "conversationId": d.conversation_id,
                "recipient": _recipient(d),
                "created": format_timestamp(d.created),
                "finished": _when(d.finished),
                "lastStatusCode": d.last_status,
                "lastError": d.last_error,
            }
            for d in rows
        ],
    }


async def redeliver(
    session: AsyncSession, *, tenant_id: str, message_id: str, now: datetime, window: timedelta
) -> dict[str, Any]:
    """Put the message's failed and dead-lettered deliveries back in the outbox, each with a new
    retry window. Their ``seq`` is the message's, so within each lane they still go before any
    later message that is pending, and after those already sent."""
    message = await _message(session, tenant_id=tenant_id, message_id=message_id, for_update=True)
    content = message.document.get("content") or {}
    if content.get("redact") is True and content.get("text") == REDACTED:
        raise ContentRedacted(message_id)
    query = select(Delivery).where(
        Delivery.message_id == message.id, Delivery.state.in_(("failed", "dead"))
    )
    deliveries = list((await session.execute(query.with_for_update())).scalars())
    if not deliveries:
        raise NothingToRedeliver(message_id)
    for delivery in deliveries:
        delivery.state, delivery.attempts, delivery.finished = "pending", 0, None
        delivery.next_attempt_at, delivery.deadline = now, now + window
        delivery.lease_until = delivery.lease_owner = None
    message.status, message.sent = "retryInProgress", None
    return {"messageId": message.id, "delivery": sorted(d.id for d in deliveries)}


async def callbacks(session: AsyncSession, *, tenant_id: str, page: Page) -> dict[str, Any]:
    """Callbacks that are not plainly healthy: failing, held by a breaker, or deactivated."""
    where = (
        CallbackHealth.tenant_id == tenant_id,
        or_(
            CallbackHealth.state != "closed",
            CallbackHealth.consecutive_failures > 0,
            CallbackHealth.deactivated_at.is_not(None),
        ),
    )
    count = int(await session.scalar(select(func.count()).where(*where)) or 0)
    rows = list(
        (
            await session.execute(
                select(CallbackHealth)
                .where(*where)
                .order_by(CallbackHealth.application_id, CallbackHealth.role)
                .offset(page.offset)
                .limit(page.size)
            )
        ).scalars()
    )
    modified = await _modified(session, tenant_id, [r.application_id for r in rows])
    return {
        "paginationInfo": _info(count, page),
        "callback": [_callback(r, modified) for r in rows],
    }


async def _modified(session: AsyncSession, tenant_id: str, ids: list[str]) -> dict[str, datetime]:
    if not ids:
        return {}
    query = select(ConfigObject.id, ConfigObject.modified).where(
        ConfigObject.tenant_id == tenant_id, ConfigObject.id.in_(ids)
    )
    return {row.id: row.modified for row in (await session.execute(query)).all()}


def _callback(row: CallbackHealth, modified: dict[str, datetime]) -> dict[str, Any]:
    # A deactivation lasts until the application is replaced (see convhub.delivery.health).
    deactivated = (
        row.deactivated_at is not None
        and modified.get(row.application_id) == row.deactivated_app_modified
    )
    return {
        "recipient": {"applicationId": row.application_id, "role": row.role},
        "breaker": row.state,
        "consecutiveFailures": row.consecutive_failures,
        "openedAt": _when(row.opened_at),
        "nextProbeAt": _when(row.next_probe_at),
        "lastError": row.last_error,
        "deactivated": deactivated,
        "deactivatedAt": _when(row.deactivated_at) if deactivated else None,
        "deactivatedCallback": row.deactivated_callback if deactivated else None,
    }
