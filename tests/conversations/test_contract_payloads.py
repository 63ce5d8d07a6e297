"""What the hub sends holds to the contract, attribute for attribute: every callback body is a
``CallbackRequestData``, every 202 a ``SendMessageResponseData``, ``GET /conversations/{id}`` a
``ResponseConversation``. The models are the exact ones of ``views.py``: an attribute the
contract does not define, or a ``null``, fails the test."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from convhub.conversations.views import CallbackRequestData, ConversationView, SendMessageResponse
from tests.conversations.conftest import event, only, received, say
from tests.receivers import Receiver, Reply

# Every attribute of RequestConversation a start keeps (DECISIONS §6).
CONVERSATION_EXTRAS: dict[str, Any] = {
    "conversationContact": "email",
    "lookupContact": "email",
    "customer": {
        "name": "John smith",
        "type": "individual",
        "attributes": [{"name": "group", "value": "eGain"}],
        "contacts": {
            "contact": [
                {"type": "email", "address": "johnsmith@example.com"},
                {"type": "phone", "subType": "mobile", "address": "123456788"},
            ]
        },
    },
    "clientInfo": {"timeOffset": -60, "referrerName": "shop", "referrerUrl": "https://shop.test"},
}
# What the customer tells later (customer.info): it replaces what the start said.
NEW_CUSTOMER_INFO: dict[str, Any] = {
    "name": "John Q. Smith",
    "type": "individual",
    "contacts": {"contact": [{"type": "email", "address": "john.q@example.com"}]},
}
ATTRIBUTES = {"attribute": [{"name": "orderId", "value": "A-1001", "object": "activity"}]}
METADATA = {"attributes": [{"name": "channelSession", "value": "s-42"}]}


async def accepted(
    hub, *messages: dict[str, Any], metadata: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Send; the 202's body must be a SendMessageResponseData. Answers its messages."""
    body: dict[str, Any] = {"messages": {"message": list(messages)}}
    if metadata:
        body["metadata"] = metadata
    answer = await hub.post("/conversations/messages", json=body)
    assert answer.status_code == 202, answer.text
    SendMessageResponse.model_validate(answer.json())
    return answer.json()["messages"]["message"]


def callbacks(receiver: Receiver) -> list[dict[str, Any]]:
    """Every body ``receiver`` got so far; each must be a CallbackRequestData."""
    bodies = [request.json() for request in receiver.requests]
    for body in bodies:
        CallbackRequestData.model_validate(body)
    return bodies


def types_of(bodies: list[dict[str, Any]]) -> list[str]:
    return [only(body)["type"]["value"] for body in bodies]


async def settled(hub, conversation_id: str, count: int, *, within: float = 15) -> dict[str, Any]:
    """The conversation once it has ``count`` messages and none of them waits for delivery."""
    statuses: list[str | None] = []
    for _ in range(int(within / 0.05)):
        answer = await hub.get(f"/conversations/{conversation_id}")
        assert answer.status_code == 200, answer.text
        view = answer.json()
        statuses = [m.get("status") for m in view["messages"]["message"]]
        if len(statuses) == count and all(s in ("sent", "failed") for s in statuses):
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"not settled: {statuses}")


def outside_message() -> dict[str, Any]:
    """A message the bot exchanged outside the hub (ExternalRequestMessage), for the transcript."""
    return {
        "messageId": "x-1",
        "type": {"value": "text"},
        "content": {"text": "Order A-1001 is late, I'll get you a person."},
        "sender": {"type": "custom_bot", "participant": {"name": "eva"}},
        "recipients": {"recipient": [{"type": "customer", "participant": {"name": "John"}}]},
        "sent": "2026-01-01T10:00:00.000Z",
        "status": "sent",
    }


