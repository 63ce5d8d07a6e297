"""Rules the shared configuration machinery applies to every resource."""

from __future__ import annotations

import secrets

import pytest

from tests.factories import (
    client_application,
    create,
    create_chain,
    orchestration,
    participant,
    role,
    with_value,
)


@pytest.fixture
async def chain(api):
    return await create_chain(api)


class TestReplaceRechecksReferrers:
    async def test_bot_application_cannot_drop_the_role_an_orchestration_needs(self, api, chain):
        before = (await api.get(f"/clientapplications/{chain.bot_app}")).json()
        answer = await api.put(
            f"/clientapplications/{chain.bot_app}",
            json=client_application(role("custom_agent"), name=before["name"]),
        )
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-152"
        assert chain.orchestration in answer.json()["developerMessage"]
        assert (await api.get(f"/clientapplications/{chain.bot_app}")).json() == before

    async def test_participant_cannot_move_to_another_application(self, api, chain):
        other_bot = await create(api, "/clientapplications", client_application(role("custom_bot")))
        before = (await api.get(f"/participants/{chain.participant}")).json()
        answer = await api.put(
            f"/participants/{chain.participant}",
            json=participant(other_bot, name=before["name"]),
        )
        assert answer.json()["code"] == "400-152"
        assert (await api.get(f"/participants/{chain.participant}")).json() == before

    async def test_changes_that_keep_referrers_valid_are_accepted(self, api, chain):
        before = (await api.get(f"/clientapplications/{chain.agent_app}")).json()
        body = client_application(role("egain_agent"), name=before["name"])
        assert (
            await api.put(f"/clientapplications/{chain.agent_app}", json=body)
        ).status_code == 204


class TestNames:
    async def test_a_very_long_name_is_stored_and_still_unique(self, api, chain):
        name = secrets.token_hex(2500)  # 5,000 characters that do not compress
        body = orchestration(
            bot_app=chain.bot_app,
            bot_participant=chain.participant,
            agent_app=chain.agent_app,
            customer_app=chain.customer_app,
            name=name,
        )
        new_id = await create(api, "/orchestrations", body)
        assert (await api.get(f"/orchestrations/{new_id}")).json()["name"] == name
        again = await api.post("/orchestrations", json=body)
        assert again.json()["code"] == "400-138"


class TestValues:
    @pytest.mark.parametrize(
        "attribute", ["description", "roles.0.headers", "roles.0.authentication"]
    )
    async def test_null_is_not_a_value(self, api, attribute):
        answer = await api.post(
            "/clientapplications", json=with_value(client_application(), attribute, None)
        )
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-152"
        assert attribute.replace(".0.", "[0].") in answer.json()["developerMessage"]

    async def test_enum_of_the_wrong_type_is_an_invalid_value(self, api):
        answer = await api.post(
            "/clientapplications", json=with_value(client_application(), "roles.0.name", 1)
        )
        assert answer.json()["code"] == "400-152"

    async def test_messages_stay_within_the_contracts_limit(self, api):
        answer = await api.get("/accounts", params={"x" * 400: "1"})
        assert answer.json()["code"] == "400-101"
        assert len(answer.json()["developerMessage"]) <= 255
