"""/orchestrations: the five operations, "botConfiguration or agentConfiguration", the five
references, the role checks of DECISIONS §2 and tenant isolation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ClientFactory
from tests.factories import (
    account,
    channel,
    client_application,
    create,
    participant,
    role,
    unique,
    with_value,
    without,
)
from tests.orchestrations.conftest import (
    APPS,
    PATH,
    Parts,
    make_parts,
    read_orchestration,
)
from tests.resources import TIMESTAMP, Snapshot, Stored, refused

READ_ONLY = ["app.conversation.conversationmgr.read"]
STALE = "2021-06-11T23:14:41.836Z"
MISSING_ID = "a09dddd6-394b-4039-86bc-a5dd89ee5e8d"
BOT_CONFIG = "applications.botConfiguration"
BOT = "applications.botConfiguration.bots.0"
CUSTOMER = "applications.customerConfiguration.customer"
AGENT = "applications.agentConfiguration.agents.0"
EXAMPLES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "request-examples.json").read_text()
)["post_orchestration"]


def path_of(attribute: str) -> str:
    """``a.bots.0.id`` → ``a.bots[0].id``, as error messages name it."""
    return attribute.replace(".0", "[0]")


def from_example(name: str, parts: Parts) -> dict[str, Any]:
    body = {**EXAMPLES[name], "name": unique(EXAMPLES[name]["name"])}
    body = with_value(body, f"{CUSTOMER}.id", parts.customer_app)
    if name == "With Bot":
        body = with_value(body, f"{BOT}.id", parts.bot_app)
        body = with_value(body, f"{BOT}.participant.id", parts.bot_participant)
        return with_value(body, f"{BOT}.onEscalation.agent.id", parts.agent_app)
    return with_value(body, f"{AGENT}.id", parts.agent_app)


class TestCreate:
    async def test_created_and_read_back(self, api: httpx.AsyncClient, parts: Parts) -> None:
        sent = from_example("With Bot", parts)
        answer = await api.post(PATH, json=sent)
        assert answer.status_code == 201, answer.text
        assert list(answer.json()) == ["id"]
        orchestration_id = answer.json()["id"]
        assert len(orchestration_id) == 36
        read = await read_orchestration(api, orchestration_id)
        assert TIMESTAMP.fullmatch(read.pop("created"))
        assert TIMESTAMP.fullmatch(read.pop("modified"))
        assert read == {"id": orchestration_id, **sent}

    async def test_agent_only_gets_defaults(self, api: httpx.AsyncClient, parts: Parts) -> None:
        sent = from_example("Without Bot", parts)
        orchestration_id = await create(api, PATH, sent)
        read = await read_orchestration(api, orchestration_id)
        assert read["created"] == read["modified"]
        del read["created"], read["modified"]
        assert read == {"id": orchestration_id, **sent, "active": True}

    async def test_bot_defaults(self, api: httpx.AsyncClient, parts: Parts) -> None:
        sent = without(without(parts.with_bot(), f"{BOT_CONFIG}.forwardTranscript"), "active")
        sent = without(without(sent, "description"), "applications.customerConfiguration")
        read = await read_orchestration(api, await create(api, PATH, sent))
        assert read["active"] is True
        assert read["applications"] == {
            "botConfiguration": {
                "forwardTranscript": True,
                "bots": sent["applications"]["botConfiguration"]["bots"],
            }
        }

    async def test_bot_and_agent_configuration_together(
        self, api: httpx.AsyncClient, parts: Parts
    ) -> None:
        sent = with_value(
            parts.with_bot(),
            "applications.agentConfiguration",
            {"agents": [{"id": parts.agent_app}]},
        )
        sent = with_value(sent, f"{BOT_CONFIG}.forwardTranscript", False)
        read = await read_orchestration(api, await create(api, PATH, sent))
        assert read["applications"] == sent["applications"]

    @pytest.mark.parametrize("minutes", [1, 30, 2.5, 10080])
    async def test_bypass_va_duration(
        self, api: httpx.AsyncClient, parts: Parts, minutes: float
    ) -> None:
        sent = with_value(parts.with_bot(), f"{BOT_CONFIG}.bypassVaDuration", minutes)
        read = await read_orchestration(api, await create(api, PATH, sent))
        stored = read["applications"]["botConfiguration"]["bypassVaDuration"]
        assert stored == minutes
        assert type(stored) is type(minutes)

    async def test_name_without_length_limit(self, api: httpx.AsyncClient, parts: Parts) -> None:
        name = "o" * 1000
        read = await read_orchestration(api, await create(api, PATH, parts.with_bot(name=name)))
        assert read["name"] == name

    async def test_egain_agent_role_accepted(self, api: httpx.AsyncClient, parts: Parts) -> None:
        agent = await create(api, APPS, client_application(role("egain_agent")))
        sent = with_value(parts.with_bot(), f"{BOT}.onEscalation.agent.id", agent)
        sent = with_value(sent, "applications.agentConfiguration", {"agents": [{"id": agent}]})
        read = await read_orchestration(api, await create(api, PATH, sent))
        assert read["applications"]["agentConfiguration"] == {"agents": [{"id": agent}]}

    async def test_one_application_in_several_places(self, api: httpx.AsyncClient) -> None:
        roles = [role("customer"), role("custom_bot"), role("custom_agent")]
        app = await create(api, APPS, client_application(*roles))
        bot = await create(api, "/participants", participant(app))
        sent = Parts(app, app, app, bot).with_bot()
        read = await read_orchestration(api, await create(api, PATH, sent))
        assert read["applications"] == sent["applications"]

    async def test_bot_without_escalation_agent(self, api: httpx.AsyncClient, parts: Parts) -> None:
        sent = without(parts.with_bot(), f"{BOT}.onEscalation")
        read = await read_orchestration(api, await create(api, PATH, sent))
        assert "onEscalation" not in read["applications"]["botConfiguration"]["bots"][0]

    @pytest.mark.parametrize(
        "attribute",
        [
            "name",
            "applications",
            f"{BOT_CONFIG}.bots",
            f"{BOT}.id",
            f"{BOT}.participant",
            f"{BOT}.participant.id",
            f"{BOT}.onEscalation.agent",
            f"{BOT}.onEscalation.agent.id",
            CUSTOMER,
            f"{CUSTOMER}.id",
        ],
    )
    async def test_missing_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts, attribute: str
    ) -> None:
        answer = await api.post(PATH, json=without(parts.with_bot(), attribute))
        refused(answer, 400, "400-143", path_of(attribute))
        assert await snapshot() == []

    @pytest.mark.parametrize("attribute", ["applications.agentConfiguration.agents", f"{AGENT}.id"])
    async def test_missing_agent_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts, attribute: str
    ) -> None:
        answer = await api.post(PATH, json=without(parts.agent_only(), attribute))
        refused(answer, 400, "400-143", path_of(attribute))
        assert await snapshot() == []

    @pytest.mark.parametrize("applications", [{}, {"customerConfiguration": {}}])
    async def test_neither_bot_nor_agent_configuration(
        self,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        parts: Parts,
        applications: dict[str, Any],
    ) -> None:
        if "customerConfiguration" in applications:
            applications = {"customerConfiguration": {"customer": {"id": parts.customer_app}}}
        sent = parts.with_bot(applications=applications)
        refused(await api.post(PATH, json=sent), 400, "400-143", BOT_CONFIG)
        assert await snapshot() == []

    @pytest.mark.parametrize(
        "attribute",
        [
            "colour",
            "applications.colour",
            f"{BOT_CONFIG}.colour",
            f"{BOT}.colour",
            f"{BOT}.participant.name",
            f"{BOT}.onEscalation.queue",
            "applications.customerConfiguration.colour",
            f"{CUSTOMER}.name",
            "modified",
        ],
    )
    async def test_unknown_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts, attribute: str
    ) -> None:
        answer = await api.post(PATH, json=with_value(parts.with_bot(), attribute, "x"))
        refused(answer, 400, "400-420", path_of(attribute))
        assert await snapshot() == []

    async def test_unknown_agent_attribute(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        answer = await api.post(PATH, json=with_value(parts.agent_only(), f"{AGENT}.name", "x"))
        refused(answer, 400, "400-420", path_of(f"{AGENT}.name"))
        assert await snapshot() == []

    async def test_description_too_long(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        answer = await api.post(PATH, json=parts.with_bot(description="d" * 1024))
        refused(answer, 400, "400-358", "description")
        assert "1023" in answer.json()["developerMessage"]
        assert await snapshot() == []

    @pytest.mark.parametrize(
        "attribute",
        [
            f"{BOT}.id",
            f"{BOT}.participant.id",
            f"{BOT}.onEscalation.agent.id",
            f"{CUSTOMER}.id",
        ],
    )
    @pytest.mark.parametrize("value", ["abc", MISSING_ID + "0"])
    async def test_id_of_wrong_length(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts, attribute: str, value: str
    ) -> None:
        answer = await api.post(PATH, json=with_value(parts.with_bot(), attribute, value))
        refused(answer, 400, "400-414", path_of(attribute))
        assert await snapshot() == []

    async def test_agent_id_of_wrong_length(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        answer = await api.post(PATH, json=with_value(parts.agent_only(), f"{AGENT}.id", "abc"))
        refused(answer, 400, "400-414", path_of(f"{AGENT}.id"))
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("attribute", "value"),
        [
            ("name", ""),
            ("name", 5),
            ("name", None),
            ("description", ""),
            ("active", "true"),
            ("applications", "bot"),
            (BOT_CONFIG, []),
            (f"{BOT_CONFIG}.forwardTranscript", "yes"),
            (f"{BOT_CONFIG}.bypassVaDuration", 0),
            (f"{BOT_CONFIG}.bypassVaDuration", 0.5),
            (f"{BOT_CONFIG}.bypassVaDuration", 10081),
            (f"{BOT_CONFIG}.bypassVaDuration", "30"),
            (f"{BOT_CONFIG}.bypassVaDuration", True),
            (f"{BOT_CONFIG}.bots", []),
            (f"{BOT_CONFIG}.bots", {"id": MISSING_ID}),
            (f"{BOT}.participant", MISSING_ID),
            (f"{BOT}.id", 36),
            (CUSTOMER, None),
        ],
    )
    async def test_invalid_value(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts, attribute: str, value: Any
    ) -> None:
        answer = await api.post(PATH, json=with_value(parts.with_bot(), attribute, value))
        refused(answer, 400, "400-152", path_of(attribute))
        assert await snapshot() == []

    async def test_two_bots(self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts) -> None:
        sent = parts.with_bot()
        bots = sent["applications"]["botConfiguration"]["bots"]
        sent = with_value(sent, f"{BOT_CONFIG}.bots", bots * 2)
        refused(await api.post(PATH, json=sent), 400, "400-152", f"{BOT_CONFIG}.bots")
        assert await snapshot() == []

    @pytest.mark.parametrize("agents", [[], "agent"])
    async def test_invalid_agents(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts, agents: Any
    ) -> None:
        attribute = "applications.agentConfiguration.agents"
        answer = await api.post(PATH, json=with_value(parts.agent_only(), attribute, agents))
        refused(answer, 400, "400-152", attribute)
        assert await snapshot() == []

    async def test_two_agents(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        attribute = "applications.agentConfiguration.agents"
        agents = [{"id": parts.agent_app}, {"id": parts.agent_app}]
        answer = await api.post(PATH, json=with_value(parts.agent_only(), attribute, agents))
        refused(answer, 400, "400-152", attribute)
        assert await snapshot() == []

    async def test_duplicate_name(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts, existing: Stored
    ) -> None:
        answer = await api.post(PATH, json=parts.agent_only(name=existing.sent["name"]))
        refused(answer, 400, "400-138", existing.sent["name"])
        assert await snapshot() == [existing.read]

    async def test_same_name_in_another_tenant(
        self, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        theirs = await make_parts(other_tenant)
        await create(other_tenant, PATH, theirs.agent_only(name=existing.sent["name"]))

    @pytest.mark.parametrize(
        "attribute",
        [f"{BOT}.id", f"{BOT}.participant.id", f"{BOT}.onEscalation.agent.id", f"{CUSTOMER}.id"],
    )
    async def test_unknown_reference(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts, attribute: str
    ) -> None:
        answer = await api.post(PATH, json=with_value(parts.with_bot(), attribute, MISSING_ID))
        refused(answer, 400, "400-194", path_of(attribute))
        assert MISSING_ID in answer.json()["developerMessage"]
        assert await snapshot() == []

    async def test_unknown_agent(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        answer = await api.post(
            PATH, json=with_value(parts.agent_only(), f"{AGENT}.id", MISSING_ID)
        )
        refused(answer, 400, "400-194", path_of(f"{AGENT}.id"))
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("attribute", "other_kind"),
        [(f"{BOT}.id", "bot_participant"), (f"{BOT}.participant.id", "bot_app")],
    )
    async def test_reference_of_another_kind(
        self,
        api: httpx.AsyncClient,
        snapshot: Snapshot,
        parts: Parts,
        attribute: str,
        other_kind: str,
    ) -> None:
        sent = with_value(parts.with_bot(), attribute, getattr(parts, other_kind))
        refused(await api.post(PATH, json=sent), 400, "400-194", path_of(attribute))
        assert await snapshot() == []

    @pytest.mark.parametrize(
        ("attribute", "part"),
        [
            (f"{BOT}.id", "bot_app"),
            (f"{BOT}.participant.id", "bot_participant"),
            (f"{BOT}.onEscalation.agent.id", "agent_app"),
            (f"{CUSTOMER}.id", "customer_app"),
        ],
    )
    async def test_reference_to_another_tenant(
        self,
        api: httpx.AsyncClient,
        other_tenant: httpx.AsyncClient,
        parts: Parts,
        attribute: str,
        part: str,
    ) -> None:
        theirs = await make_parts(other_tenant)
        sent = with_value(theirs.with_bot(), attribute, getattr(parts, part))
        refused(await other_tenant.post(PATH, json=sent), 400, "400-194", path_of(attribute))
        assert (await other_tenant.get(PATH)).json()["paginationInfo"]["count"] == 0
        assert (await api.get(PATH)).json()["paginationInfo"]["count"] == 0

    async def test_bot_app_without_custom_bot_role(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        egain_bot = await create(api, APPS, client_application(role("egain_bot")))
        bot = await create(api, "/participants", participant(egain_bot))
        sent = with_value(parts.with_bot(), f"{BOT}.id", egain_bot)
        sent = with_value(sent, f"{BOT}.participant.id", bot)
        answer = await api.post(PATH, json=sent)
        refused(answer, 400, "400-152", path_of(f"{BOT}.id"))
        assert "custom_bot" in answer.json()["details"][0]["value"]
        assert await snapshot() == []

    async def test_customer_app_without_customer_role(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        sent = with_value(parts.with_bot(), f"{CUSTOMER}.id", parts.agent_app)
        refused(await api.post(PATH, json=sent), 400, "400-152", path_of(f"{CUSTOMER}.id"))
        assert await snapshot() == []

    async def test_escalation_app_without_agent_role(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        attribute = f"{BOT}.onEscalation.agent.id"
        sent = with_value(parts.with_bot(), attribute, parts.customer_app)
        refused(await api.post(PATH, json=sent), 400, "400-152", path_of(attribute))
        assert await snapshot() == []

    async def test_agent_app_without_agent_role(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        sent = with_value(parts.agent_only(), f"{AGENT}.id", parts.bot_app)
        refused(await api.post(PATH, json=sent), 400, "400-152", path_of(f"{AGENT}.id"))
        assert await snapshot() == []

    async def test_business_notification_is_no_agent_role(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        notifier = await create(api, APPS, client_application(role("business_notification")))
        sent = with_value(parts.agent_only(), f"{AGENT}.id", notifier)
        refused(await api.post(PATH, json=sent), 400, "400-152", path_of(f"{AGENT}.id"))
        assert await snapshot() == []

    async def test_participant_of_another_application(
        self, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        other_bot_app = await create(api, APPS, client_application(role("custom_bot")))
        stray = await create(api, "/participants", participant(other_bot_app))
        attribute = f"{BOT}.participant.id"
        answer = await api.post(PATH, json=with_value(parts.with_bot(), attribute, stray))
        refused(answer, 400, "400-152", path_of(attribute))
        assert parts.bot_app in answer.json()["details"][0]["value"]
        assert await snapshot() == []

    async def test_read_only_client_forbidden(
        self, make_client: ClientFactory, api: httpx.AsyncClient, snapshot: Snapshot, parts: Parts
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        refused(await reader.post(PATH, json=parts.with_bot()), 403, "403-197")
        assert await snapshot() == []


class TestList:
    async def test_empty(self, api: httpx.AsyncClient) -> None:
        answer = await api.get(PATH)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "paginationInfo": {"count": 0, "pagenum": 1, "pagesize": 25},
            "orchestration": [],
        }

    async def test_pages_in_creation_order(self, api: httpx.AsyncClient, parts: Parts) -> None:
        ids = [await create(api, PATH, parts.agent_only()) for _ in range(3)]
        answer = await api.get(PATH, params={"$pagesize": "2"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["paginationInfo"] == {"count": 3, "pagenum": 1, "pagesize": 2}
        assert body["orchestration"] == [await read_orchestration(api, i) for i in ids[:2]]
        second = (await api.get(PATH, params={"$pagesize": "2", "$pagenum": "2"})).json()
        assert [item["id"] for item in second["orchestration"]] == ids[2:]

    @pytest.mark.usefixtures("existing")
    async def test_page_past_the_end(self, api: httpx.AsyncClient) -> None:
        body = (await api.get(PATH, params={"$pagenum": "2"})).json()
        assert body == {
            "paginationInfo": {"count": 1, "pagenum": 2, "pagesize": 25},
            "orchestration": [],
        }

    @pytest.mark.usefixtures("existing")
    async def test_other_tenant_sees_none(self, other_tenant: httpx.AsyncClient) -> None:
        body = (await other_tenant.get(PATH)).json()
        assert body["paginationInfo"]["count"] == 0
        assert body["orchestration"] == []

    async def test_bad_page_number(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(PATH, params={"$pagenum": "0"}), 400, "400-244", "$pagenum")

    async def test_unknown_query_parameter(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(PATH, params={"$filter": "x"}), 400, "400-101", "$filter")


class TestGet:
    async def test_read(self, api: httpx.AsyncClient, existing: Stored) -> None:
        assert await read_orchestration(api, existing.id) == existing.read

    async def test_read_only_client_allowed(
        self, make_client: ClientFactory, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        assert await read_orchestration(reader, existing.id) == existing.read

    async def test_unknown_id(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(f"{PATH}/{MISSING_ID}"), 404, "404-101", MISSING_ID)

    async def test_id_of_wrong_length(self, api: httpx.AsyncClient) -> None:
        refused(await api.get(f"{PATH}/123"), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        refused(await other_tenant.get(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)

    async def test_id_of_another_kind_not_found(self, api: httpx.AsyncClient, parts: Parts) -> None:
        refused(await api.get(f"{PATH}/{parts.bot_app}"), 404, "404-101", parts.bot_app)


class TestReplace:
    async def test_replaced(self, api: httpx.AsyncClient, existing: Stored, parts: Parts) -> None:
        sent = parts.agent_only(name=unique("renamed"), description="agents only", active=False)
        answer = await api.put(f"{PATH}/{existing.id}", json=sent)
        assert answer.status_code == 204, answer.text
        assert answer.content == b""
        read = await read_orchestration(api, existing.id)
        assert read["created"] == existing.read["created"]
        assert read.pop("modified") > existing.read["modified"]
        assert read == {"id": existing.id, **sent, "created": existing.read["created"]}

    async def test_references_released_by_replace(
        self, api: httpx.AsyncClient, existing: Stored, parts: Parts
    ) -> None:
        assert (await api.put(f"{PATH}/{existing.id}", json=parts.agent_only())).status_code == 204
        assert (await api.delete(f"/participants/{parts.bot_participant}")).status_code == 204
        assert (await api.delete(f"{APPS}/{parts.bot_app}")).status_code == 204
        answer = await api.delete(f"{APPS}/{parts.agent_app}")
        refused(answer, 400, "400-160", existing.id)

    async def test_stale_modified_refused(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = {**existing.sent, "description": "changed", "modified": STALE}
        answer = await api.put(f"{PATH}/{existing.id}", json=sent)
        refused(answer, 409, "409-100", existing.id)
        assert "orchestration" in answer.json()["developerMessage"]
        assert await read_orchestration(api, existing.id) == existing.read

    async def test_current_modified_accepted(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = {**existing.sent, "description": "changed", "modified": existing.read["modified"]}
        assert (await api.put(f"{PATH}/{existing.id}", json=sent)).status_code == 204
        assert (await read_orchestration(api, existing.id))["description"] == "changed"
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 409, "409-100", existing.id)

    async def test_neither_bot_nor_agent_configuration(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = without(existing.sent, BOT_CONFIG)
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-143", BOT_CONFIG)
        assert await read_orchestration(api, existing.id) == existing.read

    async def test_empty_name(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = {**existing.sent, "name": ""}
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-152", "name")
        assert await read_orchestration(api, existing.id) == existing.read

    async def test_unknown_reference(self, api: httpx.AsyncClient, existing: Stored) -> None:
        attribute = f"{BOT}.onEscalation.agent.id"
        sent = with_value(existing.sent, attribute, MISSING_ID)
        answer = await api.put(f"{PATH}/{existing.id}", json=sent)
        refused(answer, 400, "400-194", path_of(attribute))
        assert await read_orchestration(api, existing.id) == existing.read

    async def test_role_check(self, api: httpx.AsyncClient, existing: Stored, parts: Parts) -> None:
        sent = with_value(existing.sent, f"{BOT}.id", parts.customer_app)
        answer = await api.put(f"{PATH}/{existing.id}", json=sent)
        refused(answer, 400, "400-152", path_of(f"{BOT}.id"))
        assert await read_orchestration(api, existing.id) == existing.read

    async def test_name_of_another_orchestration(
        self, api: httpx.AsyncClient, existing: Stored, parts: Parts
    ) -> None:
        other = parts.agent_only()
        await create(api, PATH, other)
        sent = {**existing.sent, "name": other["name"]}
        refused(await api.put(f"{PATH}/{existing.id}", json=sent), 400, "400-138", other["name"])
        assert await read_orchestration(api, existing.id) == existing.read

    async def test_unknown_id(self, api: httpx.AsyncClient, parts: Parts) -> None:
        answer = await api.put(f"{PATH}/{MISSING_ID}", json=parts.agent_only())
        refused(answer, 404, "404-101", MISSING_ID)
        assert (await api.get(PATH)).json()["paginationInfo"]["count"] == 0

    async def test_id_of_wrong_length(self, api: httpx.AsyncClient, parts: Parts) -> None:
        refused(await api.put(f"{PATH}/abc", json=parts.agent_only()), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, api: httpx.AsyncClient, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        theirs = await make_parts(other_tenant)
        answer = await other_tenant.put(f"{PATH}/{existing.id}", json=theirs.agent_only())
        refused(answer, 404, "404-101", existing.id)
        assert await read_orchestration(api, existing.id) == existing.read


class TestDelete:
    async def test_deleted(self, api: httpx.AsyncClient, existing: Stored) -> None:
        answer = await api.delete(f"{PATH}/{existing.id}")
        assert answer.status_code == 204, answer.text
        assert answer.content == b""
        refused(await api.get(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)
        assert (await api.get(PATH)).json()["paginationInfo"]["count"] == 0

    async def test_releases_what_it_names(
        self, api: httpx.AsyncClient, existing: Stored, parts: Parts
    ) -> None:
        assert (await api.delete(f"{PATH}/{existing.id}")).status_code == 204
        assert (await api.delete(f"/participants/{parts.bot_participant}")).status_code == 204
        for app in (parts.bot_app, parts.agent_app, parts.customer_app):
            assert (await api.delete(f"{APPS}/{app}")).status_code == 204

    async def test_in_use_by_an_account(self, api: httpx.AsyncClient, existing: Stored) -> None:
        channel_id = await create(api, "/channels", channel())
        body = account(channel_id=channel_id, orchestration_id=existing.id)
        account_id = await create(api, "/accounts", body)
        answer = await api.delete(f"{PATH}/{existing.id}")
        refused(answer, 400, "400-160", account_id)
        assert "account" in answer.json()["developerMessage"]
        assert await read_orchestration(api, existing.id) == existing.read

    async def test_unknown_id(self, api: httpx.AsyncClient) -> None:
        refused(await api.delete(f"{PATH}/{MISSING_ID}"), 404, "404-101", MISSING_ID)

    async def test_id_of_wrong_length(self, api: httpx.AsyncClient) -> None:
        refused(await api.delete(f"{PATH}/{MISSING_ID[1:]}"), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, api: httpx.AsyncClient, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        refused(await other_tenant.delete(f"{PATH}/{existing.id}"), 404, "404-101", existing.id)
        assert await read_orchestration(api, existing.id) == existing.read

    async def test_read_only_client_forbidden(
        self, make_client: ClientFactory, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        refused(await reader.delete(f"{PATH}/{existing.id}"), 403, "403-197")
        assert await read_orchestration(api, existing.id) == existing.read
