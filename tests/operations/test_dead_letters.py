"""Dead letters and re-delivery: a message still failing at the end of its retry window is
dead-lettered (its status is ``failed``, as the contract says), listed by ``GET
/convhub/v1/deadletters``, and ``POST /convhub/v1/messages/{id}/redeliver`` sends a failed or
dead-lettered message again, before the later messages of its lane."""

from __future__ import annotations

from tests.conversations.conftest import only, received, say, send
from tests.operations.conftest import deliveries, eventually, state_of
from tests.receivers import Reply

# Retry in an hour: 36 s here, past the 30 s window, so the window ends before the next attempt
# could be made (one failure does not open the breaker: the window alone decides).
SLOW_RETRY = Reply(status=503, headers={"Retry-After": "3600"})


async def _start(tenant, apps, text="Hello", **extra) -> tuple[str, str]:
    answer = await send(tenant.api, apps.start(text, **extra))
    accepted = answer["messages"]["message"][0]
    return accepted["id"], accepted["conversation"]["id"]


async def _status(tenant, conversation_id, index) -> str | None:
    view = (await tenant.api.get(f"/conversations/{conversation_id}")).json()
    return view["messages"]["message"][index].get("status")


async def _dead_letter(tenant, apps) -> tuple[str, str]:
    apps.bot.default = SLOW_RETRY
    message_id, conversation_id = await _start(tenant, apps, "never answered")
    await state_of(tenant.ops, message_id, "dead")
    return message_id, conversation_id


class TestDeadLetters:
    async def test_still_failing_at_the_end_of_the_window(self, tenant, apps):
        message_id, conversation_id = await _dead_letter(tenant, apps)
        assert len(apps.bot.requests) == 1
        assert await _status(tenant, conversation_id, 0) == "failed"
        [error] = await received(apps.customer, 1)  # the sender hears of it, as for any failure
        assert only(error)["parent"]["id"] == message_id
        [delivery] = (await deliveries(tenant.ops, message_id))["delivery"]
        assert [a["statusCode"] for a in delivery["attempt"]] == [503]

    async def test_listed_oldest_first_and_paginated(self, tenant, apps):
        apps.bot.default = SLOW_RETRY
        first, _ = await _start(tenant, apps, "one")
        second, _ = await _start(tenant, apps, "two")
        await state_of(tenant.ops, first, "dead")
        await state_of(tenant.ops, second, "dead")
        answer = await tenant.ops.get("/deadletters", params={"$pagesize": "1", "$pagenum": "2"})
        assert answer.status_code == 200
        body = answer.json()
        assert body["paginationInfo"] == {"count": 2, "pagenum": 2, "pagesize": 1}
        [letter] = body["deadLetter"]
        assert letter["messageId"] == second
        assert letter["lastStatusCode"] == 503
        assert letter["lastError"] == "the callback answered 503"
        assert letter["recipient"]["role"] == "custom_bot"
        everything = (await tenant.ops.get("/deadletters")).json()["deadLetter"]
        assert [d["messageId"] for d in everything] == [first, second]

    async def test_a_refused_message_is_failed_not_dead(self, tenant, apps):
        apps.bot.reply(Reply(status=400))
        message_id, _ = await _start(tenant, apps)
        await state_of(tenant.ops, message_id, "failed")
        body = (await tenant.ops.get("/deadletters")).json()
        assert body == {
            "paginationInfo": {"count": 0, "pagenum": 1, "pagesize": 25},
            "deadLetter": [],
        }

    async def test_other_tenants_see_none(self, tenant, apps, make_tenant):
        await _dead_letter(tenant, apps)
        other = await make_tenant()
        assert (await other.ops.get("/deadletters")).json()["deadLetter"] == []

    async def test_bad_pagination_is_refused(self, tenant):
        answer = await tenant.ops.get("/deadletters", params={"$pagesize": "0"})
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-244"
        answer = await tenant.ops.get("/deadletters", params={"page": "1"})
        assert answer.json()["code"] == "400-101"


class TestRedeliver:
    async def test_a_dead_letter_is_delivered_again(self, tenant, apps):
        message_id, conversation_id = await _dead_letter(tenant, apps)
        apps.bot.default = Reply(status=202)
        answer = await tenant.ops.post(f"/messages/{message_id}/redeliver")
        assert answer.status_code == 202, answer.text
        [delivery_id] = answer.json()["delivery"]
        assert answer.json()["messageId"] == message_id
        bodies = await received(apps.bot, 2)
        assert only(bodies[1])["id"] == message_id
        assert {r.header("webhook-id") for r in apps.bot.requests} == {message_id}
        delivery = await state_of(tenant.ops, message_id, "sent")
        assert delivery["id"] == delivery_id
        assert [a["number"] for a in delivery["attempt"]] == [1, 2]  # the log goes on
        assert [a["statusCode"] for a in delivery["attempt"]] == [503, 202]
        assert await eventually(lambda: _sent(tenant, conversation_id))
        assert (await tenant.ops.get("/deadletters")).json()["deadLetter"] == []

    async def test_it_goes_before_the_later_messages_of_its_lane(self, tenant, apps):
        apps.bot.reply(Reply(status=400))
        first, conversation_id = await _start(tenant, apps, "first")
        await state_of(tenant.ops, first, "failed")
        # "second" fails and is due again in 1 s; "first", re-delivered, fails too and is due
        # again in 2 s: "second" must still wait for it.
        apps.bot.reply(Reply(status=503, headers={"Retry-After": "100"}))
        answer = await send(tenant.api, say(conversation_id, "customer", "second"))
        second = answer["messages"]["message"][0]["id"]
        await received(apps.bot, 2)
        apps.bot.reply(Reply(status=503, headers={"Retry-After": "200"}))
        assert (await tenant.ops.post(f"/messages/{first}/redeliver")).status_code == 202
        bodies = await received(apps.bot, 5)
        texts = [only(b)["content"]["text"] for b in bodies]
        assert texts == ["first", "second", "first", "first", "second"]
        await state_of(tenant.ops, second, "sent")

    async def test_nothing_failed_is_409(self, tenant, apps):
        message_id, _ = await _start(tenant, apps)
        await state_of(tenant.ops, message_id, "sent")
        answer = await tenant.ops.post(f"/messages/{message_id}/redeliver")
        assert answer.status_code == 409
        assert answer.json()["code"] == "409-901"
        assert message_id in answer.json()["developerMessage"]

    async def test_a_redacted_message_cannot_be_redelivered(self, tenant, apps):
        apps.bot.reply(Reply(status=400))
        message_id, _ = await _start(tenant, apps, content={"text": "4111 1111", "redact": True})
        await state_of(tenant.ops, message_id, "failed")
        answer = await tenant.ops.post(f"/messages/{message_id}/redeliver")
        assert answer.status_code == 409
        assert answer.json()["code"] == "409-902"
        [delivery] = (await deliveries(tenant.ops, message_id))["delivery"]
        assert delivery["state"] == "failed"  # nothing changed


async def _sent(tenant, conversation_id) -> bool:
    return await _status(tenant, conversation_id, 0) == "sent"
