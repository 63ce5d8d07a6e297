"""``GET /convhub/v1/messages/{id}/deliveries``: every attempt of every delivery of a message,
and the rules every operator endpoint shares (token, our own permissions, tenant isolation,
query parameters)."""

from __future__ import annotations

import httpx
import pytest

from convhub.core.security import permissions as perms
from tests.conversations.conftest import received, send
from tests.operations.conftest import OPERATIONS_BASE, deliveries, eventually, state_of
from tests.receivers import Reply

SOME_ID = "7b6c5fff-036e-4a40-b68a-a67c592fc079"
OPERATIONS = [
    ("GET", f"/messages/{SOME_ID}/deliveries"),
    ("GET", "/deadletters"),
    ("POST", f"/messages/{SOME_ID}/redeliver"),
    ("GET", "/callbacks"),
]


async def _started(tenant, apps, text="Hello") -> str:
    answer = await send(tenant.api, apps.start(text))
    return str(answer["messages"]["message"][0]["id"])


class TestMessageDeliveries:
    async def test_each_attempt_with_time_status_latency_and_error(self, tenant, apps):
        apps.bot.reply(Reply(status=503), Reply(status=500, headers={"Retry-After": "0"}))
        message_id = await _started(tenant, apps, "secret content")
        await received(apps.bot, 3)
        delivery = await state_of(tenant.ops, message_id, "sent")
        attempts = delivery["attempt"]
        assert [a["number"] for a in attempts] == [1, 2, 3]
        assert [a["statusCode"] for a in attempts] == [503, 500, 202]
        assert [a["result"] for a in attempts] == ["retry", "retry", "delivered"]
        assert [a["error"] for a in attempts] == [
            "the callback answered 503",
            "the callback answered 500",
            None,
        ]
        assert all(isinstance(a["latencyMs"], int) and a["latencyMs"] >= 0 for a in attempts)
        assert [a["started"] for a in attempts] == sorted(a["started"] for a in attempts)
        assert attempts[0]["started"].endswith("Z")
        assert delivery["recipient"]["role"] == "custom_bot"
        assert delivery["finished"] is not None
        assert delivery["nextAttemptAt"] is None

    async def test_never_shows_the_content(self, tenant, apps):
        message_id = await _started(tenant, apps, "the customer's secret words")
        await received(apps.bot, 1)
        await state_of(tenant.ops, message_id, "sent")
        answer = await tenant.ops.get(f"/messages/{message_id}/deliveries")
        assert "secret words" not in answer.text

    async def test_a_pending_delivery_shows_its_next_attempt(self, tenant, apps):
        apps.bot.reply(Reply(status=503, headers={"Retry-After": "100"}))  # 1 s here
        message_id = await _started(tenant, apps)

        async def retried() -> dict | None:
            found = await deliveries(tenant.ops, message_id)
            return found if found["delivery"][0]["attempt"] else None

        found = await eventually(retried)
        assert found["status"] == "retryInProgress"
        [delivery] = found["delivery"]
        assert delivery["state"] == "pending"
        assert delivery["nextAttemptAt"] is not None
        await state_of(tenant.ops, message_id, "sent")  # nothing left to retry after the test

    async def test_unknown_message_is_404(self, tenant):
        answer = await tenant.ops.get(f"/messages/{SOME_ID}/deliveries")
        assert answer.status_code == 404
        assert answer.json()["code"] == "404-101"

    async def test_another_tenants_message_is_404(self, tenant, apps, make_tenant):
        message_id = await _started(tenant, apps)
        other = await make_tenant()
        for method, path in [
            ("GET", f"/messages/{message_id}/deliveries"),
            ("POST", f"/messages/{message_id}/redeliver"),
        ]:
            answer = await other.ops.request(method, path)
            assert answer.status_code == 404, (method, path)
            assert answer.json()["code"] == "404-101"

    async def test_an_unknown_query_parameter_is_refused(self, tenant):
        answer = await tenant.ops.get(f"/messages/{SOME_ID}/deliveries", params={"x": "1"})
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-101"


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
class TestPermissions:
    async def test_needs_a_token(self, ops_url, method, path):
        async with httpx.AsyncClient(base_url=ops_url + OPERATIONS_BASE) as anonymous:
            answer = await anonymous.request(method, path)
        assert answer.status_code == 401
        assert answer.json()["code"] == "401-104"

    async def test_egains_permissions_are_not_enough(self, make_tenant, method, path):
        egain_only = [perms.MANAGE, perms.READ, perms.INTERACTION_MANAGE, perms.INTERACTION_READ]
        tenant = await make_tenant(permissions=egain_only)
        answer = await tenant.ops.request(method, path)
        assert answer.status_code == 403
        assert answer.json() == {
            "code": "403-197",
            "developerMessage": "Not authorized to perform the action.",
        }

    async def test_read_may_look_but_not_redeliver(self, make_tenant, method, path):
        tenant = await make_tenant(permissions=[perms.DELIVERIES_READ])
        answer = await tenant.ops.request(method, path)
        expected = 403 if method == "POST" else (404 if "messages" in path else 200)
        assert answer.status_code == expected

    async def test_manage_may_do_everything(self, make_tenant, method, path):
        tenant = await make_tenant(permissions=[perms.DELIVERIES_MANAGE])
        answer = await tenant.ops.request(method, path)
        assert answer.status_code == (404 if "messages" in path else 200)


class TestPublishedDocument:
    async def test_our_operations_are_documented_apart_from_egains(self, ops_url):
        async with httpx.AsyncClient(base_url=ops_url) as http:
            document = (await http.get("/openapi.json")).json()
        ours = {
            (method.upper(), path, operation["tags"][0], frozenset(operation["responses"]))
            for path, item in document["paths"].items()
            for method, operation in item.items()
            if path.startswith(OPERATIONS_BASE + "/")
        }
        tag = "Delivery operations (convhub extension)"
        errors = {"400", "401", "403", "500"}
        assert ours == {
            (
                "GET",
                "/convhub/v1/messages/{id}/deliveries",
                tag,
                frozenset({"200", "404"} | errors),
            ),
            ("GET", "/convhub/v1/deadletters", tag, frozenset({"200"} | errors)),
            (
                "POST",
                "/convhub/v1/messages/{id}/redeliver",
                tag,
                frozenset({"202", "404", "409"} | errors),
            ),
            ("GET", "/convhub/v1/callbacks", tag, frozenset({"200"} | errors)),
        }
        egain = [p for p in document["paths"] if p.startswith("/conversation/conversationmgr/v3")]
        assert not any("deliveries" in p or "redeliver" in p or "deadletters" in p for p in egain)
