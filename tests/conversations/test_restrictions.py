"""A channel's inbound restrictions apply to customer messages (DECISIONS §7)."""

from __future__ import annotations

import pytest

from tests.conversations.conftest import only, received, say, send

# tests.factories.channel(): inbound maxTextLength 140, attachments up to 12345 bytes,
# .bat and .exe blocked.


def _attachment(name, size=100):
    return {
        "attachments": {
            "attachment": [
                {
                    "name": name,
                    "url": f"https://files.example.com/{name}",
                    "size": size,
                    "contentType": "application/octet-stream",
                },
            ]
        }
    }


async def _refused(hub, message):
    answer = await hub.post("/conversations/messages", json={"messages": {"message": [message]}})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "400-152"
    return answer.json()["developerMessage"]


class TestInbound:
    async def test_text_longer_than_the_channel_allows(self, hub, apps):
        text = await _refused(hub, apps.start("x" * 141))
        assert "messages.message[0].content.text" in text
        await send(hub, apps.start("x" * 140))
        [body] = await received(apps.bot, 1)
        assert len(only(body)["content"]["text"]) == 140

    async def test_other_senders_are_not_limited(self, hub, apps):
        started = await send(hub, apps.start())
        conversation_id = started["messages"]["message"][0]["conversation"]["id"]
        await send(hub, say(conversation_id, "custom_bot", "y" * 500))
        [body] = await received(apps.customer, 1)
        assert len(only(body)["content"]["text"]) == 500

    @pytest.mark.parametrize(
        ("name", "size", "attribute"),
        [
            ("setup.exe", 100, "attachments.attachment[0].name"),
            ("run.BAT", 100, "attachments.attachment[0].name"),
            ("photo.jpg", 12346, "attachments.attachment[0].size"),
        ],
    )
    async def test_attachment_refused_by_the_policy(self, hub, apps, name, size, attribute):
        text = await _refused(hub, apps.start(**_attachment(name, size)))
        assert f"messages.message[0].{attribute}" in text
        assert apps.bot.requests == []

    async def test_allowed_attachment_travels_to_the_bot(self, hub, apps):
        await send(hub, apps.start(**_attachment("photo.jpg", 12345)))
        [body] = await received(apps.bot, 1)
        [attachment] = only(body)["attachments"]["attachment"]
        assert attachment["name"] == "photo.jpg"
        assert attachment["url"] == "https://files.example.com/photo.jpg"
