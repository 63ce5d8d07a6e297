"""All SQL for assets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.configuration.repository import name_hash
from convhub.models import Asset, ConfigObject


async def get(
    session: AsyncSession, *, asset_id: str, tenant_id: str | None = None, lock: bool = False
) -> Asset | None:
    """The asset (of ``tenant_id`` when given); ``lock`` holds it until the transaction ends,
    so a delete and a message naming it cannot both succeed."""
    query = select(Asset).where(Asset.id == asset_id)
    if tenant_id is not None:
        query = query.where(Asset.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_many(
    session: AsyncSession, *, tenant_id: str, ids: Sequence[str]
) -> dict[str, Asset]:
    query = (
        select(Asset).where(Asset.tenant_id == tenant_id, Asset.id.in_(set(ids))).with_for_update()
    )
    return {asset.id: asset for asset in (await session.execute(query)).scalars()}


async def claim_upload(session: AsyncSession, *, asset_id: str, now: datetime) -> bool:
    """pending → uploading, if the asset is still pending and its URL not expired: of two
    uploads with the same URL, one wins."""
    result = await session.execute(
        update(Asset)
        .where(Asset.id == asset_id, Asset.state == "pending", Asset.upload_expires > now)
        .values(state="uploading")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish_upload(
    session: AsyncSession, *, asset_id: str, content_type: str, now: datetime
) -> Asset | None:
    """uploading → uploaded; ``None`` when the asset was deleted meanwhile."""
    asset = await get(session, asset_id=asset_id, lock=True)
    if asset is None or asset.state != "uploading":
        return None
    asset.state, asset.content_type, asset.uploaded = "uploaded", content_type, now
    return asset


async def release_upload(session: AsyncSession, *, asset_id: str) -> None:
    """uploading → pending: the upload failed, the URL may be used again until it expires."""
    await session.execute(
        update(Asset)
        .where(Asset.id == asset_id, Asset.state == "uploading")
        .values(state="pending")
    )


async def mark_used(session: AsyncSession, *, ids: Sequence[str], message_id: str) -> None:
    await session.execute(
        update(Asset)
        .where(Asset.id.in_(set(ids)), Asset.used_by.is_(None))
        .values(used_by=message_id)
    )


async def unfinished_before(
    session: AsyncSession, *, now: datetime, limit: int = 100
) -> list[Asset]:
    query = (
        select(Asset)
        .where(Asset.state != "uploaded", Asset.upload_expires <= now)
        .order_by(Asset.upload_expires)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def remove(session: AsyncSession, *, asset_id: str, unfinished_only: bool = False) -> bool:
    query = delete(Asset).where(Asset.id == asset_id)
    if unfinished_only:  # an upload that finished meanwhile keeps its asset
        query = query.where(Asset.state != "uploaded")
    return bool((await session.execute(query)).rowcount)  # type: ignore[attr-defined]


async def channel_by_type(
    session: AsyncSession, *, tenant_id: str, channel_type: str
) -> ConfigObject | None:
    """The tenant's channel of this type (the channels' unique key, DECISIONS §2)."""
    query = select(ConfigObject).where(
        ConfigObject.tenant_id == tenant_id,
        ConfigObject.kind == "channel",
        ConfigObject.name_hash == name_hash(channel_type),
    )
    return (await session.execute(query)).scalar_one_or_none()
