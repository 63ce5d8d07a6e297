"""The rules of assets (DECISIONS §9): create a pending asset checked against the channel's
attachment policy, show it with a signed download URL, delete it unless a message used it.

Never commits: the handler does. The upload and download of the bytes are in ``content.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from convhub.assets import repository
from convhub.assets.schemas import AssetCreate, PreDownloadAsset, PreUploadAsset
from convhub.assets.signing import AssetLinks
from convhub.configuration.service import check_id
from convhub.core.errors import NotFound, ReferenceNotFound, ResourceInUse
from convhub.core.schemas import format_timestamp
from convhub.models import Asset
from convhub.routing import restrictions


@dataclass
class AssetContext:
    session: AsyncSession
    tenant_id: str
    links: AssetLinks
    now: datetime


async def create(ctx: AssetContext, body: AssetCreate) -> PreUploadAsset:
    channel = await _channel(ctx, body.channel.type)
    limits = restrictions.restriction(channel, restrictions.direction_of(body.sender.type))
    restrictions.check_file(
        channel, limits, name=body.name, size=body.size, at="", language="en-US"
    )
    asset_id = str(uuid.uuid4())
    seconds = ctx.links.settings.asset_upload_url_seconds
    url, expiry = ctx.links.url(asset_id, "upload", seconds=seconds, now=ctx.now)
    ctx.session.add(
        Asset(
            id=asset_id,
            tenant_id=ctx.tenant_id,
            name=body.name,
            size=body.size,
            channel_type=body.channel.type,
            sender_type=body.sender.type,
            state="pending",
            storage_key=f"{ctx.tenant_id}/{asset_id}",
            created=ctx.now,
            # The URL's own expiry, which ends on a whole second.
            upload_expires=expiry,
        )
    )
    return PreUploadAsset(id=asset_id, contentUrl=url, contentUrlExpiry=format_timestamp(expiry))


async def _channel(ctx: AssetContext, channel_type: str) -> dict[str, Any]:
    found = await repository.channel_by_type(
        ctx.session, tenant_id=ctx.tenant_id, channel_type=channel_type
    )
    if found is None:
        raise ReferenceNotFound("channel.type", channel_type)
    return found.body


async def read(ctx: AssetContext, asset_id: str) -> PreDownloadAsset:
    asset = await _asset(ctx, asset_id)
    shown = PreDownloadAsset(id=asset.id, name=asset.name, size=asset.size)
    if asset.state == "uploaded":
        url, expiry = ctx.links.download_url(asset.id, ctx.now)
        shown.contentType = asset.content_type
        shown.contentUrl, shown.contentUrlExpiry = url, format_timestamp(expiry)
    return shown


async def delete(ctx: AssetContext, asset_id: str) -> str:
    """Remove the asset's row; answers the storage key whose bytes the caller removes once the
    transaction has committed."""
    # The contract's deleteAsset answers no 400: an id of the wrong length is simply not found.
    asset = await _asset(ctx, asset_id, lock=True, check=False)
    if asset.used_by is not None:
        raise ResourceInUse("asset", asset.id, used_by="message", user_id=asset.used_by)
    await repository.remove(ctx.session, asset_id=asset.id)
    return asset.storage_key


async def _asset(
    ctx: AssetContext, asset_id: str, *, lock: bool = False, check: bool = True
) -> Asset:
    if check:
        check_id(asset_id)
    asset = await repository.get(ctx.session, asset_id=asset_id, tenant_id=ctx.tenant_id, lock=lock)
    if asset is None:
        raise NotFound(asset_id)
    return asset
