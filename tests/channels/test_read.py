"""GET /channels and GET /channels/{id}."""

from __future__ import annotations

import httpx
import pytest

from tests.channels.conftest import Refused, Stored, read_channel
from tests.conftest import ClientFactory
from tests.factories import channel, create

READ_ONLY = ["app.conversation.conversationmgr.read"]
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def create_many(api: httpx.AsyncClient, count: int) -> list[str]:
    return [await create(api, "/channels", channel()) for _ in range(count)]


class TestList:
    async def test_empty(self, api: httpx.AsyncClient) -> None:
        answer = await api.get("/channels")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "paginationInfo": {"count": 0, "pagenum": 1, "pagesize": 25},
            "channel": [],
        }

    async def test_in_creation_order_as_get_shows_them(self, api: httpx.AsyncClient) -> None:
        ids = await create_many(api, 3)
        answer = await api.get("/channels")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["paginationInfo"] == {"count": 3, "pagenum": 1, "pagesize": 25}
        assert [item["id"] for item in body["channel"]] == ids
        assert body["channel"] == [await read_channel(api, channel_id) for channel_id in ids]

    async def test_page(self, api: httpx.AsyncClient) -> None:
        ids = await create_many(api, 5)
        answer = await api.get("/channels", params={"$pagesize": "2", "$pagenum": "2"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["paginationInfo"] == {"count": 5, "pagenum": 2, "pagesize": 2}
        assert [item["id"] for item in body["channel"]] == ids[2:4]

    async def test_last_partial_page(self, api: httpx.AsyncClient) -> None:
        ids = await create_many(api, 5)
        answer = await api.get("/channels", params={"$pagesize": "2", "$pagenum": "3"})
        assert answer.status_code == 200, answer.text
        assert [item["id"] for item in answer.json()["channel"]] == ids[4:]

    async def test_page_past_the_end_is_empty(self, api: httpx.AsyncClient) -> None:
        await create_many(api, 2)
        answer = await api.get("/channels", params={"$pagesize": "2", "$pagenum": "2"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "paginationInfo": {"count": 2, "pagenum": 2, "pagesize": 2},
            "channel": [],
        }

    async def test_other_tenant_sees_nothing(
        self, api: httpx.AsyncClient, other_tenant: httpx.AsyncClient, existing: Stored
    ) -> None:
        mine = await create(other_tenant, "/channels", channel())
        answer = await other_tenant.get("/channels")
        assert answer.status_code == 200, answer.text
        assert [item["id"] for item in answer.json()["channel"]] == [mine]
        assert existing.id != mine
        assert (await api.get("/channels")).json()["paginationInfo"]["count"] == 1

    async def test_read_permission_suffices(
        self, api: httpx.AsyncClient, make_client: ClientFactory, existing: Stored
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        answer = await reader.get("/channels")
        assert answer.status_code == 200, answer.text
        assert answer.json()["channel"] == [existing.read]

    @pytest.mark.parametrize(
        "params",
        [{"$pagesize": "0"}, {"$pagesize": "101"}, {"$pagenum": "0"}, {"$pagenum": "x"}],
    )
    async def test_bad_page_parameter(
        self, api: httpx.AsyncClient, refused: Refused, params: dict[str, str]
    ) -> None:
        refused(await api.get("/channels", params=params), 400, "400-244", next(iter(params)))

    async def test_unknown_query_parameter(self, api: httpx.AsyncClient, refused: Refused) -> None:
        refused(await api.get("/channels", params={"type": "x"}), 400, "400-101", "type")

    async def test_needs_token(self, anonymous: httpx.AsyncClient, refused: Refused) -> None:
        refused(await anonymous.get("/channels"), 401, "401-104")


class TestGet:
    async def test_found(self, api: httpx.AsyncClient, existing: Stored) -> None:
        answer = await api.get(f"/channels/{existing.id}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert {key: body.pop(key) for key in ("id", "created", "modified")}["id"] == existing.id
        assert body == existing.sent

    async def test_read_permission_suffices(
        self, api: httpx.AsyncClient, make_client: ClientFactory, existing: Stored
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        assert await read_channel(reader, existing.id) == existing.read

    async def test_unknown_id(self, api: httpx.AsyncClient, refused: Refused) -> None:
        refused(await api.get(f"/channels/{UNKNOWN_ID}"), 404, "404-101", UNKNOWN_ID)

    async def test_malformed_id(self, api: httpx.AsyncClient, refused: Refused) -> None:
        refused(await api.get("/channels/abc"), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self, other_tenant: httpx.AsyncClient, existing: Stored, refused: Refused
    ) -> None:
        refused(await other_tenant.get(f"/channels/{existing.id}"), 404, "404-101", existing.id)

    async def test_unknown_query_parameter(
        self, api: httpx.AsyncClient, existing: Stored, refused: Refused
    ) -> None:
        answer = await api.get(f"/channels/{existing.id}", params={"fields": "type"})
        refused(answer, 400, "400-101", "fields")

    async def test_needs_token(
        self, anonymous: httpx.AsyncClient, existing: Stored, refused: Refused
    ) -> None:
        refused(await anonymous.get(f"/channels/{existing.id}"), 401, "401-104")
