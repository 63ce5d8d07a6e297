"""The circuit breaker per callback: a callback that keeps failing is held (its deliveries are
deferred without using up attempts), one probe at a time tries it again, a success closes it and
the held messages go out in order. A dead receiver never slows deliveries to a healthy one."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timedelta

from sqlalchemy import update

from convhub.core.database import Database, utcnow
from convhub.models import Delivery
from tests.conversations.conftest import build_apps, only, received, say, send
from tests.operations.conftest import THRESHOLD, WINDOW, deliveries, eventually, state_of
from tests.receivers import Reply, receiving

DEAD = 30  # conversations whose first message goes to the dead receiver
HEALTHY = 20  # messages to the healthy receiver, sent once the breaker is open


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _breaker(tenant, application_id: str) -> dict | None:
    callbacks = (await tenant.ops.get("/callbacks")).json()["callback"]
    return next((c for c in callbacks if c["recipient"]["applicationId"] == application_id), None)


async def _open(tenant, application_id: str) -> dict | None:
    found = await _breaker(tenant, application_id)
    return found if found and found["breaker"] != "closed" else None


class TestBreaker:
    async def test_a_dead_receiver_does_not_slow_a_healthy_one(self, tenant, make_tenant):
        # Two tenants (an orchestration's bot participant is named "eva" in build_apps, and
        # names are unique per tenant); one worker delivers for both, as it does for any two
        # callbacks.
        other = await make_tenant()
        with ExitStack() as stack:
            dead_rx = [stack.enter_context(receiving()) for _ in range(3)]
            healthy_rx = [stack.enter_context(receiving()) for _ in range(3)]
            dead = await build_apps(tenant.api, tuple(dead_rx))
            healthy = await build_apps(other.api, tuple(healthy_rx))
            # Slow failures (under the 5 s timeout): without a breaker, they would keep the
            # worker's 4 slots busy; with it, one probe at a time takes one slot.
            dead.bot.default = Reply(status=503, delay=3.0)
            held = []
            for i in range(DEAD):
                answer = await send(tenant.api, dead.start(f"dead {i}"))
                held.append(answer["messages"]["message"][0]["id"])
            app_id = (await deliveries(tenant.ops, held[0]))["delivery"][0]["recipient"][
                "applicationId"
            ]
            breaker = await eventually(lambda: _open(tenant, app_id))
            assert breaker["consecutiveFailures"] >= THRESHOLD
            assert breaker["lastError"] == "the callback answered 503"

            answer = await send(other.api, healthy.start("healthy 0"))
            conversation_id = answer["messages"]["message"][0]["conversation"]["id"]
            for start in range(1, HEALTHY, 10):
                end = min(start + 10, HEALTHY)
                await send(
                    other.api,
                    *(say(conversation_id, "customer", f"healthy {i}") for i in range(start, end)),
                )
            bodies = await received(healthy.bot, HEALTHY)
            assert [only(b)["content"]["text"] for b in bodies] == [
                f"healthy {i}" for i in range(HEALTHY)
            ]
            # Meanwhile the dead receiver was called far fewer times than it has messages: held
            # deliveries are deferred, their attempts not used up.
            assert len(dead.bot.requests) < DEAD
            logs = [(await deliveries(tenant.ops, m))["delivery"][0] for m in held]
            assert {d["state"] for d in logs} == {"pending"}
            assert any(not d["attempt"] for d in logs)

            # The receiver comes back: the next probe closes the breaker, everything goes out.
            dead.bot.default = Reply(status=202)
            for message_id in held:
                delivery = await state_of(tenant.ops, message_id, "sent")
            assert await _breaker(tenant, app_id) is None  # healthy again: not listed
            delivered = {only(r.json())["content"]["text"] for r in dead.bot.requests if r.json()}
            assert delivered == {f"dead {i}" for i in range(DEAD)}
            # The time held was given back to the window of those still waiting at the close.
            last = (await deliveries(tenant.ops, held[-1]))["delivery"][0]
            assert _when(last["deadline"]) > _when(last["created"]) + timedelta(seconds=WINDOW)
            assert delivery["state"] == "sent"

    async def test_failures_below_the_threshold_do_not_open_it(self, tenant, apps):
        apps.bot.reply(*[Reply(status=503)] * (THRESHOLD - 1))
        answer = await send(tenant.api, apps.start("almost"))
        message_id = answer["messages"]["message"][0]["id"]
        await state_of(tenant.ops, message_id, "sent")
        app_id = (await deliveries(tenant.ops, message_id))["delivery"][0]["recipient"][
            "applicationId"
        ]
        assert await _breaker(tenant, app_id) is None  # a success resets the count

    async def test_a_refusal_is_an_answer_not_a_failure(self, tenant, apps):
        # 4xx: the receiver is alive (it refuses one message); the breaker stays closed.
        apps.bot.default = Reply(status=400)
        answer = await send(tenant.api, apps.start("0"))
        conversation_id = answer["messages"]["message"][0]["conversation"]["id"]
        await send(
            tenant.api, *(say(conversation_id, "customer", str(i)) for i in range(1, THRESHOLD + 2))
        )
        await received(apps.bot, THRESHOLD + 2)
        message_id = answer["messages"]["message"][0]["id"]
        app_id = (await deliveries(tenant.ops, message_id))["delivery"][0]["recipient"][
            "applicationId"
        ]
        assert await _breaker(tenant, app_id) is None


class TestWindow:
    async def test_after_one_extra_window_held_messages_are_dead_lettered(
        self, tenant, apps, ops_settings
    ):
        # A receiver that never comes back. The breaker holds its messages; once their own window
        # and the extra one the breaker gives are over, the next failed probe dead-letters them
        # all (not one per probe). Two windows are not waited for here: the messages' deadlines
        # are moved back, as if they had been accepted that long ago.
        apps.bot.default = Reply(status=503)
        held = []
        for i in range(THRESHOLD + 2):
            answer = await send(tenant.api, apps.start(f"held {i}"))
            held.append(answer["messages"]["message"][0]["id"])
        app_id = (await deliveries(tenant.ops, held[0]))["delivery"][0]["recipient"][
            "applicationId"
        ]
        await eventually(lambda: _open(tenant, app_id))
        assert {(await deliveries(tenant.ops, m))["delivery"][0]["state"] for m in held} == {
            "pending"
        }
        database = Database(ops_settings.database_url)
        try:
            async with database.session() as session:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.message_id.in_(held))
                    .values(deadline=utcnow() - timedelta(seconds=WINDOW + 1))
                )
        finally:
            await database.dispose()
        for message_id in held:
            await state_of(tenant.ops, message_id, "dead")
        letters = (await tenant.ops.get("/deadletters")).json()["deadLetter"]
        assert sorted(d["messageId"] for d in letters) == sorted(held)
        errors = await received(apps.customer, len(held))  # every sender is told
        assert {only(e)["parent"]["id"] for e in errors} == set(held)
