"""/participants: the five operations, the client application reference and tenant isolation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ClientFactory
from tests.factories import (
    client_application,
    create,
    orchestration,
    participant,
    role,
    unique,
    with_value,
    without,
)
from tests.participants.conftest import (
    PATH,
    read_participant,
)
from tests.resources import TIMESTAMP, Snapshot, Stored, refused

READ_ONLY = ["app.conversation.conversationmgr.read"]
STALE = "2021-03-06T21:16:36.838Z"
MISSING_ID = "9d091084-3ca8-4afc-97e1-8b0ad52fc38f"
EXAMPLES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "request-examples.json").read_text()
)["post_participant"]


def from_example(name: str, application_id: str) -> dict[str, Any]:
    body = with_value(EXAMPLES[name], "application.id", application_id)
    return {**body, "name": unique(body["name"])}


def path_of(attribute: str) -> str:
    """``intents.intent.0.value`` → ``intents.intent[0].value``, as error messages name it."""
    return attribute.replace(".0", "[0]")


class TestCreate:
    async def test_created_and_read_back(self, api: httpx.AsyncClient, application: str) -> None:
        sent = from_example("Participants with Intent", application)
        answer = await api.post(PATH, json=sent)
        assert answer.status_code == 201, answer.text
        assert list(answer.json()) == ["id"]
        participant_id = answer.json()["id"]
        assert len(participant_id) == 36
        read = await read_participant(api, participant_id)
        assert TIMESTAMP.fullmatch(read.pop("created"))
        assert TIMESTAMP.fullmatch(read.pop("modified"))
        assert read == {"id": participant_id, **sent}

    async def test_minimal_participant_gets_defaults(
        self, api: httpx.AsyncClient, application: str
    ) -> None:
        sent = without(from_example("Participants without Intent", application), "active")
        participant_id = await create(api, PATH, sent)
        read = await read_participant(api, participant_id)
        assert read["created"] == read["modified"]
        del read["created"], read["modified"]
        assert read == {"id": participant_id, **sent, "active": True}

    async def test_every_attribute(self, api: httpx.AsyncClient, application: str) -> None:
        sent = participant(
            application,
            type="egain_bot",
            description="d" * 1023,
            active=False,
            options=[{"name": f"o{i}", "value": "v"} for i in range(25)],
            intents={"intent": [{"value": f"i{i}", "displayValue": "I"} for i in range(500)]},
        )
        read = await read_participant(api, await create(api, PATH, sent))
        del read["id"], read["created"], read["modified"]
        assert read == sent

    @pytest.mark.parametrize(
        "attribute",
        [
            "name",
            "type",
            "application",
            "application.id",
            "intents.intent",
            "intents.intent.0.value",
            "intents.intent.0.displayValue",
            "options.0.name",
            "options.0.value",
        ],
    )
    async def test_missing_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, application: str, attribute: str
    ) -> None:
        sent = participant(application, options=[{"name": "a", "value": "b"}])
        refused(
            await api.post(PATH, json=without(sent, attribute)), 400, "400-143", path_of(attribute)
        )
        assert await snapshot() == []

    @pytest.mark.parametrize(
        "attribute",
        ["colour", "application.name", "intents.colour", "intents.intent.0.colour", "modified"],
    )
    async def test_unknown_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, application: str, attribute: str
    ) -> None:
        value = "2021-03-06T21:16:36.838Z"
        answer = await api.post(PATH, json=with_value(participant(application), attribute, value))
        refused(answer, 400, "400-420", path_of(attribute))
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("attribute", "limit"),
        [
            ("name", 255),
            ("description", 1023),
            ("intents.intent.0.value", 255),
            ("intents.intent.0.displayValue", 255),
            ("options.0.name", 255),
            ("options.0.value", 1023),
        ],
    )
    async def test_too_long(
        self,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        application: str,
        attribute: str,
        limit: int,
    ) -> None:
        sent = participant(application, options=[{"name": "a", "value": "b"}])
        answer = await api.post(PATH, json=with_value(sent, attribute, "x" * (limit + 1)))
        refused(answer, 400, "400-358", path_of(attribute))
        assert str(limit) in answer.json()["developerMessage"]
        assert await snapshot() == []

    @pytest.mark.parametrize("value", ["custom_agent", "CUSTOM_BOT", ""])
    async def test_type_outside_enum(
        self, api: httpx.AsyncClient, snapshot: Snapshot, application: str, value: str
    ) -> None:
        answer = await api.post(PATH, json=participant(application, type=value))
        refused(answer, 400, "400-196", "type")
        assert "custom_bot" in answer.json()["developerMessage"]
        assert "egain_bot" in answer.json()["developerMessage"]
        assert await snapshot() == []

    @pytest.mark.parametrize("value", ["abc", MISSING_ID + "0", ""])
    async def test_application_id_of_wrong_length(
        self, api: httpx.AsyncClient, snapshot: Snapshot, value: str
    ) -> None:
        refused(await api.post(PATH, json=participant(value)), 400, "400-414", "application.id")
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("attribute", "value"),
        [
            ("name", 5),
            ("name", ""),
            ("description", ""),
            ("active", "true"),
            ("active", None),
            ("application", MISSING_ID),
            ("application.id", 123),
            ("intents", []),
            ("intents.intent", []),
            ("intents.intent", [{"value": "v", "displayValue": "V"}] * 501),
            ("intents.intent.0.value", ""),
            ("options", []),
            ("options", [{"name": "n", "value": "v"}] * 26),
            ("options.0", "language=en-US"),
        ],
    )
    async def test_invalid_value(
        self,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        application: str,
        attribute: str,
        value: Any,
    ) -> None:
        sent = participant(application, options=[{"name": "a", "value": "b"}])
        answer = await api.post(PATH, json=with_value(sent, attribute, value))
        refused(answer, 400, "400-152", path_of(attribute))
        assert await snapshot() == []

    async def test_duplicate_name(
        self, api: httpx.AsyncClient, snapshot: Snapshot, existing: Stored, application: str
    ) -> None:
        answer = await api.post(PATH, json=participant(application, name=existing.sent["name"]))
        refused(answer, 400, "400-138", existing.sent["name"])
        assert await snapshot() == [existing.read]

    async def test_same_name_in_another_tenant(
        self, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        app = await create(other_tenant, "/clientapplications", client_application())
        await create(other_tenant, PATH, participant(app, name=existing.sent["name"]))

    async def test_unknown_application(self, api: httpx.AsyncClient, snapshot: Snapshot) -> None:
        answer = await api.post(PATH, json=participant(MISSING_ID))
        refused(answer, 400, "400-194", "application.id")
        assert MISSING_ID in answer.json()["developerMessage"]
        assert await snapshot() == []

    async def test_application_id_naming_another_kind(
        self, api: httpx.AsyncClient, snapshot: Snapshot, existing: Stored
    ) -> None:
        answer = await api.post(PATH, json=participant(existing.id))
        refused(answer, 400, "400-194", "application.id")
        assert await snapshot() == [existing.read]

    async def test_application_of_another_tenant(
        self, other_tenant: httpx.AsyncClient, application: str
    ) -> None:
        answer = await other_tenant.post(PATH, json=participant(application))
        refused(answer, 400, "400-194", "application.id")
        assert (await other_tenant.get(PATH)).json()["paginationInfo"]["count"] == 0

    async def test_read_only_client_forbidden(
        self,
        make_client: ClientFactory,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        application: str,
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        refused(await reader.post(PATH, json=participant(application)), 403, "403-197")
        assert await snapshot() == []


class TestList:
    async def test_empty(self, api: httpx.AsyncClient) -> None:
        answer = await api.get(PATH)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "paginationInfo": {"count": 0, "pagenum": 1, "pagesize": 25},
            "participant": [],
        }

    async def test_pages_in_creation_order(self, api: httpx.AsyncClient, application: str) -> None:
        ids = [await create(api, PATH, participant(application)) for _ in range(3)]
        answer = await api.get(PATH, params={"$pagesize": "2", "$pagenum": "2"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["paginationInfo"] == {"count": 3, "pagenum": 2, "pagesize": 2}
        assert body["participant"] == [await read_participant(api, ids[2])]
        first = (await api.get(PATH, params={"$pagesize": "2"})).json()
        assert [item["id"] for item in first["participant"]] == ids[:2]

    @pytest.mark.usefixtures("existing")
    async def test_page_past_the_end(self, api: httpx.AsyncClient) -> None:
        answer = await api.get(PATH, params={"$pagenum": "2", "$pagesize": "1"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "paginationInfo": {"count": 1, "pagenum": 2, "pagesize": 1},
            "participant": [],
        }

    @pytest.mark.usefixtures("existing")
    async def test_other_tenant_sees_none(self, other_tenant: httpx.AsyncClient) -> None:
        body = (await other_tenant.get(PATH)).json()
        assert body == {
            "paginationInfo": {"count": 0, "pagenum": 1, "pagesize": 25},
            "participant": [],
        }

    async def test_bad_page_size(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(PATH, params={"$pagesize": "101"}), 400, "400-244", "$pagesize")

    async def test_unknown_query_parameter(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(PATH, params={"type": "custom_bot"}), 400, "400-101", "type")


class TestGet:
    async def test_read(self, api: httpx.AsyncClient, existing: Stored) -> None:
        read = await read_participant(api, existing.id)
        assert read == existing.read
        assert read["options"] == [{"name": "language", "value": "en-US"}]

    async def test_read_only_client_allowed(
        self, make_client: ClientFactory, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        assert await read_participant(reader, existing.id) == existing.read

    async def test_unknown_id(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(f"{PATH}/{MISSING_ID}"), 404, "404-101", MISSING_ID)

    async def test_id_of_wrong_length(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(f"{PATH}/{MISSING_ID[:-1]}"), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        refused(await other_tenant.get(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)

    async def test_id_of_another_kind_not_found(
        self, api: httpx.AsyncClient, application: str
    ) -> None:
        refused(await api.get(f"{PATH}/{application}"), 404, "404-101", application)

    async def test_anonymous_unauthorized(
        self, anonymous: httpx.AsyncClient, existing: Stored
    ) -> None:
        refused(await anonymous.get(f"{PATH}/{existing.id}"), 401, "401-104")


class TestReplace:
    async def test_replaced(self, api: httpx.AsyncClient, existing: Stored) -> None:
        other_app = await create(api, "/clientapplications", client_application())
        sent = participant(other_app, type="egain_bot", active=False)
        answer = await api.put(f"{PATH}/{existing.id}", json=sent)
        assert answer.status_code == 204, answer.text
        assert answer.content == b""
        read = await read_participant(api, existing.id)
        assert read["created"] == existing.read["created"]
        assert read.pop("modified") > existing.read["modified"]
        assert read == {"id": existing.id, **sent, "created": existing.read["created"]}

    async def test_reference_moves_with_the_replace(
        self, api: httpx.AsyncClient, existing: Stored, application: str
    ) -> None:
        other_app = await create(api, "/clientapplications", client_application())
        sent = with_value(existing.sent, "application.id", other_app)
        assert (await api.put(f"{PATH}/{existing.id}", json=sent)).status_code == 204
        refused(await api.delete(f"/clientapplications/{other_app}"), 400, "400-160", existing.id)
        assert (await api.delete(f"/clientapplications/{application}")).status_code == 204

    async def test_optional_attributes_dropped(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = without(without(without(existing.sent, "intents"), "options"), "active")
        assert (await api.put(f"{PATH}/{existing.id}", json=sent)).status_code == 204
        read = await read_participant(api, existing.id)
        assert "intents" not in read
        assert "options" not in read
        assert read["active"] is True

    async def test_stale_modified_refused(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = {**existing.sent, "description": "changed", "modified": STALE}
        answer = await api.put(f"{PATH}/{existing.id}", json=sent)
        refused(answer, 409, "409-100", existing.id)
        assert "participant" in answer.json()["developerMessage"]
        assert await read_participant(api, existing.id) == existing.read

    async def test_current_modified_accepted(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = {**existing.sent, "description": "changed", "modified": existing.read["modified"]}
        assert (await api.put(f"{PATH}/{existing.id}", json=sent)).status_code == 204
        read = await read_participant(api, existing.id)
        assert read["description"] == "changed"
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 409, "409-100", existing.id)

    async def test_modified_not_a_timestamp(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = {**existing.sent, "modified": "yesterday"}
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-152", "modified")
        assert await read_participant(api, existing.id) == existing.read

    async def test_invalid_body_changes_nothing(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = with_value(existing.sent, "type", "customer")
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-196", "type")
        assert await read_participant(api, existing.id) == existing.read

    async def test_missing_attribute(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = without(existing.sent, "application")
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-143", "application")
        assert await read_participant(api, existing.id) == existing.read

    async def test_unknown_application(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = with_value(existing.sent, "application.id", MISSING_ID)
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-194", "application.id")
        assert await read_participant(api, existing.id) == existing.read

    async def test_name_of_another_participant(
        self, api: httpx.AsyncClient, existing: Stored, application: str
    ) -> None:
        other = participant(application)
        await create(api, PATH, other)
        sent = {**existing.sent, "name": other["name"]}
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-138", other["name"])
        assert await read_participant(api, existing.id) == existing.read

    async def test_unknown_id(self, api: httpx.AsyncClient, application: str) -> None:
        answer = await api.put(f"{PATH}/{MISSING_ID}", json=participant(application))
        refused(answer, 404, "404-101", MISSING_ID)
        assert (await api.get(PATH)).json()["paginationInfo"]["count"] == 0

    async def test_id_of_wrong_length(self, api: httpx.AsyncClient, application: str) -> None:
        answer = await api.put(f"{PATH}/x", json=participant(application))
        refused(answer, 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, api: httpx.AsyncClient, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        app = await create(other_tenant, "/clientapplications", client_application())
        answer = await other_tenant.put(f"{PATH}/{existing.id}", json=participant(app))
        refused(answer, 404, "404-101", existing.id)
        assert await read_participant(api, existing.id) == existing.read


class TestDelete:
    async def test_deleted(self, api: httpx.AsyncClient, existing: Stored) -> None:
        answer = await api.delete(f"{PATH}/{existing.id}")
        assert answer.status_code == 204, answer.text
        assert answer.content == b""
        refused(await api.get(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)
        assert (await api.get(PATH)).json()["paginationInfo"]["count"] == 0

    async def test_in_use_by_an_orchestration(
        self, api: httpx.AsyncClient, existing: Stored, application: str
    ) -> None:
        apps = "/clientapplications"
        customer = await create(api, apps, client_application(role("customer")))
        agent = await create(api, apps, client_application(role("custom_agent")))
        body = orchestration(
            bot_app=application, bot_participant=existing.id, agent_app=agent, customer_app=customer
        )
        orchestration_id = await create(api, "/orchestrations", body)
        answer = await api.delete(f"{PATH}/{existing.id}")
        refused(answer, 400, "400-160", orchestration_id)
        assert "orchestration" in answer.json()["developerMessage"]
        assert await read_participant(api, existing.id) == existing.read
        assert (await api.delete(f"/orchestrations/{orchestration_id}")).status_code == 204
        assert (await api.delete(f"{PATH}/{existing.id}")).status_code == 204

    async def test_releases_its_application(
        self, api: httpx.AsyncClient, existing: Stored, application: str
    ) -> None:
        assert (await api.delete(f"{PATH}/{existing.id}")).status_code == 204
        assert (await api.delete(f"/clientapplications/{application}")).status_code == 204

    async def test_unknown_id(self, api: httpx.AsyncClient) -> None:
        refused(await api.delete(f"{PATH}/{MISSING_ID}"), 404, "404-101", MISSING_ID)

    async def test_id_of_wrong_length(self, api: httpx.AsyncClient) -> None:
        refused(await api.delete(f"{PATH}/{MISSING_ID}x"), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, api: httpx.AsyncClient, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        refused(await other_tenant.delete(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)
        assert await read_participant(api, existing.id) == existing.read

    async def test_read_only_client_forbidden(
        self, make_client: ClientFactory, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        refused(await reader.delete(f"{PATH}/{existing.id}"), 403, "403-197")
        assert await read_participant(api, existing.id) == existing.read
