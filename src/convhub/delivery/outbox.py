"""The outbox: deliveries written with their message, claimed by workers under a lease.

A delivery is due when it is pending, its next attempt time has come, nobody holds a valid
lease on it, no earlier delivery of its lane (same conversation and recipient application) is
still pending, and no circuit breaker holds its callback (then only the breaker's probe is
claimed: :mod:`convhub.delivery.health`). Claiming takes a lease with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so any number of workers share the work without taking the same
delivery; on SQLite, write transactions are serialised (BEGIN IMMEDIATE) and the same query is
safe.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from convhub.core.database import UTCDateTime, utcnow
from convhub.delivery import health
from convhub.models import CallbackHealth, Conversation, Delivery, Message, Tenant
from convhub.routing.workflow import Party

RETRY_WINDOW = timedelta(hours=24)


def new_delivery(
    *,
    conversation: Conversation,
    message: Message,
    recipient: Party,
    body: dict[str, Any],
    now: datetime,
    window: timedelta = RETRY_WINDOW,
) -> Delivery:
    """The delivery of ``message`` to ``recipient``, not yet added to a session."""
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
        deadline=now + window,
        created=now,
    )
    message.status = "retryInProgress"
    return delivery


# SQL: pending, written into the statement rather than sent as a parameter: the partial indexes
# (``WHERE state = 'pending'``) serve only a statement that says so itself, and PostgreSQL plans
# a prepared statement once for any parameters (a generic plan) once it has run a few times.
PENDING: Any = literal_column("'pending'")

# SQL: the delivery is the first pending one of its lane (conversation, recipient): no earlier
# delivery of the lane is pending. One probe of ix_deliveries_pending_lane per candidate, which
# holds only pending rows: a lane's delivered history is never read (one GROUP BY over every
# pending row cost a claim 31 ms with 6,000 queued).
_EARLIER = aliased(Delivery, name="earlier")
_LANE_HEAD = ~exists().where(
    _EARLIER.conversation_id == Delivery.conversation_id,
    _EARLIER.recipient_app_id == Delivery.recipient_app_id,
    _EARLIER.state == PENDING,
    _EARLIER.seq < Delivery.seq,
)


def _due_at_now(*, held: bool) -> Any:
    """SQL: due at the parameter ``now``: pending, its time has come, no valid lease, the head
    of its lane (order per conversation and recipient), and its callback's breaker closed (or,
    for probes, not)."""
    now: BindParameter[datetime] = bindparam("now", type_=UTCDateTime())
    return and_(
        Delivery.state == PENDING,
        Delivery.next_attempt_at <= now,
        or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
        _LANE_HEAD,
        health.HELD if held else ~health.HELD,
    )


# The statements of every claim are built once, values as parameters: building them (an alias,
# subqueries, their cache keys) cost more CPU than running them, on the way from commit to
# callback.
_DUE = _due_at_now(held=False)
_DUE_HELD = _due_at_now(held=True)


def _heads(*columns: Any) -> Any:
    """SQL: up to the parameter ``limit`` due deliveries (lane heads), oldest first, locked."""
    return (
        select(*columns)
        .where(_DUE)
        .order_by(Delivery.next_attempt_at, Delivery.seq)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )


# (Its own FROM deliveries, not the UPDATE's row.)
_CHOSEN = _heads(Delivery.id).correlate(None).scalar_subquery()


class Claimed(NamedTuple):
    """A leased delivery, with what its target needs to know without another query: its
    tenant's configuration version (delivery/targets.py keeps configuration per version) and
    whether a ``410 Gone`` may have deactivated its callback."""

    delivery: Delivery
    config_version: int
    maybe_deactivated: bool


_CONFIG_VERSION = (
    select(Tenant.config_version).where(Tenant.id == Delivery.tenant_id).scalar_subquery()
)


def _leasing(wanted: Any, *also: Any) -> Any:
    """SQL: lease the deliveries ``wanted`` selects, returning each with its tenant's
    configuration version, its 410 hint, and the columns ``also``."""
    return (
        update(Delivery)
        .where(wanted)
        .values(
            lease_until=bindparam("leased_until"),
            lease_owner=bindparam("lease_to"),
            attempts=Delivery.attempts + 1,
        )
        .returning(Delivery, _CONFIG_VERSION, health.DEACTIVATED, *also)
        .execution_options(synchronize_session=False)
    )


_LEASE_CHOSEN = _leasing(Delivery.id.in_(_CHOSEN))


def _runs() -> Any:
    """SQL (PostgreSQL): the lane heads :data:`_CHOSEN` takes, and the deliveries that follow
    each in its lane, up to the parameter ``followers`` of them, as far as each is due, not
    leased and for the same callback (the run stops at the first that is not); each row with
    its head's id and its place in the run (the head 0).

    The worker posts a run one delivery after the other (delivery/worker.py): a lane's next
    message goes out when the one before is answered, not after its outcome is recorded and a
    claim comes back, which bounded a busy lane to one message per claim. Safe among workers as
    the head alone is: only a lane's head is ever chosen, and whoever leases it leases its
    followers in the same statement, so nobody else sees them as a head while the run holds
    them."""
    now: BindParameter[datetime] = bindparam("now", type_=UTCDateTime())
    heads = _heads(
        Delivery.id,
        Delivery.conversation_id,
        Delivery.recipient_app_id,
        Delivery.recipient_role,
        Delivery.seq,
    ).cte("heads")
    later = aliased(Delivery, name="later")
    goes = and_(
        later.recipient_role == heads.c.recipient_role,
        later.next_attempt_at <= now,
        or_(later.lease_until.is_(None), later.lease_until < now),
    )
    ahead = (
        select(later.id, later.seq, goes.label("goes"))
        .where(
            later.conversation_id == heads.c.conversation_id,
            later.recipient_app_id == heads.c.recipient_app_id,
            later.state == PENDING,
            later.seq > heads.c.seq,
        )
        .order_by(later.seq)
        .limit(bindparam("followers"))
        .lateral("ahead")
    )
    by_head: dict[str, Any] = {"partition_by": heads.c.id, "order_by": ahead.c.seq}
    run = (
        select(
            ahead.c.id,
            heads.c.id.label("head"),
            func.row_number().over(**by_head).label("place"),
            func.bool_and(ahead.c.goes).over(**by_head).label("unbroken"),
        )
        .select_from(heads.join(ahead, true()))
        .subquery("run")
    )
    return union_all(
        select(heads.c.id, heads.c.id.label("head"), literal(0).label("place")),
        select(run.c.id, run.c.head, run.c.place).where(run.c.unbroken),
    ).subquery("chosen")


_RUN = _runs()
# UPDATE ... FROM the runs: each leased row says whose run it is in and where. Under a
# concurrent writer, PostgreSQL may leave out a row it chose (READ COMMITTED looks at a row
# changed since the statement began again, and a join may then not match): :func:`claim` keeps
# a run only from its head on and only without a gap.
_LEASE_RUNS = _leasing(
    and_(Delivery.id == _RUN.c.id, Delivery.state == PENDING), _RUN.c.head, _RUN.c.place
)


async def claim(
    session: AsyncSession,
    *,
    owner: str,
    limit: int,
    lease: timedelta,
    probe: timedelta,
    probes: bool = True,
    run: int = 1,
) -> list[Claimed]:
    """Take a lease on up to ``limit`` due deliveries, oldest first, and (unless ``probes`` is
    false) on the probes of open circuit breakers whose time has come.

    ``run`` > 1, on PostgreSQL, with no probe due: with each delivery (a lane's head), up to
    ``run`` - 1 of those that follow it in its lane (see :func:`_runs`); they do not count
    toward ``limit``."""
    now = utcnow()
    chosen = (
        await health.claim_probes(session, due=_DUE_HELD, now=now, probe=probe, lease=lease)
        if probes
        else []
    )
    # One statement: choose, lease and read (a SELECT of the ids, an UPDATE and a SELECT of the
    # rows were three round trips per claim, each on the way from commit to callback).
    # (Without probes, the usual case, no OR: PostgreSQL then joins the few chosen ids to the
    # primary key instead of testing every row.)
    parameters = {
        "now": now,
        "limit": max(0, limit - len(chosen)),
        "leased_until": now + lease,
        "lease_to": owner,
    }
    if chosen:
        leased = _leasing(or_(Delivery.id.in_(chosen), Delivery.id.in_(_CHOSEN)))
    elif run > 1 and session.get_bind().dialect.name == "postgresql":
        leased, parameters["followers"] = _LEASE_RUNS, run - 1
    else:
        leased = _LEASE_CHOSEN
    # By the session's Connection, not by the Session: the ORM makes a new statement at every
    # execution of an UPDATE, and so walks the whole statement for its cache key each time
    # (measured here: 575 µs of CPU per claim through the Session, 267 through the Connection).
    rows = list((await (await session.connection()).execute(leased, parameters)).all())
    if leased is _LEASE_RUNS:
        rows, broken = _whole_runs(rows)
        if broken:
            await release(session, ids=broken, owner=owner)
    width = len(_COLUMNS)
    claimed = [Claimed(_delivery(row), row[width], bool(row[width + 1])) for row in rows]
    return sorted(claimed, key=lambda c: (c.delivery.next_attempt_at, c.delivery.seq))


def _whole_runs(rows: list[Any]) -> tuple[list[Any], list[str]]:
    """The rows of :data:`_LEASE_RUNS` whose run is whole up to them (its head, then places 1,
    2, ... without a gap), and the ids of the others, leased but not to be posted: a follower
    must never go out before the deliveries ahead of it."""
    head_at, place_at = len(_COLUMNS) + 2, len(_COLUMNS) + 3
    by_head: dict[str, dict[int, Any]] = {}
    for row in rows:
        by_head.setdefault(row[head_at], {})[row[place_at]] = row
    whole: list[Any] = []
    broken: list[str] = []
    for places in by_head.values():
        place = 0
        while place in places:
            whole.append(places.pop(place))
            place += 1
        broken.extend(row[0] for row in places.values())
    return whole, broken


_COLUMNS = tuple(column.key for column in Delivery.__table__.columns)


def _delivery(row: Any) -> Delivery:
    """The delivery of a claim's row (its columns first, in the table's order); in no session,
    as the worker holds it once the claim's session has closed."""
    return Delivery(**dict(zip(_COLUMNS, row, strict=False)))


