"""A conversation end to end: customer → bot → escalation with transcript → agent → end, through
real callbacks on loopback (DECISIONS §6-§8)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from tests.conversations.conftest import event, only, received, say, send


class TestCustomerToBot:
    async def test_first_message_starts_a_conversation_and_reaches_the_bot(self, hub, apps):
        answer = await send(hub, apps.start("I need help", messageId="m-1"))
        [accepted] = answer["messages"]["message"]
        assert accepted["messageId"] == "m-1"
        assert len(accepted["id"]) == 36
        conversation_id = accepted["conversation"]["id"]
        [body] = await received(apps.bot, 1)
        message = only(body)
        assert message["id"] == accepted["id"]
        assert message["messageId"] == "m-1"
        assert message["type"] == {"value": "text"}
        assert message["content"] == {"text": "I need help"}
        assert message["sender"] == {"type": "customer", "participant": {"name": "John"}}
        assert message["recipients"] == {
            "recipient": [{"type": "custom_bot", "participant": {"name": "eva"}}]
        }
        conversation = message["conversation"]
        assert conversation["id"] == conversation_id
        assert conversation["account"]["address"] == apps.address
        assert conversation["account"]["channel"]["type"] == apps.channel_type
        assert conversation["account"]["id"] == apps.account
        assert conversation["entryPoint"] == {"id": apps.entry_point}
        assert conversation["customer"] == {"name": "John smith", "type": "individual"}
        assert apps.bot.requests[0].path == "/custom_bot"
        assert apps.customer.requests == []

    async def test_callback_carries_custom_headers_and_a_verifiable_signature(self, hub, apps, api):
        answer = await send(hub, apps.start())
        await received(apps.bot, 1)
        request = apps.bot.requests[0]
        assert request.header("X-custom-header") == "xyz"
        assert request.header("Content-Type") == "application/json"
        message_id = answer["messages"]["message"][0]["id"]
        assert request.header("webhook-id") == message_id
        secret = api.signing_secret
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{message_id}.{request.header('webhook-timestamp')}.".encode() + request.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert f"v1,{expected}" in request.header("webhook-signature").split()

    async def test_bot_reply_reaches_the_customer(self, hub, apps):
        started = await send(hub, apps.start())
        conversation_id = started["messages"]["message"][0]["conversation"]["id"]
        await send(hub, say(conversation_id, "custom_bot", "Your order number?"))
        [body] = await received(apps.customer, 1)
        message = only(body)
        assert message["content"] == {"text": "Your order number?"}
        assert message["recipients"]["recipient"][0]["type"] == "customer"
        assert apps.customer.requests[0].path == "/customer"


class TestEscalation:
    async def test_bot_escalates_with_the_transcript_then_agent_and_customer_talk(self, hub, apps):
        started = await send(hub, apps.start("I need help"))
        conversation_id = started["messages"]["message"][0]["conversation"]["id"]
        await send(hub, say(conversation_id, "custom_bot", "What is it about?"))
        await send(hub, say(conversation_id, "customer", "A person please"))
        await received(apps.bot, 2)
        await send(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
        [body] = await received(apps.agent, 1)
        transfer = only(body)
        assert transfer["type"] == {"value": "escalation.transfer"}
        texts = [m["content"]["text"] for m in transfer["conversation"]["messages"]["message"]]
        assert texts == ["I need help", "What is it about?", "A person please"]
        assert transfer["conversation"]["account"]["address"] == apps.address
        # After the escalation the bot is out and the customer talks to the agent.
        refused = await hub.post(
            "/conversations/messages",
            json={"messages": {"message": [say(conversation_id, "custom_bot", "still here")]}},
        )
        assert refused.status_code == 400
        assert refused.json()["code"] == "400-240"
        await send(hub, say(conversation_id, "customer", "Hello agent"))
        bodies = await received(apps.agent, 2)
        assert only(bodies[1])["content"] == {"text": "Hello agent"}
        await send(hub, say(conversation_id, "custom_agent", "Hello, I am Ann"))
        customer_bodies = await received(apps.customer, 2)
        assert only(customer_bodies[1])["content"] == {"text": "Hello, I am Ann"}
        assert len(apps.bot.requests) == 2

    async def test_agent_hands_back_to_the_bot_with_an_intent(self, hub, apps):
        started = await send(hub, apps.start())
        conversation_id = started["messages"]["message"][0]["conversation"]["id"]
        await send(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
        await received(apps.agent, 1)
        handoff = event(conversation_id, "custom_agent", "escalation.transfer")
        handoff["intent"] = {"value": "order_complaints"}
        await send(hub, handoff)
        bodies = await received(apps.bot, 2)
        assert only(bodies[1])["type"] == {"value": "escalation.transfer"}
        assert only(bodies[1])["intent"] == {"value": "order_complaints"}
        await send(hub, say(conversation_id, "customer", "back to you, bot"))
        bodies = await received(apps.bot, 3)
        assert only(bodies[2])["content"] == {"text": "back to you, bot"}


class TestEnd:
    async def test_end_completes_and_later_messages_are_refused(self, hub, apps):
        started = await send(hub, apps.start())
        conversation_id = started["messages"]["message"][0]["conversation"]["id"]
        await send(hub, event(conversation_id, "custom_bot", "conversation.end"))
        [body] = await received(apps.customer, 1)
        assert only(body)["type"] == {"value": "conversation.end"}
        refused = await hub.post(
            "/conversations/messages",
            json={"messages": {"message": [say(conversation_id, "customer")]}},
        )
        assert refused.status_code == 400
        assert refused.json() == {
            "code": "400-630",
            "developerMessage": "Following conversation id is invalid, completed or expired : "
            f"{conversation_id}.",
        }
