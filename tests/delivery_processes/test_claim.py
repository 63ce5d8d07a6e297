"""Claiming (outbox.claim): only the head of each lane, with what its target needs (the tenant's
configuration version); and leases taken ahead given back (outbox.release) when a stopping
worker will not attempt them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from convhub.core.database import Database
from convhub.delivery import outbox
from convhub.models import Delivery
from tests.delivery_processes.test_idle import NOW, _lane

LEASE = timedelta(seconds=60)


async def _claim(db: Database, owner: str, limit: int = 10) -> list[outbox.Claimed]:
    async with db.session() as session:
        return await outbox.claim(
            session, owner=owner, limit=limit, lease=LEASE, probe=LEASE, probes=False
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
