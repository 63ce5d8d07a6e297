"""Files, channels and the upload flow, for the asset tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from convhub.models import Asset
from tests.factories import channel, create

# Real signatures: a PNG, a JPEG (JFIF), a Windows executable (MZ header).
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4
TEXT = b"Order 1234: two shirts, one blue, one green.\n"


async def new_channel(hub: httpx.AsyncClient, **restrictions: Any) -> str:
    """A channel of the tenant (tests.factories.channel(): inbound blocks .bat/.exe, outbound
    allows .jpeg/.txt, both up to 12345 bytes); returns its type."""
    body = channel(**({"restrictions": restrictions} if restrictions else {}))
    await create(hub, "/channels", body)
    return str(body["type"])


def asset_body(channel_type: str, name: str, size: int, sender: str = "customer") -> dict[str, Any]:
    return {
        "channel": {"type": channel_type},
        "sender": {"type": sender},
        "name": name,
        "size": size,
    }


async def declare(
    hub: httpx.AsyncClient, channel_type: str, name: str, size: int, sender: str = "customer"
) -> dict[str, Any]:
    answer = await hub.post("/assets", json=asset_body(channel_type, name, size, sender))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def put(url: str, data: bytes, *, method: str = "PUT") -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.request(method, url, content=data)


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.get(url)


async def uploaded(
    hub: httpx.AsyncClient,
    channel_type: str,
    name: str,
    data: bytes,
    sender: str = "customer",
) -> str:
    """Declare and upload an asset; its id."""
    declared = await declare(hub, channel_type, name, len(data), sender)
    answer = await put(declared["contentUrl"], data)
    assert answer.status_code == 200, answer.text
    return str(declared["id"])


def error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = dict(answer.json())
    assert body["code"] == code, body
    return body


async def storage_key(database: Any, asset_id: str) -> str:
    """Where the store keeps the asset's bytes (read from the database)."""
    async with database.session(write=False) as session:
        asset = (await session.execute(select(Asset).where(Asset.id == asset_id))).scalar_one()
    return str(asset.storage_key)
