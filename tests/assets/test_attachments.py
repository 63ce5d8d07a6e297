"""Uploaded assets travel in messages (``attachments.attachment[{id}]``): checked against the
channel's policy, delivered with a signed download URL of the hub, and no longer deletable."""

from __future__ import annotations

import copy

import pytest

from tests.assets.helpers import JPEG, PNG, TEXT, error, get, new_channel, uploaded
from tests.conversations.conftest import build_apps, only, received, say, send
from tests.factories import channel

USER_MESSAGE = {"X-egain-error-message": "yes"}


def _attach(*ids: str) -> dict:
    return {"attachments": {"attachment": [{"id": asset_id} for asset_id in ids]}}


def _localized_channel() -> dict:
    body = channel()
    body["l10nProperties"] = copy.deepcopy(body["l10nProperties"])
    body["l10nProperties"][0]["properties"] += [
        {"name": "msg_hub_blocked_file_extension", "value": "Files of type {0} are refused."},
        {"name": "msg_hub_attachment_size_exceeds_limit", "value": "Too big: at most {0}."},
    ]
    return body


async def _started(hub, apps, **extra) -> str:
    answer = await send(hub, apps.start(**extra))
    return str(answer["messages"]["message"][0]["conversation"]["id"])


async def _check_delivered(attachment: dict, *, asset_id: str, name: str, data: bytes, hub_url):
    assert set(attachment) == {"id", "name", "contentType", "size", "url"}
    assert attachment["id"] == asset_id
    assert attachment["name"] == name
    assert attachment["size"] == len(data)
    assert attachment["url"].startswith(f"{hub_url}/conversation/conversationmgr/v3/assets/")
    downloaded = await get(attachment["url"])
    assert downloaded.status_code == 200
    assert downloaded.content == data


class TestFromCustomerToBot:
    @pytest.mark.both_stores
    async def test_the_bot_receives_a_signed_download_url(self, hub, asset_hub, receivers):
        apps = await build_apps(hub, receivers)
        photo = await uploaded(hub, apps.channel_type, "bird.png", PNG)
        await send(hub, apps.start(**_attach(photo)))
        [body] = await received(apps.bot, 1)
        [attachment] = only(body)["attachments"]["attachment"]
        assert attachment["contentType"] == "image/png"
        await _check_delivered(
            attachment, asset_id=photo, name="bird.png", data=PNG, hub_url=asset_hub.url
        )

    async def test_uploaded_and_url_attachments_together(self, hub, receivers):
        apps = await build_apps(hub, receivers)
        photo = await uploaded(hub, apps.channel_type, "bird.png", PNG)
        linked = {"name": "shirt.jpg", "size": 867, "url": "https://files.example.com/shirt.jpg"}
        attachments = {"attachments": {"attachment": [linked, {"id": photo}]}}
        conversation_id = await _started(hub, apps, **attachments)
        [body] = await received(apps.bot, 1)
        first, second = only(body)["attachments"]["attachment"]
        assert first == linked
        assert second["id"] == photo
        shown = (await hub.get(f"/conversations/{conversation_id}")).json()
        [message] = shown["messages"]["message"]
        assert message["attachments"]["attachment"][0] == linked
        assert (await get(message["attachments"]["attachment"][1]["url"])).content == PNG

    async def test_a_used_asset_cannot_be_deleted(self, hub, receivers):
        apps = await build_apps(hub, receivers)
        photo = await uploaded(hub, apps.channel_type, "bird.png", PNG)
        await send(hub, apps.start(**_attach(photo)))
        refused = error(await hub.delete(f"/assets/{photo}"), 400, "400-160")
        assert photo in refused["developerMessage"]
        assert (await hub.get(f"/assets/{photo}")).status_code == 200

    async def test_the_agent_receives_it_in_the_transcript(self, hub, asset_hub, receivers):
        apps = await build_apps(hub, receivers)
        photo = await uploaded(hub, apps.channel_type, "bird.png", PNG)
        conversation_id = await _started(hub, apps, **_attach(photo))
        await send(
            hub,
            say(
                conversation_id,
                "custom_bot",
                "Passing you on",
                type={"value": "escalation.transfer"},
            ),
        )
        [body] = await received(apps.agent, 1)
        history = only(body)["conversation"]["messages"]["message"]
        [attachment] = history[0]["attachments"]["attachment"]
        await _check_delivered(
            attachment, asset_id=photo, name="bird.png", data=PNG, hub_url=asset_hub.url
        )


