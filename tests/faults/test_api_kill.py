"""The API process SIGKILLed in the middle of a burst (DECISIONS §6, §8): its clients resend what
went unanswered with the same ``messageId``; afterwards every message is stored exactly once and
delivered, in order per conversation."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest

from convhub.core.settings import Settings
from tests.conversations.conftest import build_apps
from tests.databases import fresh_database
from tests.delivery_processes.conftest import Arrivals, wait_for_all
from tests.faults.conftest import (
    ApiProcess,
    Resending,
    accepted_status,
    api_client,
    assert_stored_once,
    send_batches,
    start_conversations,
    tenant_token,
)
from tests.receivers import receiving

CONVERSATIONS = 10
BATCHES = 6
BATCH = 5  # 31 messages a conversation, 310 in all
KILLS = 1  # the API is killed (and started again) this many times during the burst


@pytest.fixture
def api(settings: Settings, tmp_path) -> Iterator[ApiProcess]:
    """``convhub serve`` with its worker, on a database of its own."""
    with fresh_database(tmp_path) as url:
        process = ApiProcess(
            settings.model_copy(
                update={
                    "database_url": url,
                    "allow_private_callbacks": True,
                    "retry_scale": 0.001,
                    "run_worker": True,
                    # What the killed worker had leased is taken over this soon after the restart.
                    "delivery_lease_seconds": 2,
                }
            ),
            tmp_path,
        )
        process.start()
        try:
            yield process
        finally:
            process.stop()


class TestApiKilled:
    async def test_resent_messages_are_stored_once_and_all_delivered(self, api):
        token = await tenant_token(api.settings)
        burst = Resending()
        with receiving() as customer, receiving() as bot, receiving() as agent:
            async with api_client(api.url, token) as hub:
                apps = await build_apps(hub, (customer, bot, agent))
                conversations = await start_conversations(hub, apps, CONVERSATIONS, burst)
                total = CONVERSATIONS * (1 + BATCHES * BATCH)
                sending = asyncio.create_task(
                    send_batches(hub, conversations, burst, batches=BATCHES, batch=BATCH)
                )
                try:
                    for kill in range(1, KILLS + 1):
                        # Kill while requests are in flight (half way, with one kill).
                        while burst.count < total * kill // (KILLS + 1):
                            assert not sending.done(), sending.result()
                            await asyncio.sleep(0.005)
                        api.kill()
                        api.start()
                    await sending
                finally:
                    if not sending.done():
                        sending.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await sending

                assert burst.count == total
                await assert_stored_once(hub, burst)
                began = time.monotonic()
                await wait_for_all(bot, set(burst.conversation_of), accepted_status, within=120)
                took = time.monotonic() - began
                await asyncio.sleep(0.5)  # a late duplicate, if any, is counted too
                arrivals = Arrivals.of(burst, bot.requests, accepted_status)
        summary = (
            f"{burst.count} messages in {len(burst.accepted)} conversations, API killed {KILLS} "
            f"times: {burst.unanswered} requests unanswered, {len(burst.failures)} answered 5xx, "
            f"{len(burst.resent_ids)} messageIds sent more than once; all delivered {took:.1f} s "
            f"after the burst; {len(bot.requests)} callbacks, {arrivals.duplicates()} duplicates, "
            f"{arrivals.torn} torn"
        )
        print(summary)
        assert burst.unanswered > 0, summary  # the kills did cut requests off
        assert burst.hangs == 0, summary
        assert arrivals.foreign == 0, summary
        assert arrivals.order_problems(burst) == [], summary
