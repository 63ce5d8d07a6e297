"""A change of the configuration applies to the very next message of a conversation already
under way, whichever process made it: a process keeps what it read of a tenant's configuration
only while the tenant's configuration version is unchanged (configuration/cache.py)."""

from __future__ import annotations

import httpx

from tests.conversations.conftest import received, say, send


async def _set_max_text(server: httpx.AsyncClient, length: int) -> None:
    [channel] = (await server.get("/channels")).json()["channel"]
    body = {k: v for k, v in channel.items() if k not in {"id", "created", "modified"}}
    body["restrictions"]["inbound"]["maxTextLength"] = length
    assert (await server.put(f"/channels/{channel['id']}", json=body)).status_code == 204


async def _conversation(hub: httpx.AsyncClient, apps) -> str:
    started = await send(hub, apps.start("x" * 100))
    conversation_id: str = started["messages"]["message"][0]["conversation"]["id"]
    # A second message of the conversation: its configuration has been read and kept.
    await send(hub, say(conversation_id, "customer", "y" * 100))
    return conversation_id


def _refused_as_too_long(answer: httpx.Response) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "400-152"
    assert "content.text" in answer.json()["developerMessage"]


class TestChangeSeenByTheNextMessage:
    async def test_a_change_made_by_another_process(self, hub, api, apps):
        conversation_id = await _conversation(hub, apps)
        await _set_max_text(api, 50)  # `api` is another server process on the same database
        answer = await hub.post(
            "/conversations/messages",
            json={"messages": {"message": [say(conversation_id, "customer", "z" * 100)]}},
        )
        _refused_as_too_long(answer)
        await send(hub, say(conversation_id, "customer", "z" * 50))
        bodies = await received(apps.bot, 3)
        assert [len(b["messages"]["message"][0]["content"]["text"]) for b in bodies] == [
            100,
            100,
            50,
        ]

    async def test_a_change_made_by_the_same_process(self, hub, apps):
        conversation_id = await _conversation(hub, apps)
        await _set_max_text(hub, 50)
        answer = await hub.post(
            "/conversations/messages",
            json={"messages": {"message": [say(conversation_id, "customer", "z" * 100)]}},
        )
        _refused_as_too_long(answer)

    async def test_a_relaxed_limit_lets_the_next_message_through(self, hub, api, apps):
        conversation_id = await _conversation(hub, apps)
        await _set_max_text(api, 500)
        await send(hub, say(conversation_id, "customer", "z" * 300))
        assert (
            len((await received(apps.bot, 3))[2]["messages"]["message"][0]["content"]["text"])
            == 300
        )
