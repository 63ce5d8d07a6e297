"""Claiming (outbox.claim): only the head of each lane, with what its target needs (the tenant's
configuration version), and on PostgreSQL what follows each head in its lane (a run); and leases
taken ahead given back (outbox.release) when a stopping worker will not attempt them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from convhub.core.database import Database
from convhub.delivery import outbox
from convhub.models import Delivery
from tests.delivery_processes.test_idle import NOW, _lane

LEASE = timedelta(seconds=60)


async def _claim(db: Database, owner: str, limit: int = 10, run: int = 1) -> list[outbox.Claimed]:
    async with db.session() as session:
        return await outbox.claim(
            session, owner=owner, limit=limit, lease=LEASE, probe=LEASE, probes=False, run=run
        )


async def _deliveries(db: Database) -> list[Delivery]:
    async with db.session(write=False) as session:
        return list((await session.execute(select(Delivery).order_by(Delivery.seq))).scalars())


async def test_only_each_lanes_head_is_claimed(db):
    await _lane(db, next_attempts=[NOW, NOW, NOW])
    await _lane(db, next_attempts=[NOW, NOW])
    claimed = await _claim(db, "w1")
    assert sorted(c.delivery.seq for c in claimed) == [1, 1]
    assert {(c.config_version, c.maybe_deactivated) for c in claimed} == {(0, False)}
    assert await _claim(db, "w2") == []  # the heads are leased, the rest wait behind them


async def test_released_leases_are_claimable_at_once(db):
    await _lane(db, next_attempts=[NOW])
    [first] = await _claim(db, "w1")
    async with db.session() as session:
        await outbox.release(session, ids=[first.delivery.id], owner="another worker")
    assert await _claim(db, "w2") == []  # only the owner gives a lease back

    async with db.session() as session:
        await outbox.release(session, ids=[first.delivery.id], owner="w1")
    [delivery] = await _deliveries(db)
    assert (delivery.lease_until, delivery.lease_owner, delivery.attempts) == (None, None, 0)
    [again] = await _claim(db, "w2")
    assert again.delivery.id == first.delivery.id


async def test_a_run_takes_what_follows_each_head_on_postgresql(db):
    await _lane(db, next_attempts=[NOW] * 5)
    await _lane(db, next_attempts=[NOW] * 2)
    claimed = await _claim(db, "w1", limit=10, run=3)
    seqs = sorted((c.delivery.conversation_id, c.delivery.seq) for c in claimed)
    by_lane: dict[str, list[int]] = {}
    for conversation, seq in seqs:
        by_lane.setdefault(conversation, []).append(seq)
    # SQLite claims the heads alone (its claim has no LATERAL).
    expected = [[1, 2], [1, 2, 3]] if db.autocommits else [[1], [1]]
    assert sorted(by_lane.values()) == expected
    assert {c.delivery.attempts for c in claimed} == {1}
    # Nobody else takes a lane's later deliveries while a run holds its head.
    assert await _claim(db, "w2", run=3) == []


async def test_a_run_counts_toward_no_limit_and_stops_at_one_not_due(db):
    await _lane(db, next_attempts=[NOW, NOW, NOW + timedelta(minutes=5), NOW])
    claimed = await _claim(db, "w1", limit=1, run=8)
    # The third waits for its retry: the fourth may not overtake it.
    assert sorted(c.delivery.seq for c in claimed) == ([1, 2] if db.autocommits else [1])


async def test_released_followers_wait_behind_their_head(db):
    await _lane(db, next_attempts=[NOW] * 3)
    claimed = await _claim(db, "w1", run=3)
    followers = [c.delivery.id for c in claimed if c.delivery.seq > 1]
    async with db.session() as session:
        await outbox.release(session, ids=followers, owner="w1")
    # The head is still leased: what was given back is not due before it is delivered.
    assert await _claim(db, "w2", run=3) == []
    assert [d.lease_owner for d in await _deliveries(db)] == ["w1", None, None]


def test_a_run_is_posted_only_from_its_head_on_without_a_gap():
    # Rows as _LEASE_RUNS returns them: the delivery's columns, its configuration version and
    # 410 hint, then its head's id and its place in the run. Under a concurrent writer
    # PostgreSQL may leave out a row it chose: what would follow a missing one is given back.
    width = len(outbox._COLUMNS)

    def row(id_: str, head: str, place: int) -> tuple[object, ...]:
        return (id_, *[None] * (width - 1), 0, False, head, place)

    rows = [
        row("a0", "a0", 0),
        row("a1", "a0", 1),
        row("a3", "a0", 3),  # a2 left out
        row("b1", "b0", 1),  # b0, the head, left out
        row("b2", "b0", 2),
        row("c0", "c0", 0),
    ]
    whole, broken = outbox._whole_runs(rows)
    assert [r[0] for r in whole] == ["a0", "a1", "c0"]
    assert sorted(broken) == ["a3", "b1", "b2"]