class TestFromAgentToCustomer:
    @pytest.mark.both_stores
    async def test_the_customer_receives_a_signed_download_url(self, hub, asset_hub, receivers):
        apps = await build_apps(hub, receivers, with_bot=False)
        conversation_id = await _started(hub, apps)
        notes = await uploaded(hub, apps.channel_type, "notes.txt", TEXT, sender="custom_agent")
        await send(hub, say(conversation_id, "custom_agent", "Here you are", **_attach(notes)))
        [body] = await received(apps.customer, 1)
        [attachment] = only(body)["attachments"]["attachment"]
        assert attachment["contentType"] == "text/plain"
        await _check_delivered(
            attachment, asset_id=notes, name="notes.txt", data=TEXT, hub_url=asset_hub.url
        )

    async def test_the_outbound_policy_refuses_other_extensions(self, hub, receivers):
        apps = await build_apps(hub, receivers, with_bot=False, channel_body=_localized_channel())
        conversation_id = await _started(hub, apps)
        photo = await uploaded(hub, apps.channel_type, "bird.png", PNG)  # a customer's: inbound
        message = say(conversation_id, "custom_agent", "Look", **_attach(photo))
        answer = await hub.post(
            "/conversations/messages",
            json={"messages": {"message": [message]}},
            headers=USER_MESSAGE,
        )
        refused = error(answer, 400, "400-152")
        assert "messages.message[0].attachments.attachment[0].name" in refused["developerMessage"]
        assert refused["userMessage"] == "Files of type png are refused."
        assert apps.customer.requests == []
        # Refused, so not used: it can still be deleted.
        assert (await hub.delete(f"/assets/{photo}")).status_code == 204


class TestRefused:
    async def test_size_over_the_channel_limit(self, hub, receivers):
        big = copy.deepcopy(channel())
        big["restrictions"]["inbound"]["attachmentPolicy"]["maxSize"] = 1_000_000
        apps = await build_apps(
            hub,
            receivers,
            channel_body=_localized_channel() | {"restrictions": big["restrictions"]},
        )
        photo = await uploaded(hub, apps.channel_type, "bird.jpeg", JPEG)
        # The channel's limit shrinks after the upload: the message is held to the new one.
        small = copy.deepcopy(big)
        small["restrictions"]["inbound"]["attachmentPolicy"]["maxSize"] = 100
        channel_id = (await hub.get("/channels")).json()["channel"][0]["id"]
        current = (await hub.get(f"/channels/{channel_id}")).json()
        replaced = {k: v for k, v in current.items() if k not in {"id", "created", "modified"}}
        replaced["restrictions"] = small["restrictions"]
        assert (await hub.put(f"/channels/{channel_id}", json=replaced)).status_code == 204
        answer = await hub.post(
            "/conversations/messages",
            json={"messages": {"message": [apps.start(**_attach(photo))]}},
            headers=USER_MESSAGE,
        )
        refused = error(answer, 400, "400-152")
        assert "attachment[0].size" in refused["developerMessage"]
        assert refused["userMessage"] == "Too big: at most 100 bytes."
        assert apps.bot.requests == []

    async def test_unknown_or_other_tenants_asset(self, hub, other_tenant, receivers):
        apps = await build_apps(hub, receivers)
        elsewhere = await uploaded(other_tenant, await new_channel(other_tenant), "a.png", PNG)
        for asset_id in (elsewhere, "00000000-0000-4000-8000-000000000000"):
            answer = await hub.post(
                "/conversations/messages",
                json={"messages": {"message": [apps.start(**_attach(asset_id))]}},
            )
            error(answer, 400, "400-194")
        assert apps.bot.requests == []

    async def test_an_asset_not_yet_uploaded(self, hub, receivers):
        apps = await build_apps(hub, receivers)
        declared = await hub.post(
            "/assets",
            json={
                "channel": {"type": apps.channel_type},
                "sender": {"type": "customer"},
                "name": "bird.png",
                "size": len(PNG),
            },
        )
        asset_id = declared.json()["id"]
        answer = await hub.post(
            "/conversations/messages",
            json={"messages": {"message": [apps.start(**_attach(asset_id))]}},
        )
        refused = error(answer, 400, "400-152")
        assert "attachment[0].id" in refused["developerMessage"]

    @pytest.mark.parametrize("name", ["setup.exe", "run.bat"])
    async def test_blocked_extension_of_a_url_attachment(self, hub, receivers, name):
        apps = await build_apps(hub, receivers, channel_body=_localized_channel())
        linked = {"name": name, "size": 10, "url": f"https://files.example.com/{name}"}
        answer = await hub.post(
            "/conversations/messages",
            json={"messages": {"message": [apps.start(attachments={"attachment": [linked]})]}},
            headers=USER_MESSAGE,
        )
        refused = error(answer, 400, "400-152")
        assert refused["userMessage"] == f"Files of type {name.split('.')[1]} are refused."
