"""The five operations every configuration resource has; rules come from its ResourceSpec.

Never commits: the request owns the transaction (core/dependencies.py). A problem raises an
ApiError before anything is flushed, so bad input changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from convhub.configuration import registry, repository
from convhub.configuration.spec import Body, Context, Reference, ResourceSpec
from convhub.core.database import utcnow
from convhub.core.errors import (
    ApiError,
    BreaksReferrer,
    DuplicateResource,
    ModifiedMismatch,
    NotFound,
    PatternMismatch,
    ReferenceNotFound,
    ResourceInUse,
)
from convhub.core.pagination import Page
from convhub.core.schemas import format_timestamp
from convhub.models import ConfigObject

_ID_LENGTH = 36
_ONE_MS = timedelta(milliseconds=1)


def check_id(object_id: str) -> None:
    """A path id of the wrong length is malformed (400-414), not merely unknown."""
    if len(object_id) != _ID_LENGTH:
        raise PatternMismatch("id", "a string of exactly 36 characters")


def _to_body(data: BaseModel) -> Body:
    # Defaults are stored explicitly (active: true, timeout: 240, ...) so a GET shows the values
    # in force; `modified` steers concurrency and is not part of the document.
    return data.model_dump(mode="json", exclude_none=True, exclude={"modified"})


async def _checked(
    ctx: Context, spec: ResourceSpec, body: Body, existing: ConfigObject | None
) -> Body:
    """References resolved (400-194), then the resource's own rules; returns the body to store."""
    refs = spec.references(body)
    found = await repository.get_many(
        ctx.session, tenant_id=ctx.tenant_id, ids=[ref.target_id for ref in refs]
    )
    for ref in refs:
        target = found.get(ref.target_id)
        if target is None or target.kind != ref.kind:
            raise ReferenceNotFound(ref.attribute, ref.target_id)

    async def resolve(ref: Reference) -> Body:
        target = found.get(ref.target_id)
        if target is None or target.kind != ref.kind:
            raise ReferenceNotFound(ref.attribute, ref.target_id)
        return target.body

    return await spec.rules(ctx, body, existing, resolve)


async def _ensure_unique(
    ctx: Context, spec: ResourceSpec, body: Body, except_id: str | None
) -> str:
    name = str(body[spec.key_attribute])
    taken = await repository.name_taken(
        ctx.session, tenant_id=ctx.tenant_id, kind=spec.kind, name=name, except_id=except_id
    )
    if taken:
        raise DuplicateResource(f"{spec.key_attribute}={name}")
    return name


async def _flush(ctx: Context, spec: ResourceSpec, name: str) -> None:
    try:
        await ctx.session.flush()
    except IntegrityError as exc:  # lost a race with a concurrent create of the same name
        raise DuplicateResource(f"{spec.key_attribute}={name}") from exc


async def create(ctx: Context, spec: ResourceSpec, data: BaseModel) -> str:
    body = await _checked(ctx, spec, _to_body(data), None)
    name = await _ensure_unique(ctx, spec, body, None)
    now = utcnow()
    obj = ConfigObject(
        tenant_id=ctx.tenant_id,
        kind=spec.kind,
        name=name,
        name_hash=repository.name_hash(name),
        body=body,
        created=now,
        modified=now,
    )
    ctx.session.add(obj)
    await _flush(ctx, spec, name)
    refs = [(ref.attribute, ref.target_id) for ref in spec.references(body)]
    await repository.set_references(ctx.session, source_id=obj.id, targets=refs)
    await repository.changed(ctx.session, tenant_id=ctx.tenant_id)
    await ctx.session.flush()
    return obj.id


async def _existing(
    ctx: Context, spec: ResourceSpec, object_id: str, *, lock: bool
) -> ConfigObject:
    check_id(object_id)
    obj = await repository.get(
        ctx.session, tenant_id=ctx.tenant_id, kind=spec.kind, object_id=object_id, for_update=lock
    )
    if obj is None:
        raise NotFound(object_id)
    return obj


def present(ctx: Context, spec: ResourceSpec, obj: ConfigObject) -> dict[str, Any]:
    """The object as the API shows it, ready for JSON. Stored bodies were validated on the way in
    and are not validated again on the way out (a page of channels holds up to 50 MB of icons)."""
    return {
        "id": obj.id,
        **spec.present(ctx, obj.body),
        "created": format_timestamp(obj.created),
        "modified": format_timestamp(obj.modified),
    }


async def read(ctx: Context, spec: ResourceSpec, object_id: str) -> dict[str, Any]:
    return present(ctx, spec, await _existing(ctx, spec, object_id, lock=False))


async def list_page(
    ctx: Context, spec: ResourceSpec, page: Page
) -> tuple[int, list[dict[str, Any]]]:
    total, rows = await repository.page(
        ctx.session, tenant_id=ctx.tenant_id, kind=spec.kind, page=page
    )
    return total, [present(ctx, spec, obj) for obj in rows]


async def replace(ctx: Context, spec: ResourceSpec, object_id: str, data: BaseModel) -> None:
    obj = await _existing(ctx, spec, object_id, lock=True)
    sent: datetime | None = getattr(data, "modified", None)
    if sent is not None and abs(sent - obj.modified) >= _ONE_MS:
        raise ModifiedMismatch(spec.label, object_id)
    body = await _checked(ctx, spec, _to_body(data), obj)
    name = await _ensure_unique(ctx, spec, body, object_id)
    obj.name, obj.name_hash, obj.body = name, repository.name_hash(name), body
    # Strictly later than before, so two writes in one millisecond still differ in `modified`.
    obj.modified = max(utcnow(), obj.modified + _ONE_MS)
    await _flush(ctx, spec, name)
    refs = [(ref.attribute, ref.target_id) for ref in spec.references(body)]
    await repository.set_references(ctx.session, source_id=obj.id, targets=refs)
    await ctx.session.flush()
    await _recheck_referrers(ctx, spec, obj)
    await repository.changed(ctx.session, tenant_id=ctx.tenant_id)


async def _recheck_referrers(ctx: Context, spec: ResourceSpec, obj: ConfigObject) -> None:
    """The objects naming ``obj`` were checked against its old version; check them again against
    the new one (an orchestration whose bot application lost its ``custom_bot`` role)."""
    for referrer in await repository.referrers(ctx.session, target_id=obj.id):
        try:
            await _checked(ctx, registry.spec_for(referrer.kind), referrer.body, referrer)
        except ApiError as problem:
            raise BreaksReferrer(
                spec.label,
                referrer=referrer.kind,
                referrer_id=referrer.id,
                problem=problem.developer_message,
            ) from problem


async def delete(ctx: Context, spec: ResourceSpec, object_id: str) -> None:
    obj = await _existing(ctx, spec, object_id, lock=True)
    referrer = await repository.first_referrer(ctx.session, obj.id)
    if referrer is not None:
        raise ResourceInUse(spec.label, obj.id, used_by=referrer.kind, user_id=referrer.id)
    await repository.remove(ctx.session, obj)
    try:
        await ctx.session.flush()
    except IntegrityError as exc:  # a referrer was added concurrently
        raise ResourceInUse(spec.label, obj.id, used_by="object", user_id="(concurrent)") from exc
    await repository.changed(ctx.session, tenant_id=ctx.tenant_id)
