"""PUT /channels/{id}: the whole channel replaced, optimistic concurrency, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.channels.conftest import Refused, Snapshot, Stored, read_channel
from tests.conftest import ClientFactory
from tests.factories import ICON, channel, create, with_value, without

PUT_EXAMPLE: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "request-examples.json").read_text()
)["put_channel"]["example"]
READ_ONLY = ["app.conversation.conversationmgr.read"]
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def replacement(stored: Stored) -> dict[str, Any]:
    """A different body for the same channel: new display name, no description, one language."""
    body = without(channel(type=stored.sent["type"], displayName="Renamed"), "description")
    return with_value(body, "restrictions.inbound", {"maxTextLength": 500})


class TestReplace:
    async def test_replaced_and_visible(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = replacement(existing)
        answer = await api.put(f"/channels/{existing.id}", json=sent)
        assert answer.status_code == 204, answer.text
        assert answer.content == b""
        read = await read_channel(api, existing.id)
        assert read.pop("created") == existing.read["created"]
        assert read.pop("modified") > existing.read["modified"]
        assert read == {"id": existing.id, **sent}

    async def test_defaults_filled_on_replace(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = {"type": existing.sent["type"], "displayName": "Bare", "icon": ICON}
        answer = await api.put(f"/channels/{existing.id}", json=sent)
        assert answer.status_code == 204, answer.text
        read = await read_channel(api, existing.id)
        del read["created"], read["modified"]
        assert read == {"id": existing.id, **sent, "active": True}

    async def test_type_may_change(self, api: httpx.AsyncClient, existing: Stored) -> None:
        sent = channel()
        answer = await api.put(f"/channels/{existing.id}", json=sent)
        assert answer.status_code == 204, answer.text
        assert (await read_channel(api, existing.id))["type"] == sent["type"]

    async def test_contract_example_accepted(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = {**PUT_EXAMPLE, "icon": ICON, "type": existing.sent["type"]}
        sent["modified"] = existing.read["modified"]
        answer = await api.put(f"/channels/{existing.id}", json=sent)
        assert answer.status_code == 204, answer.text
        read = await read_channel(api, existing.id)
        del read["created"], read["modified"], sent["modified"]
        assert read == {"id": existing.id, **sent}

    async def test_current_modified_accepted(
        self, api: httpx.AsyncClient, existing: Stored
    ) -> None:
        sent = replacement(existing)
        answer = await api.put(
            f"/channels/{existing.id}", json={**sent, "modified": existing.read["modified"]}
        )
        assert answer.status_code == 204, answer.text
        assert (await read_channel(api, existing.id))["displayName"] == "Renamed"

    async def test_stale_modified_refused(
        self, api: httpx.AsyncClient, existing: Stored, refused: Refused
    ) -> None:
        first = await api.put(f"/channels/{existing.id}", json=existing.sent)
        assert first.status_code == 204, first.text
        current = await read_channel(api, existing.id)
        stale = {**replacement(existing), "modified": existing.read["modified"]}
        answer = await api.put(f"/channels/{existing.id}", json=stale)
        refused(answer, 409, "409-100", f"channel do not match: {existing.id}")
        assert await read_channel(api, existing.id) == current

    async def test_other_modified_refused(
        self, api: httpx.AsyncClient, existing: Stored, refused: Refused
    ) -> None:
        stale = {**replacement(existing), "modified": "2021-06-11T23:14:41.836Z"}
        answer = await api.put(f"/channels/{existing.id}", json=stale)
        refused(answer, 409, "409-100", existing.id)
        assert await read_channel(api, existing.id) == existing.read

    async def test_type_taken_by_another_channel(
        self, api: httpx.AsyncClient, existing: Stored, snapshot: Snapshot, refused: Refused
    ) -> None:
        other = channel()
        await create(api, "/channels", other)
        before = await snapshot()
        answer = await api.put(f"/channels/{existing.id}", json=channel(type=other["type"]))
        refused(answer, 400, "400-138", other["type"])
        assert await snapshot() == before

    async def test_duplicate_language(
        self, api: httpx.AsyncClient, existing: Stored, refused: Refused
    ) -> None:
        entries = [
            {"language": "ja-JP", "properties": [{"name": "a", "value": "b"}]},
            {"language": "ja-JP", "properties": [{"name": "c", "value": "d"}]},
        ]
        body = {**existing.sent, "l10nProperties": entries}
        answer = await api.put(f"/channels/{existing.id}", json=body)
        refused(answer, 400, "400-138", "language=ja-JP")
        assert await read_channel(api, existing.id) == existing.read

    @pytest.mark.parametrize(
        ("body_change", "code"),
        [
            ({"icon": None}, "400-143"),
            ({"icon": "not base64"}, "400-152"),
            ({"active": "yes"}, "400-152"),
            ({"restrictions": {"inbound": {"foo": 1}}}, "400-420"),
            ({"restrictions": {"outbound": {"features": ["video"]}}}, "400-196"),
            ({"description": "d" * 1024}, "400-358"),
            ({"modified": "yesterday"}, "400-152"),
            ({"id": UNKNOWN_ID}, "400-420"),
        ],
    )
    async def test_invalid_body_changes_nothing(
        self,
        api: httpx.AsyncClient,
        existing: Stored,
        refused: Refused,
        body_change: dict[str, Any],
        code: str,
    ) -> None:
        body = {**existing.sent, **body_change}
        body = {key: value for key, value in body.items() if value is not None}
        answer = await api.put(f"/channels/{existing.id}", json=body)
        refused(answer, 400, code, next(iter(body_change)))
        assert await read_channel(api, existing.id) == existing.read

    async def test_unknown_id(
        self, api: httpx.AsyncClient, snapshot: Snapshot, refused: Refused
    ) -> None:
        answer = await api.put(f"/channels/{UNKNOWN_ID}", json=channel())
        refused(answer, 404, "404-101", UNKNOWN_ID)
        assert await snapshot() == []

    async def test_other_tenant_gets_not_found(
        self,
        api: httpx.AsyncClient,
        other_tenant: httpx.AsyncClient,
        existing: Stored,
        refused: Refused,
    ) -> None:
        answer = await other_tenant.put(f"/channels/{existing.id}", json=replacement(existing))
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
        answer = await reader.put(f"/channels/{existing.id}", json=replacement(existing))
        refused(answer, 403, "403-197")
        assert await read_channel(api, existing.id) == existing.read
