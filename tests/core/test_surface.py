"""What every configuration operation shares: the published contract, tokens, permissions,
query parameters, bodies that are not JSON, and WSErrorCommon (DECISIONS §1, §3, §4)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from convhub.core.security import permissions as perms

CONTRACT = Path(__file__).resolve().parents[2] / "spec" / "conversationmgr-v3.openapi.yaml"
RESOURCES = [
    "/authentications",
    "/clientapplications",
    "/participants",
    "/channels",
    "/orchestrations",
    "/accounts",
]
SOME_ID = "7b6c5fff-036e-4a40-b68a-a67c592fc079"
OPERATIONS = [
    (method, path)
    for resource in RESOURCES
    for method, path in [
        ("POST", resource),
        ("GET", resource),
        ("GET", resource + "/{id}"),
        ("PUT", resource + "/{id}"),
        ("DELETE", resource + "/{id}"),
    ]
]
WRITES = {"POST", "PUT", "DELETE"}


def _url(path: str) -> str:
    return path.replace("{id}", SOME_ID)


def _contract() -> dict:
    return yaml.safe_load(CONTRACT.read_text())


class TestPublishedDocument:
    async def test_same_configuration_operations_and_status_codes_as_the_contract(self, server_url):
        async with httpx.AsyncClient(base_url=server_url) as http:
            ours = (await http.get("/openapi.json")).json()
        contract = _contract()
        prefix = "/conversation/conversationmgr/v3"
        for method, path in OPERATIONS:
            theirs = contract["paths"][path][method.lower()]
            mine = ours["paths"][prefix + path][method.lower()]
            assert mine["operationId"] == theirs["operationId"], (method, path)
            assert set(mine["responses"]) == set(theirs["responses"]), (method, path)

    async def test_no_other_configuration_paths_are_published(self, server_url):
        async with httpx.AsyncClient(base_url=server_url) as http:
            ours = (await http.get("/openapi.json")).json()
        published = {
            (method.upper(), path.removeprefix("/conversation/conversationmgr/v3"))
            for path, item in ours["paths"].items()
            for method in item
            if path.startswith("/conversation/conversationmgr/v3/")
            and path.split("/")[4] in {r[1:] for r in RESOURCES}
        }
        assert published == set(OPERATIONS)

    async def test_no_fastapi_validation_schema(self, server_url):
        async with httpx.AsyncClient(base_url=server_url) as http:
            text = (await http.get("/openapi.json")).text
        assert "HTTPValidationError" not in text
        assert '"422"' not in text


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
class TestEveryOperation:
    async def test_needs_a_token(self, anonymous, method, path):
        answer = await anonymous.request(method, _url(path), json={})
        assert answer.status_code == 401
        assert answer.json()["code"] == "401-104"

    async def test_needs_a_configuration_permission(self, make_client, method, path):
        client = await make_client(permissions=[perms.INTERACTION_MANAGE, perms.INTERACTION_READ])
        answer = await client.request(method, _url(path), json={})
        assert answer.status_code == 403
        assert answer.json() == {
            "code": "403-197",
            "developerMessage": "Not authorized to perform the action.",
        }

    async def test_read_permission_reads_but_does_not_write(self, make_client, method, path):
        client = await make_client(permissions=[perms.READ])
        answer = await client.request(method, _url(path), json={})
        if method in WRITES:
            assert answer.status_code == 403
            assert answer.json()["code"] == "403-197"
        else:
            assert answer.status_code in {200, 404}

    async def test_unknown_query_parameter(self, api, method, path):
        answer = await api.request(method, _url(path), params={"$filter": "x"}, json={})
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-101"
        assert "$filter" in answer.json()["developerMessage"]

    async def test_user_message_only_when_asked(self, api, method, path):
        plain = await api.request(method, _url(path), params={"x": "1"})
        assert "userMessage" not in plain.json()
        asked = await api.request(
            method, _url(path), params={"x": "1"}, headers={"X-egain-error-message": "yes"}
        )
        assert asked.json()["userMessage"]
        assert asked.json()["code"] == plain.json()["code"]


BODY_OPERATIONS = [(m, p) for m, p in OPERATIONS if m in {"POST", "PUT"}]


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
class TestBodies:
    @pytest.mark.parametrize("content", [b"", b"{not json", b"[1, 2]", b'"text"', b"null"])
    async def test_body_that_is_not_a_json_object(self, api, method, path, content):
        answer = await api.request(
            method, _url(path), content=content, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-264"

    async def test_empty_object_names_a_missing_attribute(self, api, method, path):
        answer = await api.request(method, _url(path), json={})
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-143"


class TestListParameters:
    @pytest.mark.parametrize("resource", RESOURCES)
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("$pagesize", "0"),
            ("$pagesize", "101"),
            ("$pagesize", "ten"),
            ("$pagenum", "0"),
            ("$pagenum", "-1"),
            ("$pagenum", "1.5"),
        ],
    )
    async def test_bad_value(self, api, resource, name, value):
        answer = await api.get(resource, params={name: value})
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-244"

    @pytest.mark.parametrize("resource", RESOURCES)
    async def test_empty_list_keeps_its_key(self, api, resource):
        answer = await api.get(resource, params={"$pagesize": "100"})
        key = {"/clientapplications": "clientApplication"}.get(resource, resource[1:-1])
        assert answer.json() == {
            "paginationInfo": {"count": 0, "pagenum": 1, "pagesize": 100},
            key: [],
        }


class TestUnknownRoutes:
    async def test_unknown_path_is_a_ws_error(self, api):
        answer = await api.get("/nothing-here")
        assert answer.status_code == 404
        assert answer.json()["code"] == "404-101"

    async def test_method_not_allowed_is_a_ws_error(self, api):
        answer = await api.patch("/accounts")
        assert answer.status_code == 405
        assert set(answer.json()) >= {"code", "developerMessage"}

    async def test_method_not_allowed_lists_every_method_of_the_path(self, api):
        # Each operation is a route of its own: Allow names them all, not the first one found.
        answer = await api.patch("/accounts/00000000-0000-0000-0000-000000000000")
        assert answer.status_code == 405
        assert answer.headers["Allow"] == "DELETE, GET, PUT"
