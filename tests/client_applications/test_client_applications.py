"""/clientapplications: the five operations, role rules (unique names, callback URLs,
authentication references) and tenant isolation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.client_applications.conftest import (
    PATH,
    read_application,
)
from tests.conftest import ClientFactory
from tests.factories import (
    client_application,
    create,
    participant,
    role,
    unique,
    with_value,
    without,
)
from tests.resources import TIMESTAMP, Snapshot, Stored, refused

READ_ONLY = ["app.conversation.conversationmgr.read"]
STALE = "2021-03-28T14:29:01.516Z"
EXAMPLE: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "request-examples.json").read_text()
)["post_client_application"]["example"]


def no_auth_application(**overrides: Any) -> dict[str, Any]:
    return client_application(role("custom_agent"), **overrides)


class TestCreate:
    async def test_created_and_read_back(self, api: httpx.AsyncClient, authentication: str) -> None:
        sent = with_value(EXAMPLE, "roles.0.authentication.id", authentication)
        sent["name"] = unique("app")
        answer = await api.post(PATH, json=sent)
        assert answer.status_code == 201, answer.text
        assert list(answer.json()) == ["id"]
        app_id = answer.json()["id"]
        assert len(app_id) == 36
        read = await read_application(api, app_id)
        assert TIMESTAMP.fullmatch(read.pop("created"))
        assert TIMESTAMP.fullmatch(read.pop("modified"))
        assert read == {"id": app_id, **sent}

    async def test_minimal_application_gets_defaults(self, api: httpx.AsyncClient) -> None:
        minimal_role = {
            "name": "customer",
            "version": "v1",
            "callback": "http://example.com/cb",
            "notificationEmail": "a@example.com",
        }
        sent = {"name": unique("app"), "roles": [minimal_role]}
        app_id = await create(api, PATH, sent)
        read = await read_application(api, app_id)
        assert read["created"] == read["modified"]
        del read["created"], read["modified"]
        assert read == {"id": app_id, **sent, "active": True}

    async def test_every_role_at_once(self, api: httpx.AsyncClient) -> None:
        names = [
            "customer",
            "custom_bot",
            "egain_bot",
            "egain_agent",
            "custom_agent",
            "business_notification",
        ]
        sent = client_application(*(role(name) for name in names))
        read = await read_application(api, await create(api, PATH, sent))
        assert [r["name"] for r in read["roles"]] == names

    @pytest.mark.parametrize(
        "attribute",
        [
            "name",
            "roles",
            "roles.0.name",
            "roles.0.version",
            "roles.0.callback",
            "roles.0.notificationEmail",
            "roles.0.authentication.id",
            "roles.0.headers.0.name",
            "roles.0.headers.0.value",
        ],
    )
    async def test_missing_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, authentication: str, attribute: str
    ) -> None:
        sent = client_application(role("customer", authentication_id=authentication))
        answer = await api.post(PATH, json=without(sent, attribute))
        dotted = attribute.replace(".0", "[0]")
        refused(answer, 400, "400-143", dotted)
        assert await snapshot() == []

    @pytest.mark.parametrize(
        "attribute",
        ["colour", "roles.0.colour", "roles.0.headers.0.colour", "roles.0.authentication.x"],
    )
    async def test_unknown_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, authentication: str, attribute: str
    ) -> None:
        sent = client_application(role("customer", authentication_id=authentication))
        answer = await api.post(PATH, json=with_value(sent, attribute, "blue"))
        refused(answer, 400, "400-420", attribute.replace(".0", "[0]"))
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("attribute", "limit"),
        [
            ("name", 255),
            ("description", 1023),
            ("roles.0.callback", 1023),
            ("roles.0.notificationEmail", 255),
            ("roles.0.headers.0.name", 255),
            ("roles.0.headers.0.value", 1023),
        ],
    )
    async def test_too_long(
        self, api: httpx.AsyncClient, snapshot: Snapshot, attribute: str, limit: int
    ) -> None:
        long_value = "https://example.com/" + "x" * limit
        answer = await api.post(PATH, json=with_value(no_auth_application(), attribute, long_value))
        refused(answer, 400, "400-358", attribute.replace(".0", "[0]"))
        assert await snapshot() == []

    async def test_longest_values_accepted(self, api: httpx.AsyncClient) -> None:
        callback = "https://example.com/" + "x" * (1023 - len("https://example.com/"))
        sent = with_value(no_auth_application(name="n" * 255), "roles.0.callback", callback)
        read = await read_application(api, await create(api, PATH, sent))
        assert read["name"] == "n" * 255
        assert read["roles"][0]["callback"] == callback

    @pytest.mark.parametrize(
        ("attribute", "value", "allowed"),
        [("roles.0.name", "robot", "custom_agent"), ("roles.0.version", "v2", "v3")],
    )
    async def test_value_outside_enum(
        self, api: httpx.AsyncClient, snapshot: Snapshot, attribute: str, value: str, allowed: str
    ) -> None:
        answer = await api.post(PATH, json=with_value(no_auth_application(), attribute, value))
        refused(answer, 400, "400-196", attribute.replace(".0", "[0]"))
        assert allowed in answer.json()["developerMessage"]
        assert await snapshot() == []

    @pytest.mark.parametrize("value", ["abc", "a" * 37, ""])
    async def test_authentication_id_of_wrong_length(
        self, api: httpx.AsyncClient, snapshot: Snapshot, value: str
    ) -> None:
        sent = with_value(no_auth_application(), "roles.0.authentication", {"id": value})
        refused(await api.post(PATH, json=sent), 400, "400-414", "roles[0].authentication.id")
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("attribute", "value"),
        [
            ("name", 5),
            ("name", ""),
            ("description", ""),
            ("active", "true"),
            ("active", 1),
            ("roles", "customer"),
            ("roles", []),
            ("roles.0", "customer"),
            ("roles.0.callback", ""),
            ("roles.0.callback", 42),
            ("roles.0.notificationEmail", ""),
            ("roles.0.headers", []),
            ("roles.0.headers", [{"name": "X-h", "value": "v"}] * 26),
            ("roles.0.headers.0.value", ""),
            ("roles.0.authentication", "34fbb53f-ed7f-48d4-b545-e26cc95e075d"),
            ("roles.0.authentication", {"id": 36}),
        ],
    )
    async def test_invalid_value(
        self, api: httpx.AsyncClient, snapshot: Snapshot, attribute: str, value: Any
    ) -> None:
        answer = await api.post(PATH, json=with_value(no_auth_application(), attribute, value))
        refused(answer, 400, "400-152", attribute.replace(".0", "[0]"))
        assert await snapshot() == []

    async def test_more_than_seven_roles(self, api: httpx.AsyncClient, snapshot: Snapshot) -> None:
        sent = client_application(*(role("customer") for _ in range(8)))
        refused(await api.post(PATH, json=sent), 400, "400-152", "roles")
        assert await snapshot() == []

    async def test_duplicate_role_name(self, api: httpx.AsyncClient, snapshot: Snapshot) -> None:
        sent = client_application(role("customer"), role("custom_bot"), role("customer"))
        refused(await api.post(PATH, json=sent), 400, "400-138", "roles[2].name=customer")
        assert await snapshot() == []

    async def test_duplicate_name(
        self, api: httpx.AsyncClient, snapshot: Snapshot, existing: Stored
    ) -> None:
        answer = await api.post(PATH, json=no_auth_application(name=existing.sent["name"]))
        refused(answer, 400, "400-138", existing.sent["name"])
        assert await snapshot() == [existing.read]

    async def test_same_name_in_another_tenant(
        self, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        await create(other_tenant, PATH, no_auth_application(name=existing.sent["name"]))

    async def test_unknown_authentication(self, api: httpx.AsyncClient, snapshot: Snapshot) -> None:
        missing_id = "34fbb53f-ed7f-48d4-b545-e26cc95e075d"
        sent = client_application(
            role("customer"), role("custom_bot", authentication_id=missing_id)
        )
        answer = await api.post(PATH, json=sent)
        refused(answer, 400, "400-194", "roles[1].authentication.id")
        assert missing_id in answer.json()["developerMessage"]
        assert await snapshot() == []

    async def test_authentication_id_naming_another_kind(
        self, api: httpx.AsyncClient, snapshot: Snapshot
    ) -> None:
        other_app = await create(api, PATH, no_auth_application())
        before = await snapshot()
        sent = client_application(role("customer", authentication_id=other_app))
        refused(await api.post(PATH, json=sent), 400, "400-194", "roles[0].authentication.id")
        assert await snapshot() == before

    async def test_authentication_of_another_tenant(
        self, other_tenant: httpx.AsyncClient, authentication: str
    ) -> None:
        sent = client_application(role("customer", authentication_id=authentication))
        answer = await other_tenant.post(PATH, json=sent)
        refused(answer, 400, "400-194", "roles[0].authentication.id")
        listed = (await other_tenant.get(PATH)).json()
        assert listed["paginationInfo"]["count"] == 0

    @pytest.mark.parametrize(
        "callback",
        [
            "example.com/callback",
            "ftp://example.com/callback",
            "javascript:alert(1)",
            "https://",
            "https:///callback",
            "https://example.com:99999/callback",
            "https://exa mple.com/callback",
        ],
    )
    async def test_callback_not_an_http_url(
        self, api: httpx.AsyncClient, snapshot: Snapshot, callback: str
    ) -> None:
        sent = client_application(role("customer"), role("custom_bot", callback=callback))
        refused(await api.post(PATH, json=sent), 400, "400-152", "roles[1].callback")
        assert await snapshot() == []

    @pytest.mark.parametrize(
        "callback",
        [
            "http://127.0.0.1:8080/callback",
            "http://127.1/callback",
            "http://2130706433/callback",
            "http://localhost/callback",
            "https://api.localhost/callback",
            "http://10.1.2.3/callback",
            "http://192.168.0.10/callback",
            "http://172.16.5.4/callback",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/callback",
            "http://[fd00::1]/callback",
            "http://[::ffff:127.0.0.1]/callback",
            "http://0.0.0.0/callback",
        ],
    )
    async def test_callback_to_a_private_address(
        self, api: httpx.AsyncClient, snapshot: Snapshot, callback: str
    ) -> None:
        sent = client_application(role("customer", callback=callback))
        refused(await api.post(PATH, json=sent), 400, "400-152", "roles[0].callback")
        assert await snapshot() == []

    async def test_public_ip_callback_accepted(self, api: httpx.AsyncClient) -> None:
        sent = client_application(role("customer", callback="https://8.8.8.8:8443/callback"))
        read = await read_application(api, await create(api, PATH, sent))
        assert read["roles"][0]["callback"] == "https://8.8.8.8:8443/callback"

    async def test_private_callback_accepted_when_allowed(
        self, permissive_api: httpx.AsyncClient
    ) -> None:
        sent = client_application(role("customer", callback="http://127.0.0.1:9000/callback"))
        app_id = await create(permissive_api, PATH, sent)
        read = await read_application(permissive_api, app_id)
        assert read["roles"][0]["callback"] == "http://127.0.0.1:9000/callback"

    async def test_body_not_json(self, api: httpx.AsyncClient, snapshot: Snapshot) -> None:
        answer = await api.post(PATH, content=b"{", headers={"Content-Type": "application/json"})
        refused(answer, 400, "400-264")
        assert await snapshot() == []

    async def test_read_only_client_forbidden(
        self, make_client: ClientFactory, snapshot: Snapshot, api: httpx.AsyncClient
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        refused(await reader.post(PATH, json=no_auth_application()), 403, "403-197")
        assert await snapshot() == []

    async def test_anonymous_unauthorized(self, anonymous: httpx.AsyncClient) -> None:
        refused(await anonymous.post(PATH, json=no_auth_application()), 401, "401-104")


class TestList:
    async def test_empty(self, api: httpx.AsyncClient) -> None:
        answer = await api.get(PATH)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "paginationInfo": {"count": 0, "pagenum": 1, "pagesize": 25},
            "clientApplication": [],
        }

    async def test_pages_in_creation_order(self, api: httpx.AsyncClient) -> None:
        ids = [await create(api, PATH, no_auth_application()) for _ in range(5)]
        answer = await api.get(PATH, params={"$pagesize": "2", "$pagenum": "2"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["paginationInfo"] == {"count": 5, "pagenum": 2, "pagesize": 2}
        assert [item["id"] for item in body["clientApplication"]] == ids[2:4]
        assert body["clientApplication"][0] == await read_application(api, ids[2])

    @pytest.mark.usefixtures("existing")
    async def test_page_past_the_end(self, api: httpx.AsyncClient) -> None:
        answer = await api.get(PATH, params={"$pagenum": "3"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "paginationInfo": {"count": 1, "pagenum": 3, "pagesize": 25},
            "clientApplication": [],
        }

    @pytest.mark.usefixtures("existing")
    async def test_other_tenant_sees_none(self, other_tenant: httpx.AsyncClient) -> None:
        body = (await other_tenant.get(PATH)).json()
        assert body["paginationInfo"]["count"] == 0
        assert body["clientApplication"] == []

    @pytest.mark.parametrize(
        "params", [{"$pagesize": "101"}, {"$pagesize": "0"}, {"$pagenum": "x"}]
    )
    async def test_bad_page_parameter(self, api: httpx.AsyncClient, params: dict[str, str]) -> None:
        refused(await api.get(PATH, params=params), 400, "400-244")

    async def test_unknown_query_parameter(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(PATH, params={"name": "x"}), 400, "400-101", "name")

    async def test_read_only_client_allowed(
        self, make_client: ClientFactory, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        body = (await reader.get(PATH)).json()
        assert body["clientApplication"] == [existing.read]


class TestGet:
    async def test_read(self, api: httpx.AsyncClient, existing: Stored) -> None:
        read = await read_application(api, existing.id)
        assert read == existing.read
        assert read["roles"][0]["authentication"] == existing.sent["roles"][0]["authentication"]

    async def test_unknown_id(self, api: httpx.AsyncClient) -> None:
        missing_id = "7b6c5fff-036e-4a40-b68a-a67c592fc079"
        refused(await api.get(f"{PATH}/{missing_id}"), 404, "404-101", missing_id)

    async def test_id_of_wrong_length(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(f"{PATH}/abc"), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        refused(await other_tenant.get(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)

    async def test_id_of_another_kind_not_found(
        self, api: httpx.AsyncClient, authentication: str
    ) -> None:
        refused(await api.get(f"{PATH}/{authentication}"), 404, "404-101")


class TestReplace:
    async def test_replaced(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = client_application(
            role("egain_agent", callback="https://agents.example.com/in"),
            name=unique("renamed"),
            description="now an agent app",
            active=False,
        )
        answer = await api.put(f"{PATH}/{existing.id}", json=sent)
        assert answer.status_code == 204, answer.text
        assert answer.content == b""
        read = await read_application(api, existing.id)
        assert read["created"] == existing.read["created"]
        assert read.pop("modified") > existing.read["modified"]
        assert read == {"id": existing.id, **sent, "created": existing.read["created"]}

    async def test_defaults_filled_on_replace(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = without(without(existing.sent, "active"), "description")
        assert (await api.put(f"{PATH}/{existing.id}", json=sent)).status_code == 204
        read = await read_application(api, existing.id)
        assert read["active"] is True
        assert "description" not in read

    async def test_stale_modified_refused(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = {**existing.sent, "description": "changed", "modified": STALE}
        answer = await api.put(f"{PATH}/{existing.id}", json=sent)
        refused(answer, 409, "409-100", existing.id)
        assert "client application" in answer.json()["developerMessage"]
        assert await read_application(api, existing.id) == existing.read

    async def test_current_modified_accepted(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = {**existing.sent, "description": "changed", "modified": existing.read["modified"]}
        assert (await api.put(f"{PATH}/{existing.id}", json=sent)).status_code == 204
        read = await read_application(api, existing.id)
        assert read["description"] == "changed"
        assert read["modified"] > existing.read["modified"]
        # The previous `modified` is now stale.
        again = await api.put(f"{PATH}/{existing.id}", json=sent)
        refused(again, 409, "409-100", existing.id)

    async def test_invalid_body_changes_nothing(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        answer = await api.put(
            f"{PATH}/{existing.id}", json=without(existing.sent, "roles.0.version")
        )
        refused(answer, 400, "400-143", "roles[0].version")
        assert await read_application(api, existing.id) == existing.read

    async def test_private_callback_refused(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = with_value(existing.sent, "roles.1.callback", "http://192.168.1.1/cb")
        refused(
            await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-152", "roles[1].callback"
        )
        assert await read_application(api, existing.id) == existing.read

    async def test_duplicate_role_name(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = with_value(existing.sent, "roles.1.name", "customer")
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-138", "roles[1].name")
        assert await read_application(api, existing.id) == existing.read

    async def test_name_of_another_application(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        other = no_auth_application()
        await create(api, PATH, other)
        sent = {**existing.sent, "name": other["name"]}
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-138", other["name"])
        assert await read_application(api, existing.id) == existing.read

    async def test_unknown_authentication(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = with_value(
            existing.sent, "roles.1.authentication", {"id": "34fbb53f-ed7f-48d4-b545-e26cc95e075d"}
        )
        answer = await api.put(f"{PATH}/{existing.id}", json=sent)
        refused(answer, 400, "400-194", "roles[1].authentication.id")
        assert await read_application(api, existing.id) == existing.read

    async def test_unknown_id(self, api: httpx.AsyncClient) -> None:
        missing_id = "7b6c5fff-036e-4a40-b68a-a67c592fc079"
        answer = await api.put(f"{PATH}/{missing_id}", json=no_auth_application())
        refused(answer, 404, "404-101", missing_id)
        assert (await api.get(PATH)).json()["paginationInfo"]["count"] == 0

    async def test_id_of_wrong_length(self, api: httpx.AsyncClient) -> None:
        refused(await api.put(f"{PATH}/abc", json=no_auth_application()), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, api: httpx.AsyncClient, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        answer = await other_tenant.put(f"{PATH}/{existing.id}", json=no_auth_application())
        refused(answer, 404, "404-101", existing.id)
        assert await read_application(api, existing.id) == existing.read

    async def test_unknown_attribute(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = {**existing.sent, "id": existing.id}
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-420", "id")
        assert await read_application(api, existing.id) == existing.read


class TestDelete:
    async def test_deleted(self, api: httpx.AsyncClient, existing: Stored) -> None:
        answer = await api.delete(f"{PATH}/{existing.id}")
        assert answer.status_code == 204, answer.text
        assert answer.content == b""
        refused(await api.get(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)
        assert (await api.get(PATH)).json()["paginationInfo"]["count"] == 0

    async def test_deleted_twice(self, api: httpx.AsyncClient, existing: Stored) -> None:
        assert (await api.delete(f"{PATH}/{existing.id}")).status_code == 204
        refused(await api.delete(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)

    async def test_in_use_by_a_participant(self, api: httpx.AsyncClient, existing: Stored) -> None:
        participant_id = await create(api, "/participants", participant(existing.id))
        answer = await api.delete(f"{PATH}/{existing.id}")
        refused(answer, 400, "400-160", participant_id)
        assert "participant" in answer.json()["developerMessage"]
        assert await read_application(api, existing.id) == existing.read
        # Once the participant is gone, so can the application be.
        assert (await api.delete(f"/participants/{participant_id}")).status_code == 204
        assert (await api.delete(f"{PATH}/{existing.id}")).status_code == 204

    async def test_in_use_by_an_orchestration(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        agent = await create(api, PATH, client_application(role("custom_agent")))
        orchestration = {
            "name": unique("orch"),
            "applications": {
                "customerConfiguration": {"customer": {"id": existing.id}},
                "agentConfiguration": {"agents": [{"id": agent}]},
            },
        }
        orchestration_id = await create(api, "/orchestrations", orchestration)
        answer = await api.delete(f"{PATH}/{existing.id}")
        refused(answer, 400, "400-160", orchestration_id)
        assert "orchestration" in answer.json()["developerMessage"]
        assert await read_application(api, existing.id) == existing.read

    async def test_authentication_in_use_cannot_be_deleted(
        self, api: httpx.AsyncClient, existing: Stored, authentication: str
    ) -> None:
        answer = await api.delete(f"/authentications/{authentication}")
        refused(answer, 400, "400-160", existing.id)
        assert (await api.get(f"/authentications/{authentication}")).status_code == 200

    async def test_authentication_released_by_replace(
        self, api: httpx.AsyncClient, existing: Stored, authentication: str
    ) -> None:
        sent = without(existing.sent, "roles.0.authentication")
        assert (await api.put(f"{PATH}/{existing.id}", json=sent)).status_code == 204
        assert (await api.delete(f"/authentications/{authentication}")).status_code == 204

    async def test_authentication_released_by_delete(
        self, api: httpx.AsyncClient, existing: Stored, authentication: str
    ) -> None:
        assert (await api.delete(f"{PATH}/{existing.id}")).status_code == 204
        assert (await api.delete(f"/authentications/{authentication}")).status_code == 204

    async def test_unknown_id(self, api: httpx.AsyncClient) -> None:
        missing_id = "7b6c5fff-036e-4a40-b68a-a67c592fc079"
        refused(await api.delete(f"{PATH}/{missing_id}"), 404, "404-101", missing_id)

    async def test_id_of_wrong_length(self, api: httpx.AsyncClient) -> None:
        refused(await api.delete(f"{PATH}/{'a' * 37}"), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, api: httpx.AsyncClient, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        refused(await other_tenant.delete(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)
        assert await read_application(api, existing.id) == existing.read

    async def test_read_only_client_forbidden(
        self, make_client: ClientFactory, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        refused(await reader.delete(f"{PATH}/{existing.id}"), 403, "403-197")
        assert await read_application(api, existing.id) == existing.read
