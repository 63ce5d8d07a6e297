"""Delivery to callbacks: in order per conversation and recipient, retried, failed with an
error message to the sender (DECISIONS §8)."""

from __future__ import annotations

import asyncio

from tests.conversations.conftest import only, received, say, send
from tests.receivers import Reply


async def _start(hub, apps, text="Hello"):
    answer = await send(hub, apps.start(text))
    return answer["messages"]["message"][0]["conversation"]["id"]


async def _status(hub, conversation_id, index, wanted, *, within=15.0):
    for _ in range(int(within / 0.05)):
        view = (await hub.get(f"/conversations/{conversation_id}")).json()
        messages = view["messages"]["message"]
        if len(messages) > index and messages[index].get("status") == wanted:
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"message {index} never reached {wanted}: {messages}")


class TestOrder:
    async def test_many_messages_arrive_in_the_order_accepted(self, hub, apps):
        conversation_id = await _start(hub, apps, "0")
        for start in range(1, 31, 10):
            await send(
                hub, *(say(conversation_id, "customer", str(i)) for i in range(start, start + 10))
            )
        bodies = await received(apps.bot, 31)
        assert [only(b)["content"]["text"] for b in bodies] == [str(i) for i in range(31)]

    async def test_a_retried_message_is_not_overtaken(self, hub, apps):
        apps.bot.reply(Reply(status=503), Reply(status=500, headers={"Retry-After": "0"}))
        conversation_id = await _start(hub, apps, "first")
        await send(
            hub,
            say(conversation_id, "customer", "second"),
            say(conversation_id, "customer", "third"),
        )
        await received(apps.bot, 5)
        texts = [r.json()["messages"]["message"][0]["content"]["text"] for r in apps.bot.requests]
        assert texts == ["first", "first", "first", "second", "third"]
        ids = [r.header("webhook-id") for r in apps.bot.requests[:3]]
        assert len(set(ids)) == 1  # the same webhook-id on every retry
        await _status(hub, conversation_id, 0, "sent")

    async def test_a_failure_within_a_run_holds_back_the_rest(self, hub, apps):
        # Five messages committed at once: one claim takes them together on PostgreSQL (a run,
        # delivery/outbox.py), posted one after the other; the second fails once.
        conversation_id = await _start(hub, apps, "0")
        await received(apps.bot, 1)
        apps.bot.reply(Reply(status=202), Reply(status=503, headers={"Retry-After": "0"}))
        await send(hub, *(say(conversation_id, "customer", str(i)) for i in range(1, 6)))
        bodies = await received(apps.bot, 7)
        texts = [only(b)["content"]["text"] for b in bodies]
        assert texts == ["0", "1", "2", "2", "3", "4", "5"]
        # Those given back after the failure were not attempted then: one callback each.
        ids = [r.header("webhook-id") for r in apps.bot.requests]
        assert [ids.count(i) for i in dict.fromkeys(ids)] == [1, 1, 2, 1, 1, 1]
        await _status(hub, conversation_id, 5, "sent")

    async def test_conversations_do_not_wait_for_each_other(self, hub, apps):
        slow = await _start(hub, apps, "slow")
        await received(apps.bot, 1)
        # The next callback fails and asks for a retry in an hour (3.6 s with retry_scale).
        apps.bot.reply(Reply(status=503, headers={"Retry-After": "3600"}))
        await send(hub, say(slow, "customer", "stuck"))
        await received(apps.bot, 2)
        await send(hub, apps.start("other conversation"))
        bodies = await received(apps.bot, 4)
        texts = [only(b)["content"]["text"] for b in bodies]
        assert texts == ["slow", "stuck", "other conversation", "stuck"]


class TestFailure:
    async def test_a_refused_message_fails_and_the_sender_gets_an_error(self, hub, apps):
        apps.bot.reply(Reply(status=400))
        answer = await send(hub, apps.start("rejected", messageId="m-400"))
        accepted = answer["messages"]["message"][0]
        [body] = await received(apps.customer, 1)
        error = only(body)
        assert error["type"] == {"value": "error"}
        assert error["parent"] == {"id": accepted["id"], "messageId": "m-400"}
        assert error["sender"] == {
            "type": "egain_agent",
            "participant": {"type": "system", "name": "System"},
        }
        messages = await _status(hub, accepted["conversation"]["id"], 0, "failed")
        assert messages[1]["type"] == {"value": "error"}

    async def test_later_messages_go_on_after_a_failure(self, hub, apps):
        apps.bot.reply(Reply(status=404))
        conversation_id = await _start(hub, apps, "lost")
        await send(hub, say(conversation_id, "customer", "after"))
        bodies = await received(apps.bot, 2)
        assert only(bodies[1])["content"] == {"text": "after"}

    async def test_retries_run_out_after_the_window(self, hub, apps):
        # retry_scale shrinks delays, not the 24 h window: a receiver that keeps failing is
        # retried again and again, with growing delays, until then.
        apps.bot.default = Reply(status=503)
        conversation_id = await _start(hub, apps, "again and again")
        await received(apps.bot, 4)
        messages = (await hub.get(f"/conversations/{conversation_id}")).json()["messages"][
            "message"
        ]
        assert messages[0]["status"] == "retryInProgress"
        apps.bot.default = Reply(status=202)
        await _status(hub, conversation_id, 0, "sent", within=30)
