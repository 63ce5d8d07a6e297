"""Callback health: a circuit breaker per callback, and deactivation by ``410 Gone`` (extension).

A callback is a role of a client application (tenant, application, role). Its state is a row of
``callback_health`` shared by every worker process; no row means healthy::

    closed ──(breaker_threshold consecutive failures)──> open
    open ──(next_probe_at comes: one delivery is claimed as the probe)──> half_open
    half_open ──(the probe fails)──> open          (next probe breaker_probe_seconds later)
    (one probe at a time: while it is in flight, no other is claimed)
    open/half_open ──(any answer that is not a failure)──> closed

A failure is an attempt the delivery client would retry: no answer, a timeout, 408, 429, 5xx, no
OAuth2 token. A receiver that answers anything else (2xx, or a 4xx refusing one message) is alive.
While the breaker is not closed, the callback's deliveries are held (not claimed), so they use up
neither attempts nor worker slots: one dead receiver never slows the others.

Why not a library: the maintained Python breakers (pybreaker, aiobreaker, purgatory) keep their
state per process, or in Redis; ours must live in the database, read by the claim query itself
(held deliveries are never claimed) and changed in the transaction that records an outcome.

The retry window and the breaker (DECISIONS §8 gives 24 hours): time a delivery spends held does
not count against its window, up to one extra window. When the breaker closes, each held
delivery's deadline moves by the time it was held; while it is open, a probe that fails is judged
against its deadline moved the same way. A callback that stays dead longer has its held messages
dead-lettered one window after their own window ended (each failed probe dead-letters those).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.delivery.client import Outcome
from convhub.models import CallbackHealth, Delivery

Key = tuple[str, str, str]  # tenant id, client application id, role

# The worker's own errors (configuration gone...) say nothing of the receiver.
INTERNAL_ERROR = "internal error"


def key_of(delivery: Delivery) -> Key:
    return (delivery.tenant_id, delivery.recipient_app_id, delivery.recipient_role)


def callback_key() -> Any:
    """SQL: a ``callback_health`` row's :data:`Key`, to match a set of keys with ``in_``."""
    return tuple_(CallbackHealth.tenant_id, CallbackHealth.application_id, CallbackHealth.role)


def _same_callback(row: Any = CallbackHealth) -> Any:
    return and_(
        row.tenant_id == Delivery.tenant_id,
        row.application_id == Delivery.recipient_app_id,
        row.role == Delivery.recipient_role,
    )


# SQL: a 410 Gone deactivated the delivery's callback (maybe since lifted: targets.py checks).
DEACTIVATED = exists().where(_same_callback(), CallbackHealth.deactivated_at.is_not(None))

# SQL: the delivery's callback has a breaker that is not closed.
HELD = exists().where(_same_callback(), CallbackHealth.state != "closed")


def _is_failure(outcome: Outcome) -> bool:
    return outcome.result == "retry" and not (outcome.error or "").startswith(INTERNAL_ERROR)


def _is_alive(outcome: Outcome) -> bool:
    return outcome.status_code is not None and not _is_failure(outcome)


# Built once (every claim runs it): open breakers whose probe is due at the parameter ``now``.
_BREAKERS_DUE = (
    select(CallbackHealth)
    .where(CallbackHealth.state != "closed", CallbackHealth.next_probe_at <= bindparam("now"))
    .limit(20)
    .with_for_update(skip_locked=True)
)


