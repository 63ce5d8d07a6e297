"""Routing rules (DECISIONS §7): agent availability, off hours and retain-and-retry with the
channel's localized texts, timeouts, bypassVaDuration, escalation in one call."""

from __future__ import annotations

import asyncio

from tests.conversations.conftest import MINUTE, build_apps, event, only, received, say, send
from tests.factories import channel


async def _start(hub, apps, text="Hello", **extra):
    answer = await send(hub, apps.start(text, **extra))
    return answer["messages"]["message"][0]["conversation"]["id"]


def _availability(entry_point, available):
    return {
        "type": {"value": "agent.available" if available else "agent.unavailable"},
        "sender": {"type": "custom_agent", "participant": {"name": "desk"}},
        "conversation": {"entryPoint": {"id": entry_point}},
    }


def _channel_with_texts():
    body = channel()
    body["l10nProperties"] = [
        {
            "language": "en-US",
            "properties": [
                {"name": "msg_hub_off_hours", "value": "Closed (en)"},
                {"name": "msg_hub_retain_and_retry", "value": "Please hold (en)"},
            ],
        },
        {"language": "fr-FR", "properties": [{"name": "msg_hub_off_hours", "value": "Fermé"}]},
    ]
    return body


class TestOffHours:
    async def test_escalation_while_unavailable_answers_with_the_off_hours_text(
        self, hub, receivers
    ):
        apps = await build_apps(
            hub,
            receivers,
            channel_body=_channel_with_texts(),
            chat={"entryPoint": {"id": "ep-off"}},
        )
        conversation_id = await _start(hub, apps)
        answer = await send(hub, _availability("ep-off", False))
        assert "conversation" not in answer["messages"]["message"][0]
        await send(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
        [body] = await received(apps.customer, 1)
        system = only(body)
        assert system["content"] == {"text": "Closed (en)"}
        assert system["sender"] == {
            "type": "egain_agent",
            "participant": {"type": "system", "name": "System"},
        }
        assert apps.agent.requests == []
        # The conversation stays with the bot.
        await send(hub, say(conversation_id, "custom_bot", "I am still here"))
        await received(apps.customer, 2)
        await send(hub, _availability("ep-off", True))

    async def test_the_conversation_language_picks_the_text(self, hub, receivers):
        apps = await build_apps(
            hub,
            receivers,
            channel_body=_channel_with_texts(),
            chat={"entryPoint": {"id": "ep-fr"}, "defaultLanguage": "fr-FR"},
        )
        conversation_id = await _start(hub, apps)
        await send(hub, _availability("ep-fr", False))
        await send(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
        [body] = await received(apps.customer, 1)
        assert only(body)["content"] == {"text": "Fermé"}

    async def test_agent_only_workflow_answers_the_customer_directly(self, hub, receivers):
        apps = await build_apps(
            hub,
            receivers,
            with_bot=False,
            channel_body=_channel_with_texts(),
            chat={"entryPoint": {"id": "ep-agent-only"}},
        )
        await send(hub, _availability("ep-agent-only", False))
        await _start(hub, apps, "anyone there?")
        [body] = await received(apps.customer, 1)
        assert only(body)["content"] == {"text": "Closed (en)"}
        assert apps.agent.requests == []
        await send(hub, _availability("ep-agent-only", True))
        await _start(hub, apps, "now?")
        [to_agent] = await received(apps.agent, 1)
        assert only(to_agent)["content"] == {"text": "now?"}


class TestRetainAndRetry:
    async def test_held_until_an_agent_is_available_then_transferred_with_everything(
        self, hub, receivers
    ):
        apps = await build_apps(
            hub,
            receivers,
            channel_body=_channel_with_texts(),
            chat={"entryPoint": {"id": "ep-hold"}, "onAgentUnavailability": "retain_and_retry"},
        )
        await send(hub, _availability("ep-hold", False))
        conversation_id = await _start(hub, apps, "I need a person")
        await send(hub, event(conversation_id, "custom_bot", "escalation.transfer"))
        [body] = await received(apps.customer, 1)
        assert only(body)["content"] == {"text": "Please hold (en)"}
        await send(hub, say(conversation_id, "customer", "still waiting"))
        await asyncio.sleep(0.3)
        assert apps.agent.requests == []
        view = (await hub.get(f"/conversations/{conversation_id}")).json()
        assert view["messages"]["message"][-1]["status"] == "retryInProgress"
        await send(hub, _availability("ep-hold", True))
        bodies = await received(apps.agent, 2)
        transfer, retained = only(bodies[0]), only(bodies[1])
        assert transfer["type"] == {"value": "escalation.transfer"}
        assert [m["content"]["text"] for m in transfer["conversation"]["messages"]["message"]] == [
            "I need a person"
        ]
        assert retained["content"] == {"text": "still waiting"}
        await send(hub, say(conversation_id, "custom_agent", "Hello, I am here"))
        customer_bodies = await received(apps.customer, 2)
        assert only(customer_bodies[1])["content"] == {"text": "Hello, I am here"}


class TestTimeout:
    async def test_a_conversation_expires_after_its_timeout(self, hub, receivers):
        apps = await build_apps(hub, receivers, chat={"timeout": 3})
        conversation_id = await _start(hub, apps)
        await send(hub, say(conversation_id, "customer", "quick"))
        await asyncio.sleep(3 * MINUTE + 0.3)
        answer = await hub.post(
            "/conversations/messages",
            json={"messages": {"message": [say(conversation_id, "customer", "too late")]}},
        )
        assert answer.json()["code"] == "400-630"
        again = await _start(hub, apps, "a new one")
        assert again != conversation_id


class TestBypassBot:
    async def test_a_returning_customer_goes_straight_to_the_agent(self, hub, receivers):
        apps = await build_apps(hub, receivers, bypass_minutes=60)
        contact = {"conversationContact": "email"}
        customer = {
            "name": "Ann",
            "contacts": {"contact": [{"type": "email", "address": "ann@example.com"}]},
        }

        def start(text):
            message = apps.start(text)
            message["conversation"].update(contact, customer=customer)
            return message

        first = (await send(hub, start("first visit")))["messages"]["message"][0]["conversation"][
            "id"
        ]
        await send(hub, event(first, "custom_bot", "escalation.transfer"))
        await received(apps.agent, 1)
        await send(hub, start("back again"))
        bodies = await received(apps.agent, 2)
        assert only(bodies[1])["content"] == {"text": "back again"}
        assert len(apps.bot.requests) == 1


class TestEscalateInOneCall:
    async def test_a_bot_starts_by_escalating_with_its_own_transcript(self, hub, apps):
        message = apps.start()
        message["type"] = {"value": "escalation.transfer"}
        del message["content"]
        message["sender"] = {"type": "custom_bot", "participant": {"name": "eva"}}
        message["conversation"]["messages"] = {
            "message": [
                {
                    "type": {"value": "text"},
                    "content": {"text": "Hi, I need help"},
                    "sender": {"type": "customer", "participant": {"name": "John"}},
                    "recipients": {
                        "recipient": [{"type": "custom_bot", "participant": {"name": "eva"}}]
                    },
                    "sent": "2021-03-30T22:58:09.533Z",
                },
                {
                    "type": {"value": "text"},
                    "content": {"text": "Let me find an agent"},
                    "sender": {"type": "custom_bot", "participant": {"name": "eva"}},
                    "recipients": {
                        "recipient": [{"type": "customer", "participant": {"name": "John"}}]
                    },
                    "sent": "2021-03-30T22:58:10.533Z",
                },
            ]
        }
        answer = await send(hub, message)
        conversation_id = answer["messages"]["message"][0]["conversation"]["id"]
        [body] = await received(apps.agent, 1)
        transfer = only(body)
        assert transfer["type"] == {"value": "escalation.transfer"}
        inner = transfer["conversation"]["messages"]["message"]
        assert [m["content"]["text"] for m in inner] == ["Hi, I need help", "Let me find an agent"]
        assert "id" not in inner[0]
        await send(hub, say(conversation_id, "customer", "thanks"))
        bodies = await received(apps.agent, 2)
        assert only(bodies[1])["content"] == {"text": "thanks"}