async def release(session: AsyncSession, *, ids: list[str], owner: str) -> None:
    """Give back leases taken by :func:`claim` for deliveries not attempted after all."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.lease_owner == owner, Delivery.state == "pending")
        .values(lease_until=None, lease_owner=None, attempts=Delivery.attempts - 1)
        .execution_options(synchronize_session=False)
    )


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the earliest delivery becomes due (for the worker's sleep). Only the head of a lane
    can be due, and not before its lease runs out: the later messages of a conversation whose
    first is waiting for its retry, or in flight at another worker, are not due now (counting
    them kept an idle worker polling without a pause). A delivery held by a circuit breaker
    counts from the breaker's next probe."""
    due, probe = (await session.execute(_NEXT_DUE)).one()
    return min((t for t in (due, probe) if t is not None), default=None)


_LEASED = Delivery.lease_until > Delivery.next_attempt_at  # NULL (no lease) is not true
# One statement (it follows every claim that found nothing): the earliest due delivery, and the
# earliest probe of an open breaker.
_NEXT_DUE = select(
    select(func.min(case((_LEASED, Delivery.lease_until), else_=Delivery.next_attempt_at)))
    .where(Delivery.state == PENDING, _LANE_HEAD, ~health.HELD)
    .scalar_subquery(),
    select(func.min(CallbackHealth.next_probe_at))
    .where(CallbackHealth.state != "closed")
    .scalar_subquery(),
)
