"""POST /assets, GET /assets/{id}, DELETE /assets/{id} (DECISIONS §9), on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from convhub.core.security import permissions as perms
from tests.assets.helpers import (
    PNG,
    TEXT,
    asset_body,
    declare,
    error,
    get,
    new_channel,
    put,
    storage_key,
)
from tests.conftest import API_BASE

USER_MESSAGE = {"X-egain-error-message": "yes"}


class TestCreateAsset:
    async def test_answers_a_signed_upload_url_valid_30_minutes(self, hub, asset_hub):
        channel_type = await new_channel(hub)
        before = datetime.now(UTC)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        assert set(created) == {"id", "contentUrl", "contentUrlExpiry"}
        assert len(created["id"]) == 36
        assert created["contentUrl"].startswith(
            f"{asset_hub.url}{API_BASE}/assets/{created['id']}/upload?"
        )
        expiry = datetime.fromisoformat(created["contentUrlExpiry"].replace("Z", "+00:00"))
        assert before + timedelta(minutes=29) < expiry <= before + timedelta(minutes=31)

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"size": 0}, "400-152"),
            ({"size": 10485761}, "400-152"),
            ({"size": "12"}, "400-152"),
            ({"name": ""}, "400-152"),
            ({"name": "x" * 256}, "400-358"),
            ({"sender": {"type": "robot"}}, "400-196"),
            ({"extra": 1}, "400-420"),
        ],
    )
    async def test_invalid_body_is_refused(self, hub, change, code):
        channel_type = await new_channel(hub)
        body = {**asset_body(channel_type, "a.png", 10), **change}
        error(await hub.post("/assets", json=body), 400, code)

    async def test_required_attributes(self, hub):
        body = asset_body("sms", "a.png", 10)
        del body["size"]
        assert (
            "size"
            in error(await hub.post("/assets", json=body), 400, "400-143")["developerMessage"]
        )

    async def test_unknown_channel_type(self, hub, other_tenant):
        other_channel = await new_channel(other_tenant)
        body = asset_body(other_channel, "a.png", 10)
        error(await hub.post("/assets", json=body), 400, "400-194")

    async def test_larger_than_the_channel_allows(self, hub):
        channel_type = await new_channel(hub)
        body = asset_body(channel_type, "a.png", 12346)
        answer = await hub.post("/assets", json=body, headers=USER_MESSAGE)
        refused = error(answer, 400, "400-152")
        assert "size" in refused["developerMessage"]
        assert refused["userMessage"] == (
            "File could not be sent. It exceeded the maximum limit of 12.1 KB"
        )

    async def test_blocked_extension_from_a_customer(self, hub):
        channel_type = await new_channel(hub)
        answer = await hub.post(
            "/assets", json=asset_body(channel_type, "setup.EXE", 100), headers=USER_MESSAGE
        )
        refused = error(answer, 400, "400-152")
        assert refused["userMessage"] == "Attachment file type 'exe' is not allowed."

    async def test_outbound_allow_list_for_agents_and_bots(self, hub):
        channel_type = await new_channel(hub)
        await declare(hub, channel_type, "notes.txt", 100, sender="custom_agent")
        await declare(hub, channel_type, "notes.png", 100, sender="customer")
        body = asset_body(channel_type, "notes.png", 100, sender="custom_bot")
        error(await hub.post("/assets", json=body), 400, "400-152")

    async def test_attachments_disabled(self, hub):
        inbound = {"attachmentPolicy": {"enabled": False}}
        channel_type = await new_channel(hub, inbound=inbound)
        body = asset_body(channel_type, "a.png", 10)
        error(await hub.post("/assets", json=body), 400, "400-152")
        await declare(hub, channel_type, "a.png", 10, sender="custom_agent")

    async def test_needs_interaction_manage(self, hub, make_client):
        reader = await make_client(permissions=[perms.INTERACTION_READ])
        body = asset_body("sms", "a.png", 10)
        answer = await hub.post("/assets", json=body, headers=reader.headers)
        error(answer, 403, "403-197")
        answer = await hub.post("/assets", json=body, headers={"Authorization": ""})
        error(answer, 401, "401-104")


class TestGetAsset:
    async def test_before_upload_there_is_nothing_to_download(self, hub):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        answer = await hub.get(f"/assets/{created['id']}")
        assert answer.status_code == 200
        assert answer.json() == {"id": created["id"], "name": "bird.png", "size": len(PNG)}

    @pytest.mark.both_stores
    async def test_after_upload_a_signed_download_url(self, hub, asset_hub):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "notes.txt", len(TEXT))
        assert (await put(created["contentUrl"], TEXT)).status_code == 200
        shown = (await hub.get(f"/assets/{created['id']}")).json()
        assert shown["name"] == "notes.txt"
        assert shown["size"] == len(TEXT)
        assert shown["contentType"] == "text/plain"
        assert shown["contentUrl"].startswith(
            f"{asset_hub.url}{API_BASE}/assets/{created['id']}/download?"
        )
        assert shown["contentUrlExpiry"].endswith("Z")
        downloaded = await get(shown["contentUrl"])
        assert downloaded.content == TEXT

    async def test_read_permission_is_enough(self, hub, make_client, api):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        reader = await make_client(permissions=[perms.INTERACTION_READ], tenant=api.tenant)
        answer = await hub.get(f"/assets/{created['id']}", headers=reader.headers)
        assert answer.status_code == 200

    async def test_another_tenants_asset_is_not_found(self, hub, other_tenant):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        answer = await hub.get(f"/assets/{created['id']}", headers=other_tenant.headers)
        error(answer, 404, "404-101")

    async def test_malformed_and_unknown_ids(self, hub):
        error(await hub.get("/assets/short"), 400, "400-414")
        error(await hub.get("/assets/00000000-0000-4000-8000-000000000000"), 404, "404-101")


class TestDeleteAsset:
    @pytest.mark.both_stores
    async def test_removes_the_asset_and_its_bytes(self, hub, asset_hub, database):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        assert (await put(created["contentUrl"], PNG)).status_code == 200
        download_url = (await hub.get(f"/assets/{created['id']}")).json()["contentUrl"]
        key = await storage_key(database, created["id"])
        assert asset_hub.has_bytes(key)
        assert (await hub.delete(f"/assets/{created['id']}")).status_code == 204
        assert not asset_hub.has_bytes(key)
        error(await hub.get(f"/assets/{created['id']}"), 404, "404-101")
        error(await get(download_url), 404, "404-101")
        error(await hub.delete(f"/assets/{created['id']}"), 404, "404-101")

    async def test_a_pending_asset_can_be_deleted(self, hub):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        assert (await hub.delete(f"/assets/{created['id']}")).status_code == 204
        error(await put(created["contentUrl"], PNG), 404, "404-101")

    async def test_another_tenant_cannot_delete_it(self, hub, other_tenant):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        answer = await hub.delete(f"/assets/{created['id']}", headers=other_tenant.headers)
        error(answer, 404, "404-101")
        assert (await hub.get(f"/assets/{created['id']}")).status_code == 200

    async def test_needs_interaction_manage(self, hub, make_client, api):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        reader = await make_client(permissions=[perms.INTERACTION_READ], tenant=api.tenant)
        answer = await hub.delete(f"/assets/{created['id']}", headers=reader.headers)
        error(answer, 403, "403-197")
