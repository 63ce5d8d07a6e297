"""/accounts: the five operations and their rules (DECISIONS §2 to §4)."""

from __future__ import annotations

import pytest

from tests.factories import account, create, create_chain, with_value, without


@pytest.fixture
async def chain(api):
    return await create_chain(api)


@pytest.fixture
def body(chain):
    return account(channel_id=chain.channel, orchestration_id=chain.orchestration)


class TestCreate:
    async def test_created_and_read_back(self, api, body):
        new_id = await create(api, "/accounts", body)
        got = (await api.get(f"/accounts/{new_id}")).json()
        assert got["id"] == new_id
        assert len(new_id) == 36
        assert {k: got[k] for k in body} == body
        assert got["active"] is True
        assert got["created"] == got["modified"]
        assert got["created"][-1] == "Z"
        assert got["created"][19] == "."

    async def test_defaults_are_filled_in(self, api, body):
        minimal = with_value(
            body,
            "chatConfigurations",
            {
                "orchestration": body["chatConfigurations"]["orchestration"],
                "entryPoint": {"id": "7"},
            },
        )
        new_id = await create(api, "/accounts", minimal)
        got = (await api.get(f"/accounts/{new_id}")).json()["chatConfigurations"]
        assert got == {
            "timeout": 240,
            "defaultLanguage": "en-US",
            "onAgentUnavailability": "off_hours",
            "allowLogoutWithOpenChats": False,
            "allowQueueTransferOnAgentUnavailability": False,
            "orchestration": body["chatConfigurations"]["orchestration"],
            "entryPoint": {"id": "7"},
        }

    async def test_optional_parts_round_trip(self, api, body):
        full = {
            **body,
            "description": "orders",
            "caseManagement": {"sameCaseDuration": 60, "copyCustomAttributes": True},
            "attributes": [{"name": "accountSid", "value": "AC123"}],
        }
        full = with_value(full, "chatConfigurations.timeout", 30.5)
        new_id = await create(api, "/accounts", full)
        got = (await api.get(f"/accounts/{new_id}")).json()
        assert got["caseManagement"] == {"sameCaseDuration": 60, "copyCustomAttributes": True}
        assert got["attributes"] == [{"name": "accountSid", "value": "AC123"}]
        assert got["chatConfigurations"]["timeout"] == 30.5

    @pytest.mark.parametrize(
        "attribute",
        [
            "name",
            "address",
            "channel",
            "chatConfigurations",
            "chatConfigurations.entryPoint",
            "chatConfigurations.orchestration",
            "chatConfigurations.entryPoint.id",
            "channel.id",
        ],
    )
    async def test_missing_attribute(self, api, body, attribute):
        answer = await api.post("/accounts", json=without(body, attribute))
        assert answer.status_code == 400
        assert answer.json() == {
            "code": "400-143",
            "developerMessage": f"Required attribute is missing in the request body: {attribute}",
        }

    @pytest.mark.parametrize(
        ("attribute", "value", "code"),
        [
            ("name", "n" * 256, "400-358"),
            ("description", "d" * 1024, "400-358"),
            ("address", "a" * 256, "400-358"),
            ("chatConfigurations.entryPoint.id", "e" * 256, "400-358"),
            ("chatConfigurations.onAgentUnavailability", "wait", "400-196"),
            ("channel.id", "short", "400-414"),
            ("chatConfigurations.orchestration.id", "x" * 37, "400-414"),
            ("chatConfigurations.timeout", 2, "400-152"),
            ("chatConfigurations.timeout", 10081, "400-152"),
            ("chatConfigurations.timeout", "30", "400-152"),
            ("active", "true", "400-152"),
            ("name", "", "400-152"),
            ("attributes", [], "400-152"),
            ("attributes", [{"name": "k", "value": "v"}] * 11, "400-152"),
            ("caseManagement", {"sameCaseDuration": 0}, "400-152"),
            ("chatConfigurations.allowLogoutWithOpenChats", 1, "400-152"),
            ("extra", 1, "400-420"),
            ("chatConfigurations.entryPoint.name", "x", "400-420"),
        ],
    )
    async def test_invalid_attribute(self, api, body, attribute, value, code):
        answer = await api.post("/accounts", json=with_value(body, attribute, value))
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == code
        assert attribute in answer.json()["developerMessage"]
        assert (await api.get("/accounts")).json()["paginationInfo"]["count"] == 1  # the chain's

    async def test_enum_error_lists_the_allowed_values(self, api, body):
        answer = await api.post(
            "/accounts", json=with_value(body, "chatConfigurations.onAgentUnavailability", "x")
        )
        assert "off_hours" in answer.json()["developerMessage"]
        assert "retain_and_retry" in answer.json()["developerMessage"]

    @pytest.mark.parametrize("attribute", ["channel.id", "chatConfigurations.orchestration.id"])
    async def test_unknown_reference(self, api, body, attribute):
        missing_id = "00000000-0000-0000-0000-000000000000"
        answer = await api.post("/accounts", json=with_value(body, attribute, missing_id))
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-194"
        assert attribute in answer.json()["developerMessage"]

    async def test_reference_of_the_wrong_kind(self, api, body, chain):
        answer = await api.post(
            "/accounts", json=with_value(body, "channel.id", chain.orchestration)
        )
        assert answer.json()["code"] == "400-194"

    async def test_duplicate_name(self, api, body):
        await create(api, "/accounts", body)
        answer = await api.post("/accounts", json={**body, "address": "another"})
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-138"

    async def test_duplicate_active_address_on_the_same_channel(self, api, body):
        await create(api, "/accounts", body)
        answer = await api.post("/accounts", json={**body, "name": "second"})
        assert answer.json()["code"] == "400-138"
        assert body["address"] in answer.json()["developerMessage"]

    async def test_inactive_account_may_share_an_address(self, api, body):
        await create(api, "/accounts", body)
        assert await create(api, "/accounts", {**body, "name": "standby", "active": False})


