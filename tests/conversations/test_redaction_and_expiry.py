"""`content.redact` and conversation timeouts, both finished by the delivery worker."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from convhub.models import Conversation, Delivery
from tests.conversations.conftest import MINUTE, build_apps, only, received, say, send


async def _eventually(check, *, within=10.0):
    for _ in range(int(within / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


class TestRedact:
    async def test_content_is_redacted_once_delivered(self, hub, apps, database):
        message = apps.start()
        message["content"] = {"text": "my card is 4111 1111 1111 1111", "redact": True}
        answer = await send(hub, message)
        accepted = answer["messages"]["message"][0]
        [body] = await received(apps.bot, 1)
        assert only(body)["content"] == {"text": "my card is 4111 1111 1111 1111", "redact": True}

        async def redacted():
            view = (await hub.get(f"/conversations/{accepted['conversation']['id']}")).json()
            return view["messages"]["message"][0]["content"] == {
                "text": "[redacted]",
                "redact": True,
            }

        await _eventually(redacted)
        async with database.session(write=False) as session:
            payloads = (
                (
                    await session.execute(
                        select(Delivery.payload).where(Delivery.message_id == accepted["id"])
                    )
                )
                .scalars()
                .all()
            )
        assert payloads
        assert all("4111" not in payload for payload in payloads)

    async def test_content_without_redact_is_kept(self, hub, apps):
        answer = await send(hub, apps.start("keep me"))
        conversation_id = answer["messages"]["message"][0]["conversation"]["id"]
        await received(apps.bot, 1)
        await send(hub, say(conversation_id, "custom_bot", "ok"))
        await received(apps.customer, 1)
        view = (await hub.get(f"/conversations/{conversation_id}")).json()
        assert view["messages"]["message"][0]["content"] == {"text": "keep me"}


class TestExpiry:
    async def test_the_worker_completes_expired_conversations(self, hub, receivers, database):
        apps = await build_apps(hub, receivers, chat={"timeout": 3})
        answer = await send(hub, apps.start())
        conversation_id = answer["messages"]["message"][0]["conversation"]["id"]
        await asyncio.sleep(3 * MINUTE)

        async def completed():
            async with database.session(write=False) as session:
                found = await session.get(Conversation, conversation_id)
            return found.status == "completed"

        await _eventually(completed)
