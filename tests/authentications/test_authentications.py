"""/authentications: the five operations, the oneOf on `type`, and secrets (DECISIONS §5)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from convhub.models import ConfigObject
from tests.conftest import API_BASE
from tests.factories import (
    basic_authentication,
    client_application,
    create,
    oauth2_authentication,
    role,
    with_value,
    without,
)
from tests.server import running_server

MASK = "********"


class TestCreate:
    async def test_basic_created_and_read_back_masked(self, api):
        body = basic_authentication(description="bot callbacks")
        new_id = await create(api, "/authentications", body)
        got = (await api.get(f"/authentications/{new_id}")).json()
        assert got["id"] == new_id
        assert got["name"] == body["name"]
        assert got["type"] == "basic"
        assert got["active"] is True
        assert got["description"] == "bot callbacks"
        assert got["basicAuth"] == {"username": "assistant-1", "password": MASK}
        assert got["created"].endswith("Z")
        assert len(got["created"]) == 24

    async def test_oauth2_created_with_payload_masked(self, api):
        body = oauth2_authentication()
        new_id = await create(api, "/authentications", body)
        got = (await api.get(f"/authentications/{new_id}")).json()
        assert got["oauth2"]["payload"] == MASK
        assert got["oauth2"]["headers"] == body["oauth2"]["headers"]
        assert got["oauth2"]["accessTokenPath"] == "$.accessToken"

    async def test_secrets_are_encrypted_at_rest(self, api, database, box):
        body = basic_authentication()
        new_id = await create(api, "/authentications", body)
        async with database.session(write=False) as session:
            stored = (
                await session.execute(select(ConfigObject).where(ConfigObject.id == new_id))
            ).scalar_one()
        sealed = stored.body["basicAuth"]["password"]
        assert "87d0-0242ac130003" not in str(stored.body)
        assert box.open(sealed) == "87d0-0242ac130003"

    @pytest.mark.parametrize(
        ("attribute", "code"),
        [
            ("name", "400-143"),
            ("type", "400-143"),
            ("basicAuth", "400-143"),
            ("basicAuth.password", "400-143"),
        ],
    )
    async def test_missing_attribute(self, api, attribute, code):
        answer = await api.post("/authentications", json=without(basic_authentication(), attribute))
        assert answer.status_code == 400
        assert answer.json()["code"] == code
        assert attribute in answer.json()["developerMessage"]

    async def test_oauth2_without_its_section(self, api):
        answer = await api.post("/authentications", json=without(oauth2_authentication(), "oauth2"))
        assert answer.json()["code"] == "400-143"
        assert answer.json()["developerMessage"].endswith(": oauth2")

    async def test_both_variants_at_once_is_refused(self, api):
        body = {**oauth2_authentication(), "basicAuth": {"username": "u", "password": "p"}}
        answer = await api.post("/authentications", json=body)
        assert answer.json()["code"] == "400-420"
        assert "basicAuth" in answer.json()["developerMessage"]

    async def test_unknown_type(self, api):
        answer = await api.post(
            "/authentications", json=with_value(basic_authentication(), "type", "digest")
        )
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-196"
        assert "[oauth2, basic]" in answer.json()["developerMessage"]

    async def test_bad_method_enum(self, api):
        answer = await api.post(
            "/authentications", json=with_value(oauth2_authentication(), "oauth2.method", "PUT")
        )
        assert answer.json()["code"] == "400-196"
        assert "oauth2.method" in answer.json()["developerMessage"]

    async def test_payload_too_long(self, api):
        answer = await api.post(
            "/authentications",
            json=with_value(oauth2_authentication(), "oauth2.payload", "x" * 1025),
        )
        assert answer.json()["code"] == "400-358"
        assert "oauth2.payload" in answer.json()["developerMessage"]
        assert "1024" in answer.json()["developerMessage"]

    async def test_unknown_nested_attribute(self, api):
        answer = await api.post(
            "/authentications", json=with_value(basic_authentication(), "basicAuth.token", "x")
        )
        assert answer.json()["code"] == "400-420"
        assert answer.json()["developerMessage"].startswith("basicAuth.token:")

    @pytest.mark.parametrize(
        ("attribute", "value"),
        [
            ("active", "yes"),
            ("name", ""),
            ("name", 12),
            ("oauth2.headers", []),
            ("oauth2.headers", [{"name": "a", "value": "b"}] * 26),
        ],
    )
    async def test_invalid_value(self, api, attribute, value):
        answer = await api.post(
            "/authentications", json=with_value(oauth2_authentication(), attribute, value)
        )
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-152"
        assert attribute in answer.json()["developerMessage"]

    async def test_mask_cannot_be_a_new_secret(self, api):
        answer = await api.post(
            "/authentications", json=with_value(basic_authentication(), "basicAuth.password", MASK)
        )
        assert answer.json()["code"] == "400-152"

    async def test_duplicate_name(self, api):
        body = basic_authentication()
        await create(api, "/authentications", body)
        answer = await api.post("/authentications", json=oauth2_authentication(name=body["name"]))
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-138"
        listed = (await api.get("/authentications")).json()
        assert listed["paginationInfo"]["count"] == 1

    async def test_same_name_in_another_tenant_is_fine(self, api, other_tenant):
        body = basic_authentication()
        await create(api, "/authentications", body)
        await create(other_tenant, "/authentications", body)


class TestList:
    async def test_lists_in_creation_order_with_pagination(self, api):
        ids = [await create(api, "/authentications", basic_authentication()) for _ in range(3)]
        first = (await api.get("/authentications", params={"$pagesize": 2})).json()
        assert first["paginationInfo"] == {"count": 3, "pagenum": 1, "pagesize": 2}
        assert [a["id"] for a in first["authentication"]] == ids[:2]
        second = (await api.get("/authentications", params={"$pagesize": 2, "$pagenum": 2})).json()
        assert [a["id"] for a in second["authentication"]] == ids[2:]
        assert all(a["basicAuth"]["password"] == MASK for a in first["authentication"])

    async def test_page_past_the_end_is_empty(self, api):
        await create(api, "/authentications", basic_authentication())
        answer = (await api.get("/authentications", params={"$pagenum": 5})).json()
        assert answer == {
            "paginationInfo": {"count": 1, "pagenum": 5, "pagesize": 25},
            "authentication": [],
        }


class TestGet:
    async def test_unknown_id(self, api):
        answer = await api.get("/authentications/00000000-0000-0000-0000-000000000000")
        assert answer.status_code == 404
        assert answer.json() == {
            "code": "404-101",
            "developerMessage": "The following id does not exist: "
            "00000000-0000-0000-0000-000000000000",
        }

    async def test_wrong_length_id(self, api):
        answer = await api.get("/authentications/abc")
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-414"


class TestReplace:
    async def test_replace_and_mask_keeps_the_secret(self, api, database, box):
        new_id = await create(api, "/authentications", basic_authentication())
        got = (await api.get(f"/authentications/{new_id}")).json()
        got["basicAuth"]["username"] = "assistant-2"
        body = {k: v for k, v in got.items() if k not in {"id", "created"}}
        answer = await api.put(f"/authentications/{new_id}", json=body)
        assert answer.status_code == 204, answer.text
        after = (await api.get(f"/authentications/{new_id}")).json()
        assert after["basicAuth"]["username"] == "assistant-2"
        assert after["modified"] > got["modified"]
        async with database.session(write=False) as session:
            stored = await session.get(ConfigObject, new_id)
        assert box.open(stored.body["basicAuth"]["password"]) == "87d0-0242ac130003"

    async def test_new_secret_replaces_the_old(self, api, database, box):
        new_id = await create(api, "/authentications", oauth2_authentication())
        body = oauth2_authentication()
        body["oauth2"]["payload"] = "grant_type=client_credentials&secret=new"
        assert (await api.put(f"/authentications/{new_id}", json=body)).status_code == 204
        async with database.session(write=False) as session:
            stored = await session.get(ConfigObject, new_id)
        assert (
            box.open(stored.body["oauth2"]["payload"]) == "grant_type=client_credentials&secret=new"
        )

    async def test_switching_type_with_the_mask_is_refused(self, api):
        new_id = await create(api, "/authentications", basic_authentication())
        body = with_value(oauth2_authentication(), "oauth2.payload", MASK)
        answer = await api.put(f"/authentications/{new_id}", json=body)
        assert answer.json()["code"] == "400-152"
        assert (await api.get(f"/authentications/{new_id}")).json()["type"] == "basic"

    async def test_stale_modified_conflicts(self, api):
        body = basic_authentication()
        new_id = await create(api, "/authentications", body)
        stale = {**body, "name": "renamed", "modified": "2021-03-28T14:29:01.516Z"}
        answer = await api.put(f"/authentications/{new_id}", json=stale)
        assert answer.status_code == 409
        assert answer.json()["code"] == "409-100"
        assert new_id in answer.json()["developerMessage"]
        assert (await api.get(f"/authentications/{new_id}")).json()["name"] == body["name"]

    async def test_current_modified_accepted(self, api):
        body = basic_authentication()
        new_id = await create(api, "/authentications", body)
        current = (await api.get(f"/authentications/{new_id}")).json()["modified"]
        answer = await api.put(
            f"/authentications/{new_id}", json={**body, "name": "renamed", "modified": current}
        )
        assert answer.status_code == 204
        assert (await api.get(f"/authentications/{new_id}")).json()["name"] == "renamed"

    async def test_unknown_id(self, api):
        answer = await api.put(
            "/authentications/00000000-0000-0000-0000-000000000000", json=basic_authentication()
        )
        assert answer.status_code == 404
        assert answer.json()["code"] == "404-101"

    async def test_invalid_body_changes_nothing(self, api):
        body = basic_authentication()
        new_id = await create(api, "/authentications", body)
        answer = await api.put(f"/authentications/{new_id}", json=without(body, "basicAuth"))
        assert answer.json()["code"] == "400-143"
        assert (await api.get(f"/authentications/{new_id}")).json()["basicAuth"][
            "username"
        ] == "assistant-1"


class TestDelete:
    async def test_delete(self, api):
        new_id = await create(api, "/authentications", basic_authentication())
        assert (await api.delete(f"/authentications/{new_id}")).status_code == 204
        assert (await api.get(f"/authentications/{new_id}")).status_code == 404
        assert (await api.delete(f"/authentications/{new_id}")).json()["code"] == "404-101"

    async def test_refused_while_a_client_application_uses_it(self, api):
        auth = await create(api, "/authentications", basic_authentication())
        app = await create(
            api,
            "/clientapplications",
            client_application(role("custom_bot", authentication_id=auth)),
        )
        answer = await api.delete(f"/authentications/{auth}")
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-160"
        assert app in answer.json()["developerMessage"]
        assert (await api.get(f"/authentications/{auth}")).status_code == 200


@pytest.fixture(scope="module")
def unmasked_url(settings):
    with running_server(settings.model_copy(update={"mask_secrets": False})) as url:
        yield url


class TestUnmaskedSetting:
    """CONVHUB_MASK_SECRETS=false: GET shows the secrets in clear, as eGain's API does."""

    async def test_get_shows_the_secret(self, api, unmasked_url):
        new_id = await create(api, "/authentications", oauth2_authentication())
        async with httpx.AsyncClient(base_url=unmasked_url + API_BASE, headers=api.headers) as http:
            got = (await http.get(f"/authentications/{new_id}")).json()
        assert got["oauth2"]["payload"].startswith('{ "clientId": "74513d54e112464e"')
        assert (await api.get(f"/authentications/{new_id}")).json()["oauth2"]["payload"] == MASK
