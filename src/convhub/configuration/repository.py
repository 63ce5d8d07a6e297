"""All SQL for configuration objects and their references."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.core.pagination import Page
from convhub.models import ConfigObject, ConfigReference, Tenant


async def get(
    session: AsyncSession, *, tenant_id: str, kind: str, object_id: str, for_update: bool = False
) -> ConfigObject | None:
    query = select(ConfigObject).where(
        ConfigObject.id == object_id, ConfigObject.tenant_id == tenant_id, ConfigObject.kind == kind
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_many(
    session: AsyncSession, *, tenant_id: str, ids: Sequence[str]
) -> dict[str, ConfigObject]:
    """Objects of the tenant by id, share-locked so none is deleted before this transaction ends."""
    if not ids:
        return {}
    query = (
        select(ConfigObject)
        .where(ConfigObject.tenant_id == tenant_id, ConfigObject.id.in_(set(ids)))
        .with_for_update(read=True)
    )
    return {obj.id: obj for obj in (await session.execute(query)).scalars()}


async def objects(
    session: AsyncSession, *, tenant_id: str, ids: Sequence[str]
) -> dict[str, ConfigObject]:
    """Objects of the tenant by id, in one query (no lock): the hot path reads several at once."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    query = select(ConfigObject).where(
        ConfigObject.tenant_id == tenant_id, ConfigObject.id.in_(wanted)
    )
    return {obj.id: obj for obj in (await session.execute(query)).scalars()}


async def changed(session: AsyncSession, *, tenant_id: str) -> None:
    """The tenant's configuration changed in this transaction: what processes keep of it is
    stale once this commits (configuration/cache.py)."""
    await session.execute(
        update(Tenant)
        .where(Tenant.id == tenant_id)
        .values(config_version=Tenant.config_version + 1)
        .execution_options(synchronize_session=False)
    )


def of_kind(found: dict[str, ConfigObject], object_id: str, kind: str) -> ConfigObject | None:
    """``found[object_id]`` if it is a ``kind``: what :func:`get` answers, from a batch."""
    obj = found.get(object_id)
    return obj if obj is not None and obj.kind == kind else None


def name_hash(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


async def name_taken(
    session: AsyncSession, *, tenant_id: str, kind: str, name: str, except_id: str | None
) -> bool:
    query = select(ConfigObject.id).where(
        ConfigObject.tenant_id == tenant_id,
        ConfigObject.kind == kind,
        ConfigObject.name_hash == name_hash(name),
    )
    if except_id is not None:
        query = query.where(ConfigObject.id != except_id)
    return (await session.execute(query.limit(1))).first() is not None


async def page(
    session: AsyncSession, *, tenant_id: str, kind: str, page: Page
) -> tuple[int, list[ConfigObject]]:
    where = (ConfigObject.tenant_id == tenant_id, ConfigObject.kind == kind)
    total = await session.scalar(select(func.count()).select_from(ConfigObject).where(*where))
    rows = await session.execute(
        select(ConfigObject)
        .where(*where)
        .order_by(ConfigObject.created, ConfigObject.id)
        .offset(page.offset)
        .limit(page.size)
    )
    return int(total or 0), list(rows.scalars())


async def first_referrer(session: AsyncSession, target_id: str) -> ConfigObject | None:
    query = (
        select(ConfigObject)
        .join(ConfigReference, ConfigReference.source_id == ConfigObject.id)
        .where(ConfigReference.target_id == target_id)
        .order_by(ConfigObject.created, ConfigObject.id)
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def referrers(
    session: AsyncSession, *, target_id: str, kind: str | None = None
) -> list[ConfigObject]:
    """The objects (of ``kind``, if given) that reference ``target_id``."""
    query = (
        select(ConfigObject)
        .join(ConfigReference, ConfigReference.source_id == ConfigObject.id)
        .where(ConfigReference.target_id == target_id)
        .order_by(ConfigObject.created, ConfigObject.id)
    )
    if kind is not None:
        query = query.where(ConfigObject.kind == kind)
    return list((await session.execute(query)).scalars().unique())


async def set_references(
    session: AsyncSession, *, source_id: str, targets: Sequence[tuple[str, str]]
) -> None:
    """Replace what ``source_id`` references with ``targets`` ((attribute, target id) pairs)."""
    await session.execute(delete(ConfigReference).where(ConfigReference.source_id == source_id))
    session.add_all(
        ConfigReference(source_id=source_id, attribute=attribute, target_id=target)
        for attribute, target in targets
    )


async def remove(session: AsyncSession, obj: ConfigObject) -> None:
    await session.delete(obj)
