"""Uploaded assets in messages: ``attachments.attachment[{id}]`` is resolved to the asset's
name, content type and size when the message is accepted (so the channel's policy checks it
like any attachment, and the stored message shows it), and the asset is marked used (it can no
longer be deleted). Every view of the message adds a signed download ``url``
(:func:`with_urls`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from convhub.assets import repository
from convhub.core.errors import InvalidValue, ReferenceNotFound

# Signs a download URL for an asset id.
Signer = Callable[[str], str]


def _uploaded(attachment: dict[str, Any]) -> bool:
    return "url" not in attachment


async def resolve(
    session: AsyncSession, *, tenant_id: str, message: dict[str, Any], where: str
) -> dict[str, Any]:
    """``message`` with each uploaded attachment's ``{id}`` completed from its asset; an unknown
    id (or another tenant's) is 400-194, an asset without its bytes 400-152."""
    attachments = message.get("attachments", {}).get("attachment", [])
    ids = [a["id"] for a in attachments if _uploaded(a)]
    if not ids:
        return message
    assets = await repository.get_many(session, tenant_id=tenant_id, ids=ids)
    resolved = []
    for index, attachment in enumerate(attachments):
        if not _uploaded(attachment):
            resolved.append(attachment)
            continue
        at = f"{where}.attachments.attachment[{index}].id"
        asset = assets.get(attachment["id"])
        if asset is None:
            raise ReferenceNotFound(at, attachment["id"])
        if asset.state != "uploaded" or asset.content_type is None:
            raise InvalidValue(at, "the asset's content has not been uploaded")
        resolved.append(
            {
                "id": asset.id,
                "name": asset.name,
                "contentType": asset.content_type,
                "size": asset.size,
            }
        )
    return {**message, "attachments": {**message["attachments"], "attachment": resolved}}


def uploaded_ids(message: dict[str, Any]) -> list[str]:
    """The ids of ``message``'s uploaded attachments (those without a URL)."""
    attachments = message.get("attachments", {}).get("attachment", [])
    return [a["id"] for a in attachments if _uploaded(a)]


async def mark_used(session: AsyncSession, *, message: dict[str, Any], message_id: str) -> None:
    ids = uploaded_ids(message)
    if ids:
        await repository.mark_used(session, ids=ids, message_id=message_id)


def with_urls(attachments: dict[str, Any], sign: Signer | None) -> dict[str, Any]:
    """``attachments`` as delivered: each uploaded one with a signed download URL."""
    if sign is None:
        return attachments
    items = [
        {**a, "url": sign(a["id"])} if _uploaded(a) and "id" in a else a
        for a in attachments.get("attachment", [])
    ]
    return {**attachments, "attachment": items}