class TestList:
    async def test_lists_with_pagination(self, api, chain, body):
        second = await create(api, "/accounts", body)
        listed = (await api.get("/accounts", params={"$pagesize": 1, "$pagenum": 2})).json()
        assert listed["paginationInfo"] == {"count": 2, "pagenum": 2, "pagesize": 1}
        assert [a["id"] for a in listed["account"]] == [second]
        first = (await api.get("/accounts", params={"$pagesize": 1})).json()["account"]
        assert [a["id"] for a in first] == [chain.account]


class TestGet:
    async def test_unknown(self, api):
        answer = await api.get("/accounts/7b6c5fff-036e-4a40-b68a-a67c592fc079")
        assert answer.status_code == 404
        assert answer.json()["code"] == "404-101"


class TestReplace:
    async def test_replace_everything(self, api, body):
        new_id = await create(api, "/accounts", body)
        changed = with_value(body, "chatConfigurations.onAgentUnavailability", "retain_and_retry")
        changed["description"] = "now with a description"
        assert (await api.put(f"/accounts/{new_id}", json=changed)).status_code == 204
        got = (await api.get(f"/accounts/{new_id}")).json()
        assert got["chatConfigurations"]["onAgentUnavailability"] == "retain_and_retry"
        assert got["description"] == "now with a description"
        assert got["modified"] > got["created"]

    async def test_replace_drops_what_is_not_sent(self, api, body):
        new_id = await create(api, "/accounts", {**body, "description": "x"})
        assert (await api.put(f"/accounts/{new_id}", json=body)).status_code == 204
        assert "description" not in (await api.get(f"/accounts/{new_id}")).json()

    async def test_stale_modified(self, api, body):
        new_id = await create(api, "/accounts", body)
        answer = await api.put(
            f"/accounts/{new_id}",
            json={**body, "name": "x", "modified": "2021-03-28T14:29:01.516Z"},
        )
        assert answer.status_code == 409
        assert answer.json() == {
            "code": "409-100",
            "developerMessage": "Last modified date provided in the request body for the "
            f"following account do not match: {new_id}",
        }
        assert (await api.get(f"/accounts/{new_id}")).json()["name"] == body["name"]

    async def test_current_modified_then_stale(self, api, body):
        new_id = await create(api, "/accounts", body)
        modified = (await api.get(f"/accounts/{new_id}")).json()["modified"]
        assert (
            await api.put(f"/accounts/{new_id}", json={**body, "modified": modified})
        ).status_code == 204
        again = await api.put(f"/accounts/{new_id}", json={**body, "modified": modified})
        assert again.status_code == 409

    async def test_modified_with_an_offset_is_the_same_instant(self, api, body):
        new_id = await create(api, "/accounts", body)
        modified = (await api.get(f"/accounts/{new_id}")).json()["modified"]
        assert (
            await api.put(
                f"/accounts/{new_id}", json={**body, "modified": modified.replace("Z", "+00:00")}
            )
        ).status_code == 204

    async def test_bad_modified(self, api, body):
        new_id = await create(api, "/accounts", body)
        answer = await api.put(f"/accounts/{new_id}", json={**body, "modified": "yesterday"})
        assert answer.json()["code"] == "400-152"

    async def test_keeping_its_own_name_and_address(self, api, chain):
        got = (await api.get(f"/accounts/{chain.account}")).json()
        body = {k: v for k, v in got.items() if k not in {"id", "created"}}
        assert (await api.put(f"/accounts/{chain.account}", json=body)).status_code == 204

    async def test_name_of_another_account(self, api, chain, body):
        new_id = await create(api, "/accounts", body)
        taken = (await api.get(f"/accounts/{chain.account}")).json()["name"]
        answer = await api.put(f"/accounts/{new_id}", json={**body, "name": taken})
        assert answer.json()["code"] == "400-138"

    async def test_unknown_reference_changes_nothing(self, api, body):
        new_id = await create(api, "/accounts", body)
        before = (await api.get(f"/accounts/{new_id}")).json()
        answer = await api.put(
            f"/accounts/{new_id}",
            json=with_value(body, "channel.id", "00000000-0000-0000-0000-000000000000"),
        )
        assert answer.json()["code"] == "400-194"
        assert (await api.get(f"/accounts/{new_id}")).json() == before


class TestDelete:
    async def test_delete(self, api, chain):
        assert (await api.delete(f"/accounts/{chain.account}")).status_code == 204
        assert (await api.get(f"/accounts/{chain.account}")).json()["code"] == "404-101"

    async def test_deleting_frees_the_channel_and_orchestration(self, api, chain):
        assert (await api.delete(f"/channels/{chain.channel}")).json()["code"] == "400-160"
        assert (await api.delete(f"/orchestrations/{chain.orchestration}")).json()[
            "code"
        ] == "400-160"
        await api.delete(f"/accounts/{chain.account}")
        assert (await api.delete(f"/channels/{chain.channel}")).status_code == 204
        assert (await api.delete(f"/orchestrations/{chain.orchestration}")).status_code == 204
