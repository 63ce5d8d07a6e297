"""The API process SIGKILLed in the middle of a burst (DECISIONS §6, §8): its clients resend what
went unanswered with the same ``messageId``, starts of conversations included; afterwards every
message is stored exactly once, in one conversation per customer, and delivered, in order per
conversation."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import httpx
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
    start_answers_lost,
    start_conversations,
    tenant_token,
)
from tests.receivers import receiving

CONVERSATIONS = 10  # half of them start before the kill, half as it comes
BATCHES = 6
BATCH = 5  # 31 messages a conversation, 310 in all
# The late half's resent starts are on their way this long before the kill.
START_HEAD_START = 0.02


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
        half = CONVERSATIONS // 2
        total = CONVERSATIONS * (1 + BATCHES * BATCH)
        sending: list[asyncio.Task[None]] = []
        with receiving() as customer, receiving() as bot, receiving() as agent:
            async with api_client(api.url, token) as hub:
                apps = await build_apps(hub, (customer, bot, agent))
                early = await start_conversations(hub, apps, half, burst)
                sending.append(asyncio.create_task(_batches(hub, early, burst, numbered_from=0)))
                try:
                    # Half way through the early half's batches, the other customers start their
                    # conversations and lose the answers; they send the starts again, and the API
                    # is killed with those and batches in flight.
                    while burst.count < total // 4:
                        assert not sending[0].done(), sending[0].result()
                        await asyncio.sleep(0.005)
                    await start_answers_lost(hub, apps, half, burst, first=half)
                    starting = asyncio.create_task(
                        start_conversations(hub, apps, half, burst, first=half)
                    )
                    await asyncio.sleep(START_HEAD_START)
                    api.kill()
                    api.start()
                    late = await starting
                    sending.append(
                        asyncio.create_task(_batches(hub, late, burst, numbered_from=half))
                    )
                    await asyncio.gather(*sending)
                finally:
                    for task in sending:
                        if not task.done():
                            task.cancel()
                            with contextlib.suppress(asyncio.CancelledError):
                                await task

                assert burst.count == total
                await assert_stored_once(hub, burst)
                began = time.monotonic()
                await wait_for_all(bot, set(burst.conversation_of), accepted_status, within=120)
                took = time.monotonic() - began
                await asyncio.sleep(0.5)  # a late duplicate, if any, is counted too
                arrivals = Arrivals.of(burst, bot.requests, accepted_status)
        resent_starts = sum(m.endswith("-m0") for m in burst.resent_ids)
        summary = (
            f"{burst.count} messages in {len(burst.accepted)} conversations, API killed once: "
            f"{burst.unanswered} requests unanswered, {len(burst.failures)} answered 5xx, "
            f"{len(burst.resent_ids)} messageIds sent more than once ({resent_starts} of them "
            f"starts); all delivered {took:.1f} s "
            f"after the burst; {len(bot.requests)} callbacks, {arrivals.duplicates()} duplicates, "
            f"{arrivals.torn} torn"
        )
        print(summary)
        assert burst.unanswered > 0, summary  # the kill did cut requests off
        assert burst.hangs == 0, summary
        assert arrivals.foreign == 0, summary  # a start accepted twice would be foreign
        assert arrivals.order_problems(burst) == [], summary


async def _batches(
    hub: httpx.AsyncClient, conversations: list[str], burst: Resending, *, numbered_from: int
) -> None:
    await send_batches(
        hub, conversations, burst, batches=BATCHES, batch=BATCH, numbered_from=numbered_from
    )