class TestAConversationEndToEnd:
    async def test_every_callback_answer_and_view_is_the_contract(self, hub, apps):
        # Start (with metadata and every conversation attribute) -> bot.
        start = apps.start("Where is my order?", messageId="c-1", attributes=ATTRIBUTES)
        start["conversation"].update(CONVERSATION_EXTRAS)
        [first] = await accepted(hub, start, metadata=METADATA)
        conversation_id = first["conversation"]["id"]
        await received(apps.bot, 1)
        # Bot reply -> customer; customer typing and customer info -> bot.
        await accepted(
            hub, say(conversation_id, "custom_bot", "Your order number?", messageId="b-1")
        )
        await accepted(hub, event(conversation_id, "customer", "typing.start"))
        info = event(conversation_id, "customer", "customer.info")
        info["conversation"].update(CONVERSATION_EXTRAS, customer=NEW_CUSTOMER_INFO)
        await accepted(hub, info)
        await received(apps.bot, 3)
        # Escalation with the bot's own transcript -> agent.
        escalation = event(conversation_id, "custom_bot", "escalation.transfer", messageId="b-2")
        escalation["conversation"]["messages"] = {"message": [outside_message()]}
        await accepted(hub, escalation)
        await received(apps.agent, 1)
        # Agent answer -> customer; the customer's read receipt and end -> agent.
        [answer] = await accepted(hub, say(conversation_id, "custom_agent", "Hello, I am Ann"))
        await received(apps.customer, 2)
        read = event(conversation_id, "customer", "status.read", parent={"id": answer["id"]})
        await accepted(hub, read)
        await accepted(hub, event(conversation_id, "customer", "conversation.end"))
        await received(apps.agent, 3)

        view = await settled(hub, conversation_id, 8)
        bot, customer, agent = (callbacks(r) for r in (apps.bot, apps.customer, apps.agent))
        assert types_of(bot) == ["text", "typing.start", "customer.info"]
        assert types_of(customer) == ["text", "text"]
        assert types_of(agent) == ["escalation.transfer", "status.read", "conversation.end"]
        assert bot[0]["metadata"] == METADATA
        # The contract's default filled in: external is true.
        [attribute] = only(bot[0])["attributes"]["attribute"]
        assert attribute == {**ATTRIBUTES["attribute"][0], "external": True}
        assert only(agent[1])["parent"] == {"id": answer["id"]}
        assert only(bot[0])["conversation"]["customer"] == CONVERSATION_EXTRAS["customer"]
        assert only(bot[2])["conversation"]["customer"] == NEW_CUSTOMER_INFO
        escalated = only(agent[0])["conversation"]
        assert escalated["customer"] == NEW_CUSTOMER_INFO
        assert escalated["clientInfo"] == CONVERSATION_EXTRAS["clientInfo"]
        transcript = escalated["messages"]["message"]
        assert [m["type"]["value"] for m in transcript] == ["text", "text", "text", "customer.info"]
        ConversationView.model_validate(view)
        assert [m["status"] for m in view["messages"]["message"]] == ["sent"] * 8
        assert view["customer"] == NEW_CUSTOMER_INFO

    @pytest.mark.parametrize("query", ["$pagesize=2", "$pagesize=2&$pagenum=2"])
    async def test_a_page_of_a_conversation_is_the_contract(self, hub, apps, query):
        [first] = await accepted(hub, apps.start("one"))
        conversation_id = first["conversation"]["id"]
        await accepted(hub, say(conversation_id, "custom_bot", "two"))
        await accepted(hub, say(conversation_id, "custom_bot", "three"))
        answer = await hub.get(f"/conversations/{conversation_id}?{query}")
        assert answer.status_code == 200, answer.text
        ConversationView.model_validate(answer.json())

    async def test_a_page_past_the_end_is_the_contract(self, hub, apps):
        [first] = await accepted(hub, apps.start("one"))
        answer = await hub.get(f"/conversations/{first['conversation']['id']}?$pagenum=9")
        assert answer.status_code == 200, answer.text
        ConversationView.model_validate(answer.json())
        assert "message" not in answer.json()["messages"]  # minItems 1: left out

    async def test_a_failed_delivery_and_its_error_message_are_the_contract(self, hub, apps):
        apps.bot.reply(Reply(status=400))
        [first] = await accepted(hub, apps.start("refused", messageId="c-400"))
        await received(apps.customer, 1)
        [error] = callbacks(apps.customer)
        assert only(error)["type"] == {"value": "error"}
        view = await settled(hub, first["conversation"]["id"], 2)
        ConversationView.model_validate(view)
        assert [m["status"] for m in view["messages"]["message"]] == ["failed", "sent"]


class TestAttributesOnlyCallbacksDefine:
    """``preferredAgent`` (CallbackConversation) and ``intent`` (CallbackMessage) are callback
    attributes: ResponseConversation and ResponseMessage do not define them."""

    async def test_preferred_agent_reaches_the_bot(self, hub, apps):
        start = apps.start()
        start["conversation"]["preferredAgent"] = {"id": "agent-7", "userName": "ann"}
        await accepted(hub, start)
        [body] = await received(apps.bot, 1)
        CallbackRequestData.model_validate(body)
        assert only(body)["conversation"]["preferredAgent"] == {"id": "agent-7", "userName": "ann"}

    async def test_a_conversation_with_a_preferred_agent_reads_as_the_contract(self, hub, apps):
        start = apps.start()
        start["conversation"]["preferredAgent"] = {"id": "agent-7"}
        [first] = await accepted(hub, start)
        view = await hub.get(f"/conversations/{first['conversation']['id']}")
        ConversationView.model_validate(view.json())

    async def test_the_handoff_intent_reaches_the_bot(self, hub, apps):
        conversation_id = await handed_back(hub, apps)
        bodies = await received(apps.bot, 2)
        CallbackRequestData.model_validate(bodies[1])
        assert only(bodies[1])["intent"] == {"value": "order_complaints"}
        view = await hub.get(f"/conversations/{conversation_id}")
        assert view.status_code == 200

    async def test_a_conversation_with_a_handoff_intent_reads_as_the_contract(self, hub, apps):
        conversation_id = await handed_back(hub, apps)
        view = await hub.get(f"/conversations/{conversation_id}")
        ConversationView.model_validate(view.json())


async def handed_back(hub, apps) -> str:
    """A conversation escalated to the agent, then handed back to the bot with an intent."""
    [first] = await accepted(hub, apps.start())
    conversation_id: str = first["conversation"]["id"]
    await accepted(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
    handoff = event(conversation_id, "custom_agent", "escalation.transfer")
    handoff["intent"] = {"value": "order_complaints"}
    await accepted(hub, handoff)
    return conversation_id
