"""Another tenant's ids answer exactly like ids that do not exist, everywhere (DECISIONS §1)."""

from __future__ import annotations

import pytest

from tests.factories import account, create_chain, orchestration, participant

PATHS = {
    "authentication": "/authentications",
    "customer_app": "/clientapplications",
    "bot_app": "/clientapplications",
    "agent_app": "/clientapplications",
    "participant": "/participants",
    "channel": "/channels",
    "orchestration": "/orchestrations",
    "account": "/accounts",
}
LIST_KEYS = {
    "/authentications": "authentication",
    "/clientapplications": "clientApplication",
    "/participants": "participant",
    "/channels": "channel",
    "/orchestrations": "orchestration",
    "/accounts": "account",
}


@pytest.fixture
async def chain(api):
    return await create_chain(api)


@pytest.mark.parametrize("field", list(PATHS))
class TestAnotherTenantsObject:
    async def test_get_is_not_found(self, chain, other_tenant, field):
        object_id = getattr(chain, field)
        answer = await other_tenant.get(f"{PATHS[field]}/{object_id}")
        assert answer.status_code == 404
        assert answer.json() == {
            "code": "404-101",
            "developerMessage": f"The following id does not exist: {object_id}",
        }

    async def test_replace_is_not_found_and_changes_nothing(self, api, chain, other_tenant, field):
        object_id = getattr(chain, field)
        path = f"{PATHS[field]}/{object_id}"
        before = (await api.get(path)).json()
        body = {k: v for k, v in before.items() if k not in {"id", "created", "modified"}}
        answer = await other_tenant.put(path, json=body)
        assert answer.status_code in {400, 404}  # its references are unknown there too
        assert answer.json()["code"] in {"404-101", "400-194", "400-152"}
        assert (await api.get(path)).json() == before

    async def test_delete_is_not_found_and_deletes_nothing(self, api, chain, other_tenant, field):
        object_id = getattr(chain, field)
        path = f"{PATHS[field]}/{object_id}"
        answer = await other_tenant.delete(path)
        assert answer.status_code == 404
        assert answer.json()["code"] == "404-101"
        assert (await api.get(path)).status_code == 200

    @pytest.mark.usefixtures("chain")
    async def test_never_listed(self, other_tenant, field):
        path = PATHS[field]
        listed = (await other_tenant.get(path, params={"$pagesize": 100})).json()
        assert listed["paginationInfo"]["count"] == 0
        assert listed[LIST_KEYS[path]] == []


class TestReferencesAcrossTenants:
    async def test_account_cannot_use_another_tenants_channel_and_orchestration(
        self, chain, other_tenant
    ):
        answer = await other_tenant.post(
            "/accounts",
            json=account(channel_id=chain.channel, orchestration_id=chain.orchestration),
        )
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-194"
        assert "channel.id" in answer.json()["developerMessage"]

    async def test_participant_cannot_use_another_tenants_application(self, chain, other_tenant):
        answer = await other_tenant.post("/participants", json=participant(chain.bot_app))
        assert answer.json()["code"] == "400-194"

    async def test_orchestration_cannot_use_another_tenants_applications(self, chain, other_tenant):
        body = orchestration(
            bot_app=chain.bot_app,
            bot_participant=chain.participant,
            agent_app=chain.agent_app,
            customer_app=chain.customer_app,
        )
        answer = await other_tenant.post("/orchestrations", json=body)
        assert answer.json()["code"] == "400-194"

    async def test_the_same_names_live_side_by_side(self, api, other_tenant):
        mine = await create_chain(api)
        theirs = await create_chain(other_tenant)
        assert mine.account != theirs.account
