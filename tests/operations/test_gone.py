"""``410 Gone``: the receiver says the callback is gone for good. The message fails like any
refusal (the sender gets an error message), the role's callback is deactivated in our own table
(the client application the customer owns is left as it is), its notificationEmail is mailed,
later messages fail at once without calling it, and replacing the application (PUT) lifts it."""

from __future__ import annotations

from tests.conversations.conftest import only, received, say, send
from tests.conversations.test_notification_mail import NOTIFICATION_EMAIL
from tests.operations.conftest import deliveries, eventually, state_of
from tests.receivers import Reply


async def _gone(tenant, apps) -> tuple[str, str, str]:
    """A conversation whose first message the bot answers 410: (message, conversation, bot app)."""
    apps.bot.reply(Reply(status=410))
    answer = await send(tenant.api, apps.start("are you there?"))
    accepted = answer["messages"]["message"][0]
    delivery = await state_of(tenant.ops, accepted["id"], "failed")
    return accepted["id"], accepted["conversation"]["id"], delivery["recipient"]["applicationId"]


async def _callback(tenant, app_id: str) -> dict | None:
    callbacks = (await tenant.ops.get("/callbacks")).json()["callback"]
    return next((c for c in callbacks if c["recipient"]["applicationId"] == app_id), None)


class TestGone:
    async def test_the_message_fails_and_the_sender_is_told(self, tenant, apps):
        message_id, conversation_id, _ = await _gone(tenant, apps)
        [error] = await received(apps.customer, 1)
        assert only(error)["parent"]["id"] == message_id
        assert "answered 410" in only(error)["content"]["text"]
        view = (await tenant.api.get(f"/conversations/{conversation_id}")).json()
        assert view["messages"]["message"][0]["status"] == "failed"
        [delivery] = (await deliveries(tenant.ops, message_id))["delivery"]
        assert [a["statusCode"] for a in delivery["attempt"]] == [410]

    async def test_the_callback_is_deactivated_and_its_owner_mailed(
        self, tenant, apps, ops_mailbox
    ):
        message_id, conversation_id, app_id = await _gone(tenant, apps)
        callback = await eventually(lambda: _callback(tenant, app_id))
        assert callback["deactivated"] is True
        assert callback["deactivatedCallback"] == f"{apps.bot.url}/custom_bot"
        assert callback["breaker"] == "closed"
        await ops_mailbox.wait_about(conversation_id, 1)
        [mail] = ops_mailbox.about(conversation_id)
        assert mail["To"] == NOTIFICATION_EMAIL
        assert "deactivated" in mail["Subject"]
        assert "(custom_bot)" in mail["Subject"]
        assert f"{apps.bot.url}/custom_bot answered 410 Gone" in mail.get_content()
        assert message_id in mail.get_content()
        # The customer's document is untouched: still active, same callback.
        stored = (await tenant.api.get(f"/clientapplications/{app_id}")).json()
        assert stored["active"] is True
        assert stored["roles"][0]["callback"] == f"{apps.bot.url}/custom_bot"

    async def test_later_messages_fail_at_once_without_a_call(self, tenant, apps):
        _, conversation_id, _ = await _gone(tenant, apps)
        answer = await send(tenant.api, say(conversation_id, "customer", "anyone?"))
        later = answer["messages"]["message"][0]["id"]
        delivery = await state_of(tenant.ops, later, "failed")
        assert len(apps.bot.requests) == 1
        [attempt] = delivery["attempt"]
        assert attempt["statusCode"] is None
        assert "deactivated" in attempt["error"]
        errors = await received(apps.customer, 2)
        assert only(errors[1])["parent"]["id"] == later

    async def test_replacing_the_application_reactivates_it(self, tenant, apps):
        _, conversation_id, app_id = await _gone(tenant, apps)
        stored = (await tenant.api.get(f"/clientapplications/{app_id}")).json()
        body = {k: v for k, v in stored.items() if k not in {"id", "created"}}
        assert (await tenant.api.put(f"/clientapplications/{app_id}", json=body)).status_code == 204
        answer = await send(tenant.api, say(conversation_id, "customer", "back?"))
        await state_of(tenant.ops, answer["messages"]["message"][0]["id"], "sent")
        assert only(apps.bot.requests[1].json())["content"] == {"text": "back?"}
        assert await _callback(tenant, app_id) is None
