"""DELETE /channels/{id}: gone afterwards, refused while an account uses the channel."""

from __future__ import annotations

import httpx

from tests.channels.conftest import Refused, Snapshot, Stored, read_channel
from tests.conftest import ClientFactory
from tests.factories import channel, create, create_chain

READ_ONLY = ["app.conversation.conversationmgr.read"]
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


class TestDelete:
    async def test_deleted(
        self, api: httpx.AsyncClient, existing: Stored, snapshot: Snapshot, refused: Refused
    ) -> None:
        answer = await api.delete(f"/channels/{existing.id}")
        assert answer.status_code == 204, answer.text
        assert answer.content == b""
        refused(await api.get(f"/channels/{existing.id}"), 404, "404-101", existing.id)
        assert await snapshot() == []

    async def test_deleted_twice(
        self, api: httpx.AsyncClient, existing: Stored, refused: Refused
    ) -> None:
        assert (await api.delete(f"/channels/{existing.id}")).status_code == 204
        refused(await api.delete(f"/channels/{existing.id}"), 404, "404-101", existing.id)

    async def test_type_free_again(self, api: httpx.AsyncClient, existing: Stored) -> None:
        assert (await api.delete(f"/channels/{existing.id}")).status_code == 204
        again = await create(api, "/channels", existing.sent)
        assert (await read_channel(api, again))["type"] == existing.sent["type"]

    async def test_others_untouched(self, api: httpx.AsyncClient, existing: Stored) -> None:
        other = await create(api, "/channels", channel())
        before = await read_channel(api, other)
        assert (await api.delete(f"/channels/{existing.id}")).status_code == 204
        assert await read_channel(api, other) == before

    async def test_in_use_by_account(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused
    ) -> None:
        chain = await create_chain(api)
        before = await snapshot()
        answer = await api.delete(f"/channels/{chain.channel}")
        refused(answer, 400, "400-160", f"account {chain.account}")
        assert await snapshot() == before

    async def test_deletable_once_account_gone(self, api: httpx.AsyncClient) -> None:
        chain = await create_chain(api)
        assert (await api.delete(f"/accounts/{chain.account}")).status_code == 204
        assert (await api.delete(f"/channels/{chain.channel}")).status_code == 204
        assert (await api.get(f"/channels/{chain.channel}")).status_code == 404

    async def test_unknown_id(self, api: httpx.AsyncClient, refused: Refused) -> None:
        refused(await api.delete(f"/channels/{UNKNOWN_ID}"), 404, "404-101", UNKNOWN_ID)

    async def test_malformed_id(self, api: httpx.AsyncClient, refused: Refused) -> None:
        refused(await api.delete("/channels/abc"), 400, "400-414", "id")

    async def test_other_tenant_gets_not_found(
        self,
        api: httpx.AsyncClient,
        other_tenant: httpx.AsyncClient,
        existing: Stored,
        refused: Refused,
    ) -> None:
        answer = await other_tenant.delete(f"/channels/{existing.id}")
        refused(answer, 404, "404-101", existing.id)
        assert await read_channel(api, existing.id) == existing.read

    async def test_needs_manage_permission(
        self,
        api: httpx.AsyncClient,
        make_client: ClientFactory,
        existing: Stored,
        refused: Refused,
    ) -> None:
        reader = await make_client(permissions=READ_ONLY, tenant=api.tenant)  # type: ignore[attr-defined]
        refused(await reader.delete(f"/channels/{existing.id}"), 403, "403-197")
        assert await read_channel(api, existing.id) == existing.read
