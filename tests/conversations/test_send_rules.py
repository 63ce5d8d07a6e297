"""What sendMessage refuses, and what it accepts once only (DECISIONS §6)."""

from __future__ import annotations

import pytest

from tests.conversations.conftest import event, received, say, send

MISSING = "00000000-0000-0000-0000-000000000000"


async def _refused(hub, *messages):
    answer = await hub.post(
        "/conversations/messages", json={"messages": {"message": list(messages)}}
    )
    assert answer.status_code in {400, 403}, answer.text
    return answer.status_code, answer.json()


async def _start(hub, apps):
    answer = await send(hub, apps.start())
    return answer["messages"]["message"][0]["conversation"]["id"]


class TestStart:
    async def test_unknown_account(self, hub, apps):
        message = apps.start()
        message["conversation"]["account"]["address"] = "nobody-here"
        status, body = await _refused(hub, message)
        assert (status, body["code"]) == (400, "400-194")

    async def test_no_account_and_no_id(self, hub, apps):
        message = apps.start()
        del message["conversation"]["account"]
        status, body = await _refused(hub, message)
        assert (status, body["code"]) == (400, "400-143")
        assert "messages.message[0].conversation.account" in body["developerMessage"]

    @pytest.mark.parametrize("sender", ["custom_bot", "custom_agent", "egain_agent"])
    async def test_only_a_customer_starts(self, hub, apps, sender):
        message = apps.start()
        message["sender"] = {"type": sender, "participant": {"name": "x"}}
        status, body = await _refused(hub, message)
        assert (status, body) == (
            403,
            {"code": "403-103", "developerMessage": "Sender is not allowed to start conversation."},
        )

    async def test_inactive_account_does_not_start(self, hub, apps):
        account = (await hub.get(f"/accounts/{apps.account}")).json()
        body = {k: v for k, v in account.items() if k not in {"id", "created", "modified"}}
        assert (
            await hub.put(f"/accounts/{apps.account}", json={**body, "active": False})
        ).status_code == 204
        _status, answer = await _refused(hub, apps.start())
        assert answer["code"] == "400-194"

    async def test_another_tenants_account_is_unknown(self, apps, hub_url, other_tenant):
        import httpx

        from tests.conftest import API_BASE

        async with httpx.AsyncClient(
            base_url=hub_url + API_BASE, headers=other_tenant.headers
        ) as other:
            answer = await other.post(
                "/conversations/messages", json={"messages": {"message": [apps.start()]}}
            )
        assert answer.json()["code"] == "400-194"


class TestContinue:
    async def test_unknown_conversation(self, hub):
        _status, body = await _refused(hub, say(MISSING, "customer"))
        assert body["code"] == "400-630"
        assert MISSING in body["developerMessage"]

    async def test_another_tenants_conversation_is_unknown(self, hub, apps, hub_url, other_tenant):
        import httpx

        from tests.conftest import API_BASE

        conversation_id = await _start(hub, apps)
        async with httpx.AsyncClient(
            base_url=hub_url + API_BASE, headers=other_tenant.headers
        ) as other:
            answer = await other.post(
                "/conversations/messages",
                json={"messages": {"message": [say(conversation_id, "customer")]}},
            )
            assert answer.json()["code"] == "400-630"
            assert (await other.get(f"/conversations/{conversation_id}")).json()[
                "code"
            ] == "404-101"

    @pytest.mark.parametrize(
        ("sender", "kind"),
        [
            ("customer", "escalation.transfer"),
            ("customer", "agent.join"),
            ("custom_bot", "conversation.state"),
            ("custom_bot", "authentication.success"),
            ("custom_agent", "customer.active"),
        ],
    )
    async def test_type_the_sender_may_not_send(self, hub, apps, sender, kind):
        conversation_id = await _start(hub, apps)
        _status, body = await _refused(
            hub, say(conversation_id, "customer"), event(conversation_id, sender, kind)
        )
        assert body == {
            "code": "400-199",
            "developerMessage": "Invalid value of attribute "
            f"'messages.message[1].type.value'='{kind}'.",
        }
        # The whole batch was refused: the first message was not delivered either.
        view = (await hub.get(f"/conversations/{conversation_id}")).json()
        assert view["messages"]["paginationInfo"]["count"] == 1

    async def test_agent_is_not_part_before_escalation(self, hub, apps):
        conversation_id = await _start(hub, apps)
        _status, body = await _refused(hub, say(conversation_id, "custom_agent"))
        assert body["code"] == "400-240"


class TestIdempotency:
    async def test_resent_message_id_is_accepted_once(self, hub, apps):
        first = await send(hub, apps.start(messageId="once"))
        accepted = first["messages"]["message"][0]
        conversation_id = accepted["conversation"]["id"]
        again = await send(hub, say(conversation_id, "customer", "Hello", messageId="once"))
        assert again["messages"]["message"][0]["id"] == accepted["id"]
        await received(apps.bot, 1)
        await send(hub, say(conversation_id, "customer", "next"))
        bodies = await received(apps.bot, 2)
        assert [b["messages"]["message"][0]["content"]["text"] for b in bodies] == ["Hello", "next"]
        view = (await hub.get(f"/conversations/{conversation_id}")).json()
        assert view["messages"]["paginationInfo"]["count"] == 2

    async def test_same_message_id_twice_in_one_batch(self, hub, apps):
        conversation_id = await _start(hub, apps)
        answer = await send(
            hub,
            say(conversation_id, "customer", "a", messageId="x"),
            say(conversation_id, "customer", "a", messageId="x"),
        )
        ids = [m["id"] for m in answer["messages"]["message"]]
        assert ids[0] == ids[1]


class TestRead:
    async def test_messages_in_order_with_their_status(self, hub, apps):
        conversation_id = await _start(hub, apps)
        await send(
            hub,
            say(conversation_id, "custom_bot", "one"),
            say(conversation_id, "custom_bot", "two"),
        )
        await received(apps.customer, 2)
        await received(apps.bot, 1)
        import asyncio

        for _ in range(100):
            view = (await hub.get(f"/conversations/{conversation_id}")).json()
            if all(m.get("status") == "sent" for m in view["messages"]["message"]):
                break
            await asyncio.sleep(0.05)
        messages = view["messages"]["message"]
        assert [m["content"]["text"] for m in messages] == ["Hello", "one", "two"]
        assert [m["status"] for m in messages] == ["sent", "sent", "sent"]
        assert all("sent" in m and "created" in m for m in messages)
        assert view["account"]["address"] == apps.address
        page = (
            await hub.get(
                f"/conversations/{conversation_id}", params={"$pagesize": 2, "$pagenum": 2}
            )
        ).json()
        assert page["messages"]["paginationInfo"] == {"count": 3, "pagenum": 2, "pagesize": 2}
        assert [m["content"]["text"] for m in page["messages"]["message"]] == ["two"]

    async def test_unknown_conversation(self, hub):
        answer = await hub.get(f"/conversations/{MISSING}")
        assert answer.status_code == 404
        assert answer.json()["code"] == "404-101"

    async def test_page_size_limit(self, hub, apps):
        conversation_id = await _start(hub, apps)
        assert (
            await hub.get(f"/conversations/{conversation_id}", params={"$pagesize": 200})
        ).status_code == 200
        answer = await hub.get(f"/conversations/{conversation_id}", params={"$pagesize": 201})
        assert answer.json()["code"] == "400-244"
