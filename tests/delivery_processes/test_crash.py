"""At least once, in order, across a crash (DECISIONS §8): the worker process is SIGKILLed in the
middle of a burst while the receiver fails one callback in four; a new worker finishes the job."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter

import pytest

from tests.delivery_processes.conftest import (
    Arrivals,
    delivered_ids,
    send_burst,
    wait_for_all,
)
from tests.receivers import Reply

# The receiver answers 503 to one request in four for this many requests, then 202 only.
FLAKY = [Reply(status=503) if i % 4 == 0 else Reply(status=202) for i in range(400)]
# Messages delivered before the kill: some, well before all (about 1,050).
KILL_AFTER = 150


def _status(i: int) -> int:
    """The receiver's answer to its ``i``-th request."""
    return FLAKY[i].status if i < len(FLAKY) else 202


class TestWorkerCrash:
    # 2 s: what the killed worker held is taken over 2 s later; its runs end at their heads (a
    # follower goes only while the lease outlasts two timeouts). 20 s: on PostgreSQL the worker
    # posts whole runs of a conversation's messages, each before the one before is recorded.
    @pytest.mark.parametrize("lease", [2, 20], ids=["short-lease", "runs"])
    async def test_a_killed_worker_loses_nothing_and_keeps_the_order(
        self, hub, apps, processes_settings, workers, lease
    ):
        settings = processes_settings.model_copy(update={"delivery_lease_seconds": lease})
        apps.bot.reply(*FLAKY)
        began = time.monotonic()
        first = workers(settings)
        sending = asyncio.create_task(send_burst(hub, apps))
        try:
            while len(delivered_ids(apps.bot.requests, _status)) < KILL_AFTER:
                assert time.monotonic() - began < 60, "the first worker delivers nothing"
                if sending.done():
                    sending.result()  # raises what went wrong
                await asyncio.sleep(0.01)
            first.kill()
            at_kill = len(delivered_ids(apps.bot.requests, _status))
            second = workers(settings)
            burst = await sending
        finally:
            if not sending.done():
                sending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sending
        sent = time.monotonic() - began
        assert burst.count >= 1000
        assert at_kill < burst.count // 2, f"{at_kill} of {burst.count} delivered before the kill"

        took = await wait_for_all(apps.bot, set(burst.conversation_of), _status, within=120)
        await asyncio.sleep(0.5)  # a late duplicate, if any, is counted too
        arrivals = Arrivals.of(burst, apps.bot.requests, _status)
        # Not from the kill: the second worker's own lease ran out before it recorded an
        # outcome (a busy database), and it took the delivery again.
        delivered = Counter(a["message"] for a in second.attempts() if a["result"] == "delivered")
        relapses = sum(n - 1 for n in delivered.values())
        summary = (
            f"{burst.count} messages in {len(burst.accepted)} conversations, sent in {sent:.1f} s "
            f"({burst.refused} requests answered 5xx and sent again); "
            f"{at_kill} delivered before the kill, all {took:.1f} s after the burst; "
            f"{len(apps.bot.requests)} callbacks, {arrivals.duplicates()} duplicates "
            f"({relapses} by the second worker's expired leases), "
            f"{arrivals.torn} torn by the kill, {arrivals.foreign} foreign"
        )
        print(summary)
        assert arrivals.foreign == 0, summary
        assert arrivals.order_problems(burst) == [], summary
