"""A receiver down for hours (DECISIONS §8), time compressed by ``retry_scale``: what was accepted
before and during the outage is retried with growing delays, and all of it is delivered once the
receiver is back, in order per conversation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from convhub.core.settings import Settings
from tests.conversations.conftest import build_apps
from tests.databases import fresh_database
from tests.delivery_processes.conftest import Arrivals, delivered_ids, wait_for_all
from tests.faults.conftest import (
    ApiProcess,
    Resending,
    accepted_status,
    api_client,
    assert_stored_once,
    send_batches,
    start_conversations,
    stored_messages,
    tenant_token,
)
from tests.receivers import Reply, receiving

# One hour of retry delays lasts 0.72 s: the schedule reaches its 30-60 minute steps within the
# first simulated hour or two, and an outage of OUTAGE_HOURS lasts a few seconds.
SCALE = 0.0002
HOUR = 3600 * SCALE
OUTAGE_HOURS = 8
CONVERSATIONS = 10
BATCH = 5  # messages a conversation sends before and again during the outage


@pytest.fixture
def api(settings: Settings, tmp_path) -> Iterator[ApiProcess]:
    with fresh_database(tmp_path) as url:
        process = ApiProcess(
            settings.model_copy(
                update={
                    "database_url": url,
                    "allow_private_callbacks": True,
                    "retry_scale": SCALE,
                    # The breaker's probe interval, shortened like the retry delays: its next
                    # probe sees the receiver back within half a second, not 30 s.
                    "breaker_probe_seconds": 0.5,
                    "run_worker": True,
                }
            ),
            tmp_path,
        )
        process.start()
        try:
            yield process
        finally:
            process.stop()


def _down(_index: int) -> int:
    return 503


class TestReceiverOutage:
    async def test_everything_accepted_is_delivered_in_order_after_hours_down(self, api):
        token = await tenant_token(api.settings)
        burst = Resending()
        with receiving() as customer, receiving() as bot, receiving() as agent:
            bot.default = Reply(status=503)  # down: every callback fails, to be retried
            async with api_client(api.url, token) as hub:
                apps = await build_apps(hub, (customer, bot, agent))
                began = time.monotonic()
                conversations = await start_conversations(hub, apps, CONVERSATIONS, burst)
                await send_batches(hub, conversations, burst, batches=1, batch=BATCH)
                await asyncio.sleep(OUTAGE_HOURS * HOUR / 2)
                # More messages while the receiver is still down.
                await send_batches(
                    hub, conversations, burst, batches=1, batch=BATCH, first=1 + BATCH
                )
                stored = [m for c in conversations for m in await stored_messages(hub, c)]
                assert {m["status"] for m in stored} == {"retryInProgress"}
                await asyncio.sleep(max(0.0, began + OUTAGE_HOURS * HOUR - time.monotonic()))
                during = bot.requests
                bot.default = Reply(status=202)  # back up

                await wait_for_all(bot, set(burst.conversation_of), accepted_status, within=60)
                await assert_stored_once(hub, burst)
                stored = [m for c in conversations for m in await stored_messages(hub, c)]
        assert not delivered_ids(during, _down), "a callback succeeded while the receiver was down"
        # Only the first message of each conversation is tried while it fails: a later one
        # never overtakes it (DECISIONS §8), so the outage saw the first messages only.
        tried = {r.header("webhook-id") for r in during}
        firsts = {ids[0] for ids in burst.accepted.values()}
        # How often each was tried depends on the circuit breaker: after a few failures in a row
        # it holds the callback's deliveries and only probes it (one at a time, oldest first).
        assert tried
        assert tried <= firsts
        per_first = len(during) / len(tried)
        after = bot.requests[len(during) :]
        arrivals = Arrivals.of(burst, after, accepted_status)
        print(
            f"{burst.count} messages over {CONVERSATIONS} conversations; receiver down "
            f"{OUTAGE_HOURS} simulated hours: {len(during)} failed callbacks "
            f"({per_first:.1f} per conversation tried); then {len(after)} callbacks"
        )
        assert arrivals.order_problems(burst) == []
        assert arrivals.duplicates() == 0
        assert {m["status"] for m in stored} == {"sent"}
