"""The contract's scenarios, end to end: every example of ``sendMessage``'s request body
(``components/requestBodies/post_send_message``) sent through a delivering hub to real receivers,
with what must be real substituted (the account's channel and address, the conversation, the
parent message, the entry point), and what the contract and DECISIONS §6-§8 say happens asserted:
the 202, and which application receives which callback.

Attachments given as an uploaded asset (``{"id": ...}``) name an asset uploaded first through the
Assets API (DECISIONS §9): the example's id is replaced with that asset's.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.assets.helpers import JPEG, uploaded
from tests.conversations.conftest import Apps, event, only, received, say, send

CONTRACT = Path(__file__).resolve().parents[2] / "spec" / "conversationmgr-v3.openapi.yaml"


def _load_examples() -> dict[str, tuple[str, dict[str, Any]]]:
    """Example name → (its component's key, its request body)."""
    contract = yaml.safe_load(CONTRACT.read_text())
    named = contract["components"]["requestBodies"]["post_send_message"]["content"]
    [media] = named.values()
    examples = {}
    for name, ref in media["examples"].items():
        key = ref["$ref"].removeprefix("#/components/examples/")
        examples[name] = (key, contract["components"]["examples"][key]["value"])
    return examples


EXAMPLES = _load_examples()

Scenario = Callable[[httpx.AsyncClient, Apps, dict[str, Any]], Awaitable[None]]


# --- making an example real ---------------------------------------------------------------------


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = body["messages"]["message"]
    return messages


def _on_account(body: dict[str, Any], apps: Apps) -> dict[str, Any]:
    for message in _messages(body):
        message["conversation"]["account"] = {
            "channel": {"type": apps.channel_type},
            "address": apps.address,
        }
    return body


def _in(body: dict[str, Any], conversation_id: str) -> dict[str, Any]:
    for message in _messages(body):
        message["conversation"]["id"] = conversation_id
    return body


def _answering(body: dict[str, Any], parent_id: str) -> dict[str, Any]:
    for message in _messages(body):
        message["parent"]["id"] = parent_id
    return body


async def _real_assets(
    hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Uploads an asset for each uploaded-asset attachment (``{"id": ...}``) and puts its id in
    the example; answers the URL attachments and the assets' ids."""
    urls, assets = [], []
    for message in _messages(body):
        attachments = message.get("attachments", {}).get("attachment", [])
        for attachment in attachments:
            if "url" in attachment:
                urls.append(attachment)
                continue
            attachment["id"] = await uploaded(
                hub, apps.channel_type, "photo.jpeg", JPEG, sender=message["sender"]["type"]
            )
            assets.append(attachment["id"])
    assert urls, "the example has a URL attachment"
    assert assets, "the example has an uploaded asset"
    return urls, assets


async def _allow_outbound(hub: httpx.AsyncClient, *extensions: str) -> None:
    """Lets the (only) channel of the tenant send files of these extensions to customers."""
    [channel] = (await hub.get("/channels")).json()["channel"]
    body = {k: v for k, v in channel.items() if k not in {"id", "created", "modified"}}
    body["restrictions"]["outbound"]["attachmentPolicy"]["extensions"] += list(extensions)
    assert (await hub.put(f"/channels/{channel['id']}", json=body)).status_code == 204


def _as_uploaded(attachment: dict[str, Any], asset_id: str) -> None:
    """An uploaded asset as delivered: its name, sniffed type, size and a signed URL."""
    url = attachment.pop("url")
    assert attachment == {
        "id": asset_id,
        "name": "photo.jpeg",
        "contentType": "image/jpeg",
        "size": len(JPEG),
    }
    assert f"/assets/{asset_id}/download?expires=" in url


async def _accepted(hub: httpx.AsyncClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Send the whole body (metadata included): 202, and an id for every message."""
    answer = await hub.post("/conversations/messages", json=body)
    assert answer.status_code == 202, answer.text
    accepted: list[dict[str, Any]] = answer.json()["messages"]["message"]
    assert len(accepted) == len(_messages(body))
    for sent, one in zip(_messages(body), accepted, strict=True):
        assert len(one["id"]) == 36
        assert one.get("messageId") == sent.get("messageId")
        if "id" in sent["conversation"]:
            assert one["conversation"]["id"] == sent["conversation"]["id"]
    return accepted


async def _refused(hub: httpx.AsyncClient, message: dict[str, Any]) -> dict[str, Any]:
    answer = await hub.post("/conversations/messages", json={"messages": {"message": [message]}})
    assert answer.status_code == 400, answer.text
    refused: dict[str, Any] = answer.json()
    return refused


async def _nth(receiver: Any, n: int) -> dict[str, Any]:
    """The message of the ``n``-th callback (from 1) ``receiver`` gets."""
    return only((await received(receiver, n))[n - 1])


async def _started(hub: httpx.AsyncClient, apps: Apps) -> tuple[str, str]:
    """A conversation a customer started, its first message delivered to the bot: its id and
    the id of that message."""
    answer = await send(hub, apps.start("I have a question", messageId="first"))
    [accepted] = answer["messages"]["message"]
    await received(apps.bot, 1)
    return accepted["conversation"]["id"], accepted["id"]


async def _escalated(hub: httpx.AsyncClient, apps: Apps) -> str:
    """A conversation the bot escalated: the agent takes part."""
    conversation_id, _ = await _started(hub, apps)
    await send(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
    await received(apps.agent, 1)
    return conversation_id


def _to(message: dict[str, Any], role: str) -> None:
    [recipient] = message["recipients"]["recipient"]
    assert recipient["type"] == role


def _texts(transcript_of: dict[str, Any]) -> list[str]:
    return [m["content"]["text"] for m in transcript_of["conversation"]["messages"]["message"]]


def _same(delivered: dict[str, Any], sent: dict[str, Any], *keys: str) -> None:
    for key in keys:
        assert delivered[key] == sent[key], key


# --- the scenarios ------------------------------------------------------------------------------


async def customer_starts(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    [sent] = _messages(_on_account(body, apps))
    [accepted] = await _accepted(hub, body)
    [callback] = await received(apps.bot, 1)
    assert callback["metadata"] == body["metadata"]
    message = only(callback)
    assert message["id"] == accepted["id"]
    _same(message, sent, "messageId", "type", "content", "sender", "attributes")
    _to(message, "custom_bot")
    conversation = message["conversation"]
    assert conversation["id"] == accepted["conversation"]["id"]
    assert conversation["account"]["channel"]["type"] == apps.channel_type
    assert conversation["account"]["address"] == apps.address
    assert conversation["entryPoint"] == {"id": apps.entry_point}
    _same(
        conversation,
        sent["conversation"],
        "customer",
        "clientInfo",
        "lookupContact",
        "conversationContact",
    )
    assert apps.customer.requests == []


async def bot_replies(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    conversation_id, _ = await _started(hub, apps)
    [sent] = _messages(_in(body, conversation_id))
    [accepted] = await _accepted(hub, body)
    message = await _nth(apps.customer, 1)
    assert message["id"] == accepted["id"]
    _same(message, sent, "messageId", "type", "content", "sender")
    _to(message, "customer")
    assert message["conversation"]["id"] == conversation_id


async def bot_escalates(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    """An escalation from the bot reaches the agent with the conversation so far (§7); the bot
    is out and the customer talks to the agent."""
    conversation_id, _ = await _started(hub, apps)
    await send(hub, say(conversation_id, "custom_bot", "Let me find someone"))
    await received(apps.customer, 1)
    [sent] = _messages(_in(body, conversation_id))
    [accepted] = await _accepted(hub, body)
    transfer = await _nth(apps.agent, 1)
    assert transfer["id"] == accepted["id"]
    _same(transfer, sent, "messageId", "type", "sender")
    _to(transfer, "custom_agent")
    for key in ("attributes", "content"):
        if key in sent:
            assert transfer[key] == sent[key]
    assert _texts(transfer) == ["I have a question", "Let me find someone"]
    conversation = transfer["conversation"]
    assert conversation["account"]["address"] == apps.address
    assert conversation["entryPoint"] == {"id": apps.entry_point}
    assert conversation["customer"] == {"name": "John smith", "type": "individual"}
    if "preferredAgent" in sent["conversation"]:
        assert conversation.get("preferredAgent") == sent["conversation"]["preferredAgent"]
    refused = await _refused(hub, say(conversation_id, "custom_bot", "still here"))
    assert refused["code"] == "400-240"
    await send(hub, say(conversation_id, "customer", "Hello agent"))
    assert (await _nth(apps.agent, 2))["content"] == {"text": "Hello agent"}
    assert len(apps.bot.requests) == 1


async def agent_hands_back(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    conversation_id = await _escalated(hub, apps)
    [sent] = _messages(_in(body, conversation_id))
    await _accepted(hub, body)
    handoff = await _nth(apps.bot, 2)
    _same(handoff, sent, "messageId", "type", "sender", "intent")
    assert handoff["intent"] == {"value": "order_complaints"}
    _to(handoff, "custom_bot")
    await send(hub, say(conversation_id, "customer", "back to the bot"))
    assert (await _nth(apps.bot, 3))["content"] == {"text": "back to the bot"}
    assert len(apps.agent.requests) == 1


async def customer_event_relayed(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    """typing, customer.info: passed on to the counterpart, the bot here."""
    conversation_id, _ = await _started(hub, apps)
    [sent] = _messages(_in(body, conversation_id))
    [accepted] = await _accepted(hub, body)
    relayed = await _nth(apps.bot, 2)
    assert relayed["id"] == accepted["id"]
    _same(relayed, sent, "messageId", "type", "sender")
    assert "content" not in relayed
    _to(relayed, "custom_bot")
    assert apps.customer.requests == []


async def customer_info_shared(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    """customer.info shares what was learnt about the customer with the hub: the counterpart
    receives it, and the agent gets it with a later escalation."""
    await customer_event_relayed(hub, apps, body)
    [sent] = _messages(body)
    conversation_id = sent["conversation"]["id"]
    told = {
        k: sent["conversation"][k] for k in ("customer", "lookupContact", "conversationContact")
    }
    relayed = await _nth(apps.bot, 2)
    assert {k: relayed["conversation"].get(k) for k in told} == told
    await send(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
    transfer = await _nth(apps.agent, 1)
    assert {k: transfer["conversation"].get(k) for k in told} == told


async def egain_agent_replies(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    conversation_id = await _escalated(hub, apps)
    # The example's agent sends test.jpg: the factory channel lets only .jpeg and .txt out.
    await _allow_outbound(hub, "jpg")
    [url_attachment], [asset_id] = await _real_assets(hub, apps, body)
    sent = _messages(_in(body, conversation_id))
    accepted = await _accepted(hub, body)
    bodies = await received(apps.customer, 2)
    for callback, one, message in zip(bodies, accepted, sent, strict=True):
        delivered = only(callback)
        assert delivered["id"] == one["id"]
        _same(delivered, message, "messageId", "type", "content", "sender")
        _to(delivered, "customer")
    # The URL attachment reaches the customer as sent (name, contentType, size, url), the
    # uploaded one with a signed download URL of the hub.
    first, second = only(bodies[1])["attachments"]["attachment"]
    assert first == url_attachment
    _as_uploaded(second, asset_id)


async def customer_attaches(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    conversation_id, _ = await _started(hub, apps)
    [url_attachment], [asset_id] = await _real_assets(hub, apps, body)
    [sent] = _messages(_in(body, conversation_id))
    [accepted] = await _accepted(hub, body)
    delivered = await _nth(apps.bot, 2)
    assert delivered["id"] == accepted["id"]
    _same(delivered, sent, "messageId", "type", "sender")
    _to(delivered, "custom_bot")
    # The URL attachment reaches the bot with its name, url and size, the uploaded one with a
    # signed download URL of the hub.
    attachment, uploaded_one = delivered["attachments"]["attachment"]
    assert attachment == {k: url_attachment[k] for k in ("name", "url", "size")}
    _as_uploaded(uploaded_one, asset_id)


async def bot_sends_rich(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    """A rich message of a bot (or agent) reaches the customer, its content as sent."""
    conversation_id, _ = await _started(hub, apps)
    [sent] = _messages(_in(body, conversation_id))
    [accepted] = await _accepted(hub, body)
    delivered = await _nth(apps.customer, 1)
    assert delivered["id"] == accepted["id"]
    assert delivered["type"]["value"].startswith("richMessage.")
    _same(delivered, sent, "messageId", "type", "content", "sender")
    assert "json" in delivered["content"]
    _to(delivered, "customer")
    assert len(apps.bot.requests) == 1


async def customer_answers_a_message(
    hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]
) -> None:
    """error, status.delivered, status.read: about a message the bot sent (``parent``), passed
    on to the bot."""
    conversation_id, _ = await _started(hub, apps)
    [sent] = _messages(_in(body, conversation_id))
    parent_message_id = sent["parent"]["messageId"]
    bot_says = say(conversation_id, "custom_bot", "Here it is", messageId=parent_message_id)
    parent_id = (await send(hub, bot_says))["messages"]["message"][0]["id"]
    await received(apps.customer, 1)
    _answering(body, parent_id)
    [accepted] = await _accepted(hub, body)
    relayed = await _nth(apps.bot, 2)
    assert relayed["id"] == accepted["id"]
    _same(relayed, sent, "messageId", "type", "sender")
    assert relayed["parent"] == {"id": parent_id, "messageId": parent_message_id}
    if "content" in sent:
        assert relayed["content"] == sent["content"]
    _to(relayed, "custom_bot")
    assert len(apps.customer.requests) == 1


async def conversation_ends(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    conversation_id, _ = await _started(hub, apps)
    [sent] = _messages(_in(body, conversation_id))
    await _accepted(hub, body)
    ended = await _nth(apps.bot, 2)
    _same(ended, sent, "messageId", "type", "sender")
    _to(ended, "custom_bot")
    refused = await _refused(hub, say(conversation_id, "customer", "one more thing"))
    assert refused["code"] == "400-630"


async def customer_submits_survey(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    """A survey names the conversation it is about in ``conversation.parent.id``: it is a
    conversation of its own, of type survey.form, that the hub keeps."""
    parent_id, _ = await _started(hub, apps)
    await send(hub, event(parent_id, "customer", "conversation.end"))
    await received(apps.bot, 2)
    [sent] = _messages(body)
    sent["conversation"]["parent"]["id"] = parent_id
    [accepted] = await _accepted(hub, body)
    survey_id = accepted["conversation"]["id"]
    assert survey_id != parent_id
    view = (await hub.get(f"/conversations/{survey_id}")).json()
    assert view["type"] == "survey.form"
    assert view["parent"] == {"id": parent_id}
    [stored] = view["messages"]["message"]
    assert stored["id"] == accepted["id"]
    assert stored["content"] == sent["content"]


async def bot_starts_by_escalating(
    hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]
) -> None:
    """A bot that talked to the customer outside the hub escalates in one call with its
    transcript (§6): the agent receives it, then the customer's messages."""
    [sent] = _messages(_on_account(body, apps))
    sent["conversation"]["entryPoint"] = {"id": apps.entry_point}
    [accepted] = await _accepted(hub, body)
    transfer = await _nth(apps.agent, 1)
    assert transfer["id"] == accepted["id"]
    _same(transfer, sent, "messageId", "type", "content", "sender")
    _to(transfer, "custom_agent")
    outside = sent["conversation"]["messages"]["message"]
    assert _texts(transfer) == [m["content"]["text"] for m in outside]
    inner = transfer["conversation"]["messages"]["message"]
    assert [m["messageId"] for m in inner] == [m["messageId"] for m in outside]
    conversation = transfer["conversation"]
    assert conversation["id"] == accepted["conversation"]["id"]
    assert conversation["account"]["address"] == apps.address
    assert conversation["entryPoint"] == {"id": apps.entry_point}
    _same(
        conversation,
        sent["conversation"],
        "customer",
        "clientInfo",
        "lookupContact",
        "conversationContact",
    )
    await send(hub, say(conversation["id"], "customer", "Hello agent"))
    assert (await _nth(apps.agent, 2))["content"] == {"text": "Hello agent"}
    assert apps.bot.requests == []


def _availability_answer(accepted: dict[str, Any], sent: dict[str, Any]) -> None:
    assert accepted["messageId"] == sent["messageId"]
    assert "conversation" not in accepted  # it belongs to no conversation (§6)


async def agents_available(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    """agent.available for an entry point where agents were away: an escalation goes through."""
    [sent] = _messages(body)
    sent["conversation"]["entryPoint"]["id"] = apps.entry_point
    away = copy.deepcopy(sent)
    away["type"] = {"value": "agent.unavailable"}
    away["messageId"] = "away"
    await send(hub, away)
    [accepted] = await _accepted(hub, body)
    _availability_answer(accepted, sent)
    conversation_id, _ = await _started(hub, apps)
    await send(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
    transfer = await _nth(apps.agent, 1)
    assert transfer["type"] == {"value": "escalation.transfer"}
    assert apps.customer.requests == []


async def agents_unavailable(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    """agent.unavailable: an escalation is answered with the channel's off-hours text from the
    system, and the agent receives nothing (§7, off_hours)."""
    [sent] = _messages(body)
    sent["conversation"]["entryPoint"]["id"] = apps.entry_point
    [accepted] = await _accepted(hub, body)
    _availability_answer(accepted, sent)
    conversation_id, _ = await _started(hub, apps)
    await send(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
    system = await _nth(apps.customer, 1)
    assert system["content"] == {"text": "Our service hours are 9am-5pm."}
    assert system["sender"] == {
        "type": "egain_agent",
        "participant": {"type": "system", "name": "System"},
    }
    assert apps.agent.requests == []


async def customer_deletes(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    """delete.soft, delete.permanent: about the customer's own message (``parent.id``), passed
    on to the counterpart."""
    conversation_id, first_id = await _started(hub, apps)
    [sent] = _messages(_answering(_in(body, conversation_id), first_id))
    [accepted] = await _accepted(hub, body)
    relayed = await _nth(apps.bot, 2)
    assert relayed["id"] == accepted["id"]
    _same(relayed, sent, "messageId", "type", "sender")
    assert relayed["parent"] == {"id": first_id}
    _to(relayed, "custom_bot")


async def customer_deletes_after_the_end(
    hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]
) -> None:
    """A delete about a completed conversation names the account: it makes a new conversation
    that takes no further message."""
    ended_id, first_id = await _started(hub, apps)
    await send(hub, event(ended_id, "customer", "conversation.end"))
    await received(apps.bot, 2)
    [sent] = _messages(_answering(_on_account(body, apps), first_id))
    [accepted] = await _accepted(hub, body)
    new_id = accepted["conversation"]["id"]
    assert new_id != ended_id
    relayed = await _nth(apps.bot, 3)
    assert relayed["id"] == accepted["id"]
    _same(relayed, sent, "messageId", "type", "sender")
    assert relayed["parent"] == {"id": first_id}
    refused = await _refused(hub, say(new_id, "customer", "and another thing"))
    assert refused["code"] == "400-630"


async def customer_undoes(hub: httpx.AsyncClient, apps: Apps, body: dict[str, Any]) -> None:
    conversation_id, first_id = await _started(hub, apps)
    soft = event(conversation_id, "customer", "delete.soft", parent={"id": first_id})
    await send(hub, soft)
    await received(apps.bot, 2)
    [sent] = _messages(_answering(_in(body, conversation_id), first_id))
    [accepted] = await _accepted(hub, body)
    relayed = await _nth(apps.bot, 3)
    assert relayed["id"] == accepted["id"]
    _same(relayed, sent, "messageId", "type", "sender")
    assert relayed["parent"] == {"id": first_id}
    _to(relayed, "custom_bot")


SCENARIOS: dict[str, Scenario] = {
    "Customer Start conversation": customer_starts,
    "Reply from Custom bot": bot_replies,
    "Escalate conversation from bot to agent": bot_escalates,
    "Handoff conversation from agent to bot": agent_hands_back,
    "Send typing event": customer_event_relayed,
    "Reply from eGain Agent": egain_agent_replies,
    "Sending attachments": customer_attaches,
    "Update Customer info": customer_info_shared,
    "Send Listpicker": bot_sends_rich,
    "Send Listpicker With Images": bot_sends_rich,
    "Send Timepicker": bot_sends_rich,
    "Send Rich Link": bot_sends_rich,
    "Send Quick Replies": bot_sends_rich,
    "Send Template": bot_sends_rich,
    "Send Template with quick reply buttons": bot_sends_rich,
    "Send Template with call to action buttons": bot_sends_rich,
    "Request customer to sign in": bot_sends_rich,
    "Send iMessage": bot_sends_rich,
    "Send Form": bot_sends_rich,
    "Send Apple pay request": bot_sends_rich,
    "Link Conversation with existing case": bot_escalates,
    "Send Error": customer_answers_a_message,
    "Send Delivered Status": customer_answers_a_message,
    "Send Read Status": customer_answers_a_message,
    "End conversation": conversation_ends,
    "Survey from customer": customer_submits_survey,
    "Bot Start conversation": bot_starts_by_escalating,
    "Escalate To Preferred Agent": bot_escalates,
    "Agent Available": agents_available,
    "Agent Unavailable": agents_unavailable,
    "Soft Delete Message sent on in progress conversation": customer_deletes,
    "Soft delete message sent on completed conversation": customer_deletes_after_the_end,
    "Permanent Delete Message": customer_deletes,
    "Undo Soft Delete": customer_undoes,
    "Sending Custom Attributes": bot_escalates,
}


class TestSendMessageExamples:
    def test_every_example_has_its_scenario(self):
        assert len(EXAMPLES) == 35
        assert set(SCENARIOS) == set(EXAMPLES)

    @pytest.mark.parametrize("name", list(EXAMPLES), ids=[key for key, _ in EXAMPLES.values()])
    async def test_example(self, hub, apps, name):
        _, body = EXAMPLES[name]
        await SCENARIOS[name](hub, apps, copy.deepcopy(body))
