"""Two worker processes on one PostgreSQL database (DECISIONS §8): they share a burst without
delivering any message twice and keep each conversation's order. Collected on PostgreSQL only
(see conftest.py)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from convhub.core.database import Database
from tests.delivery_processes.conftest import Arrivals, send_burst, wait_for_all


def _accepted(_: int) -> int:
    return 202


class TestTwoWorkers:
    async def test_two_workers_deliver_each_message_once_in_order(
        self, hub, apps, processes_settings, workers
    ):
        # The default lease (a minute): no delivery outlives it, so nothing may come twice.
        one, two = workers(processes_settings), workers(processes_settings)
        # Both up before the burst: on a loaded machine a process may take seconds to start,
        # and the first would deliver the whole burst alone.
        await _listening(processes_settings.database_url, 2)
        began = time.monotonic()
        burst = await send_burst(hub, apps)
        sent = time.monotonic() - began
        assert burst.count >= 1000

        took = await wait_for_all(apps.bot, set(burst.conversation_of), _accepted, within=120)
        await asyncio.sleep(0.5)  # a late duplicate, if any, is counted too
        arrivals = Arrivals.of(burst, apps.bot.requests, _accepted)
        ours = burst.conversation_of
        shares = [sum(a["message"] in ours for a in w.attempts()) for w in (one, two)]
        summary = (
            f"{burst.count} messages in {len(burst.accepted)} conversations, sent in {sent:.1f} s "
            f"({burst.refused} requests answered 5xx), "
            f"all delivered {took:.1f} s later; {len(apps.bot.requests)} callbacks, "
            f"{arrivals.duplicates()} duplicates; attempts per worker {shares}"
        )
        print(summary)
        assert burst.refused == 0, summary  # PostgreSQL has no reason to refuse a request
        assert arrivals.foreign == 0, summary
        assert len(apps.bot.requests) == burst.count, summary  # each message exactly once
        assert arrivals.duplicates() == 0, summary
        assert arrivals.order_problems(burst) == [], summary
        assert all(share > 0 for share in shares), summary


async def _listening(url: str, count: int, *, within: float = 60) -> None:
    """Wait until ``count`` connections of the database LISTEN (one per worker process)."""
    db = Database(url)
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
    )
    try:
        deadline = time.monotonic() + within
        while True:
            async with db.session(write=False) as session:
                if (await session.scalar(query) or 0) >= count:
                    return
            assert time.monotonic() < deadline, f"fewer than {count} workers listening"
            await asyncio.sleep(0.1)
    finally:
        await db.dispose()