async def claim_probes(
    session: AsyncSession, *, due: Any, now: datetime, probe: timedelta, lease: timedelta
) -> list[str]:
    """Take the next probe of every open breaker whose time has come: the callback's oldest due
    delivery. The breaker row is locked (skipped by other workers) and moved to ``half_open``,
    so each probe is made by one worker only, and one at a time: the next is due when this one
    is recorded (``probe`` later), or when its lease runs out should its worker die."""
    chosen: list[str] = []
    for breaker in (await session.execute(_BREAKERS_DUE, {"now": now})).scalars():
        query = (
            select(Delivery.id)
            .where(due, _same_callback(breaker))
            .order_by(Delivery.next_attempt_at, Delivery.seq)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        found = (await session.execute(query, {"now": now})).scalar()
        # With nothing to probe, the next message waits for the next probe time too.
        breaker.next_probe_at, breaker.updated = now + probe, now
        if found is not None:
            breaker.state, breaker.next_probe_at = "half_open", now + max(probe, lease)
            chosen.append(found)
    return chosen


async def _locked(
    session: AsyncSession, key: Key, *, create: bool, now: datetime
) -> CallbackHealth | None:
    """The callback's row, locked for this transaction; created when asked (two workers may
    create it at once: the insert yields to the other's)."""
    if create:
        values = {"tenant_id": key[0], "application_id": key[1], "role": key[2], "updated": now}
        values |= {"state": "closed", "consecutive_failures": 0}
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        await session.execute(
            dialect.insert(CallbackHealth).values(**values).on_conflict_do_nothing()
        )
    return await session.get(CallbackHealth, key, with_for_update=True, populate_existing=True)


async def on_outcome(
    session: AsyncSession, *, delivery: Delivery, outcome: Outcome, now: datetime, settings: Any
) -> timedelta:
    """Move the callback's breaker on ``outcome``; answers how long ``delivery`` was held by the
    breaker (to add to its deadline: see the module docstring)."""
    failure = _is_failure(outcome)
    if not failure and not _is_alive(outcome):
        return timedelta(0)
    row = await _locked(session, key_of(delivery), create=failure, now=now)
    if row is None:
        return timedelta(0)
    window = timedelta(seconds=settings.retry_window_seconds)
    credit = _held(row, delivery.created, now=now, window=window)
    row.updated = now
    if not failure:
        await _alive(session, row, now=now, window=window)
        return credit
    row.consecutive_failures += 1
    row.last_error = outcome.error
    if row.state == "half_open" or row.consecutive_failures >= settings.breaker_threshold:
        row.opened_at = row.opened_at or now
        row.state = "open"
        row.next_probe_at = now + timedelta(seconds=settings.breaker_probe_seconds)
    return credit


async def on_delivered(
    session: AsyncSession, deliveries: list[Delivery], *, now: datetime, settings: Any
) -> None:
    """:func:`on_outcome` for a batch of delivered deliveries: one query finds the callbacks
    with a row (most have none: healthy), locked in key order so that workers never wait on
    each other in a circle."""
    keys = {key_of(d) for d in deliveries}
    query = (
        select(CallbackHealth)
        .where(callback_key().in_(keys))
        .order_by(CallbackHealth.tenant_id, CallbackHealth.application_id, CallbackHealth.role)
        .with_for_update()
    )
    window = timedelta(seconds=settings.retry_window_seconds)
    for row in (await session.execute(query)).scalars():
        if row.state != "closed" or row.consecutive_failures or row.deactivated_at is not None:
            row.updated = now
            await _alive(session, row, now=now, window=window)


async def _alive(
    session: AsyncSession, row: CallbackHealth, *, now: datetime, window: timedelta
) -> None:
    if row.state != "closed":
        await _close(session, row, now=now, window=window)
    row.consecutive_failures = 0
    # Called and answered: any deactivation is over (the application was replaced).
    row.deactivated_at = row.deactivated_app_modified = row.deactivated_callback = None


def _held(row: CallbackHealth, created: datetime, *, now: datetime, window: timedelta) -> timedelta:
    if row.state == "closed" or row.opened_at is None:
        return timedelta(0)
    return min(max(now - max(row.opened_at, created), timedelta(0)), window)


async def _close(
    session: AsyncSession, row: CallbackHealth, *, now: datetime, window: timedelta
) -> None:
    """Close the breaker and give each held delivery the time it was held back. A delivery
    another worker has locked is being recorded, so it was attempted, not held: it is skipped
    (waiting for it could deadlock, as that worker waits for this breaker's row)."""
    query = (
        select(Delivery.id, Delivery.created, Delivery.deadline)
        .where(_same_callback(row), Delivery.state == "pending")
        .with_for_update(skip_locked=True)
    )
    moved = [
        {"id": id_, "deadline": deadline + _held(row, created, now=now, window=window)}
        for id_, created, deadline in (await session.execute(query)).all()
    ]
    if moved:
        await session.execute(update(Delivery), moved)
    row.state, row.opened_at, row.next_probe_at = "closed", None, None


async def long_held(
    session: AsyncSession, delivery: Delivery, *, now: datetime, window: timedelta, limit: int = 100
) -> list[Delivery]:
    """Held deliveries of ``delivery``'s callback whose window, and the extra one the breaker
    gives, are over: to dead-letter after a failed probe."""
    query = (
        select(Delivery)
        .where(
            Delivery.tenant_id == delivery.tenant_id,
            Delivery.recipient_app_id == delivery.recipient_app_id,
            Delivery.recipient_role == delivery.recipient_role,
            Delivery.state == "pending",
            Delivery.id != delivery.id,
            Delivery.deadline < now - window,
            Delivery.lease_until.is_(None),
        )
        .order_by(Delivery.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).scalars())


# --- 410 Gone ---------------------------------------------------------------------------------


async def deactivate(
    session: AsyncSession,
    delivery: Delivery,
    *,
    callback: str,
    app_modified: datetime,
    now: datetime,
) -> None:
    row = await _locked(session, key_of(delivery), create=True, now=now)
    assert row is not None
    row.deactivated_at, row.deactivated_app_modified = now, app_modified
    row.deactivated_callback, row.updated = callback, now
