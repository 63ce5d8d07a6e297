"""The bytes: upload to the signed URL, download from the signed URL (DECISIONS §9)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from convhub.assets import cleanup
from convhub.assets.signing import signature, url_key
from convhub.core.runtime import Runtime
from convhub.models import Asset
from tests.assets.conftest import BUCKET, s3_client
from tests.assets.helpers import (
    EXE,
    JPEG,
    PNG,
    TEXT,
    declare,
    error,
    get,
    new_channel,
    put,
    storage_key,
)
from tests.server import running_server

MIB = 1024 * 1024


def _sign(settings, asset_id: str, purpose: str, expires: int) -> str:
    return signature(url_key(settings), asset_id=asset_id, purpose=purpose, expires=expires)


class TestUpload:
    @pytest.mark.both_stores
    @pytest.mark.parametrize("method", ["PUT", "POST"])
    async def test_bytes_are_stored_and_the_type_sniffed(self, hub, method):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        answer = await put(created["contentUrl"], PNG, method=method)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "id": created["id"],
            "name": "bird.png",
            "size": len(PNG),
            "contentType": "image/png",
        }
        shown = (await hub.get(f"/assets/{created['id']}")).json()
        downloaded = await get(shown["contentUrl"])
        assert downloaded.status_code == 200
        assert downloaded.content == PNG
        assert downloaded.headers["content-type"] == "image/png"
        assert downloaded.headers["x-content-type-options"] == "nosniff"
        assert "bird.png" in downloaded.headers["content-disposition"]

    @pytest.mark.both_stores
    async def test_the_url_is_single_use(self, hub):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "photo.jpeg", len(JPEG))
        assert (await put(created["contentUrl"], JPEG)).status_code == 200
        reused = error(await put(created["contentUrl"], PNG), 401, "401-104")
        assert "already used" in reused["developerMessage"]
        shown = (await hub.get(f"/assets/{created['id']}")).json()
        assert (await get(shown["contentUrl"])).content == JPEG

    async def test_expired_url(self, hub, asset_hub):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        base = created["contentUrl"].split("?")[0]
        past = int(time.time()) - 1
        signed = _sign(asset_hub.settings, created["id"], "upload", past)
        expired = f"{base}?expires={past}&signature={signed}"
        error(await put(expired, PNG), 401, "401-104")
        assert (await put(created["contentUrl"], PNG)).status_code == 200

    @pytest.mark.parametrize("tamper", ["signature", "expires", "asset", "purpose", "missing"])
    async def test_tampered_url(self, hub, asset_hub, tamper):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        other = await declare(hub, channel_type, "other.png", len(PNG))
        url = created["contentUrl"]
        base, query = url.split("?")
        expires = int(query.split("expires=")[1].split("&")[0])
        signed = _sign(asset_hub.settings, created["id"], "upload", expires)
        tampered = {
            "signature": url.replace(signed, ("A" if signed[0] != "A" else "B") + signed[1:]),
            "expires": url.replace(f"expires={expires}", f"expires={expires + 3600}"),
            "asset": url.replace(created["id"], other["id"]),
            "purpose": f"{base}?expires={expires}&signature="
            + _sign(asset_hub.settings, created["id"], "download", expires),
            "missing": base,
        }[tamper]
        error(await put(tampered, PNG), 401, "401-104")
        assert "contentUrl" not in (await hub.get(f"/assets/{created['id']}")).json()

    async def test_unknown_query_parameter(self, hub):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        error(await put(created["contentUrl"] + "&x=1", PNG), 400, "400-101")

    @pytest.mark.parametrize("data", [PNG[:-1], PNG + b"!"])
    async def test_size_must_match(self, hub, data):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        refused = error(await put(created["contentUrl"], data), 400, "400-152")
        assert "size" in refused["developerMessage"]
        assert "contentUrl" not in (await hub.get(f"/assets/{created['id']}")).json()
        # A failed upload does not spend the URL.
        assert (await put(created["contentUrl"], PNG)).status_code == 200

    async def test_size_mismatch_without_content_length(self, hub):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "notes.txt", len(TEXT) + 10)

        async def chunks():
            yield TEXT

        async with httpx.AsyncClient(timeout=60) as http:
            answer = await http.put(created["contentUrl"], content=chunks())
        error(answer, 400, "400-152")

    @pytest.mark.parametrize(
        ("name", "data"),
        [("photo.jpg", EXE), ("photo.png", TEXT), ("notes.txt", PNG), ("photo.jpeg", PNG)],
    )
    async def test_content_contradicting_the_extension_is_refused(self, hub, name, data):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, name, len(data))
        refused = error(await put(created["contentUrl"], data), 400, "400-152")
        assert "name" in refused["developerMessage"]
        assert "contentUrl" not in (await hub.get(f"/assets/{created['id']}")).json()

    @pytest.mark.parametrize(
        ("name", "data", "content_type"),
        [
            ("photo.jpg", JPEG, "image/jpeg"),
            ("notes.txt", b'{"json": "is text too"}', "text/plain"),
            ("data.csv", b"name,size\nbird,12\n", "text/csv"),
            ("README", TEXT, "text/plain"),
        ],
    )
    async def test_content_matching_the_extension(self, hub, name, data, content_type):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, name, len(data))
        answer = await put(created["contentUrl"], data)
        assert answer.status_code == 200, answer.text
        assert answer.json()["contentType"] == content_type

    @pytest.mark.both_stores
    async def test_ten_mebibytes_stream_through(self, hub):
        channel_type = await new_channel(hub, inbound={"attachmentPolicy": {"enabled": True}})
        data = PNG + bytes(range(256)) * ((10 * MIB - len(PNG)) // 256)
        data += b"\x00" * (10 * MIB - len(data))
        created = await declare(hub, channel_type, "big.png", len(data))

        async def chunks():
            for start in range(0, len(data), MIB):
                yield data[start : start + MIB]

        async with httpx.AsyncClient(timeout=120) as http:
            answer = await http.put(created["contentUrl"], content=chunks())
            assert answer.status_code == 200, answer.text
            shown = (await hub.get(f"/assets/{created['id']}")).json()
            received = bytearray()
            async with http.stream("GET", shown["contentUrl"]) as download:
                assert download.headers["content-length"] == str(len(data))
                async for chunk in download.aiter_bytes():
                    received += chunk
        assert received == data

    @pytest.mark.both_stores
    async def test_a_failed_large_upload_leaves_nothing(self, hub, asset_hub, database):
        channel_type = await new_channel(hub, inbound={"attachmentPolicy": {"enabled": True}})
        created = await declare(hub, channel_type, "big.bin", 10 * MIB)
        key = await storage_key(database, created["id"])

        async def six_mebibytes():
            for _ in range(6):
                yield b"\x01" * MIB

        async with httpx.AsyncClient(timeout=120) as http:
            answer = await http.put(created["contentUrl"], content=six_mebibytes())
        error(answer, 400, "400-152")
        assert not asset_hub.has_bytes(key)


class TestDownload:
    @pytest.mark.both_stores
    async def test_expired_or_tampered_download_url(self, hub, asset_hub):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        assert (await put(created["contentUrl"], PNG)).status_code == 200
        url = (await hub.get(f"/assets/{created['id']}")).json()["contentUrl"]
        base = url.split("?")[0]
        past = int(time.time()) - 1
        signed = _sign(asset_hub.settings, created["id"], "download", past)
        error(await get(f"{base}?expires={past}&signature={signed}"), 401, "401-104")
        error(await get(url.replace("signature=", "signature=x")), 401, "401-104")
        upload_signed = created["contentUrl"].split("?")[1]
        error(await get(f"{base}?{upload_signed}"), 401, "401-104")
        assert (await get(url)).content == PNG

    async def test_a_download_url_before_the_upload_finds_nothing(self, hub, asset_hub):
        channel_type = await new_channel(hub)
        created = await declare(hub, channel_type, "bird.png", len(PNG))
        base = created["contentUrl"].split("/upload?")[0] + "/download"
        later = int(time.time()) + 600
        signed = _sign(asset_hub.settings, created["id"], "download", later)
        error(await get(f"{base}?expires={later}&signature={signed}"), 404, "404-101")


class TestCleanup:
    @pytest.mark.both_stores
    async def test_unfinished_uploads_are_removed_after_expiry(self, hub, asset_hub, database):
        channel_type = await new_channel(hub)
        pending = await declare(hub, channel_type, "bird.png", len(PNG))
        done = await declare(hub, channel_type, "done.png", len(PNG))
        assert (await put(done["contentUrl"], PNG)).status_code == 200
        key = await storage_key(database, pending["id"])
        _leave_unfinished_upload(asset_hub, key)
        await _expire(database, pending["id"], done["id"])
        runtime = Runtime.build(asset_hub.settings)
        try:
            assert await cleanup.sweep(runtime) == 1
        finally:
            await runtime.db.dispose()
        error(await hub.get(f"/assets/{pending['id']}"), 404, "404-101")
        assert not asset_hub.has_bytes(key)
        assert (await hub.get(f"/assets/{done['id']}")).status_code == 200

    async def test_the_server_sweeps_periodically(self, hub, asset_hub, database):
        channel_type = await new_channel(hub)
        pending = await declare(hub, channel_type, "bird.png", len(PNG))
        await _expire(database, pending["id"])
        settings = asset_hub.settings.model_copy(update={"asset_cleanup_interval_seconds": 0.1})
        with running_server(settings):
            deadline = time.monotonic() + 15
            while (await hub.get(f"/assets/{pending['id']}")).status_code != 404:
                assert time.monotonic() < deadline, "the expired upload was not removed"
                await asyncio.sleep(0.1)


async def _expire(database, *asset_ids: str) -> None:
    async with database.session() as session:
        await session.execute(
            update(Asset)
            .where(Asset.id.in_(asset_ids))
            .values(upload_expires=datetime.now(UTC) - timedelta(seconds=1))
        )


def _leave_unfinished_upload(asset_hub, key: str) -> None:
    """What an upload cut short by a crash leaves: a part file, or an open multipart upload."""
    if asset_hub.store == "local":
        part = Path(asset_hub.settings.asset_dir) / (key + ".part")
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(PNG[:10])
    else:
        s3 = s3_client(str(asset_hub.settings.asset_s3_endpoint_url))
        s3.create_multipart_upload(Bucket=BUCKET, Key=asset_hub.settings.asset_s3_prefix + key)
