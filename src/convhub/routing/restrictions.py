"""A channel's inbound restrictions on customer messages (DECISIONS §7): text length and the
attachment policy. A refused message is a 400-152 naming the attribute; nothing is stored."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from convhub.core.errors import InvalidValue

_CONTENT_KINDS = ("text", "html", "json", "xml")


def check_inbound(channel: dict[str, Any], message: dict[str, Any], *, where: str) -> None:
    inbound = channel.get("restrictions", {}).get("inbound")
    if not inbound:
        return
    _check_length(inbound, message, where=where)
    _check_attachments(inbound, message, where=where)


def _check_length(inbound: dict[str, Any], message: dict[str, Any], *, where: str) -> None:
    limit = inbound.get("maxTextLength", 10000)
    content = message.get("content", {})
    for kind in _CONTENT_KINDS:
        if kind in content and len(content[kind]) > limit:
            raise InvalidValue(
                f"{where}.content.{kind}", f"longer than the channel allows ({limit} characters)"
            )


def _check_attachments(inbound: dict[str, Any], message: dict[str, Any], *, where: str) -> None:
    attachments = message.get("attachments", {}).get("attachment", [])
    if not attachments:
        return
    features = inbound.get("features")
    policy = inbound.get("attachmentPolicy", {})
    if (features is not None and "attachments" not in features) or not policy.get("enabled", True):
        raise InvalidValue(f"{where}.attachments", "the channel does not accept attachments")
    for index, attachment in enumerate(attachments):
        at = f"{where}.attachments.attachment[{index}]"
        if "size" in attachment and attachment["size"] > policy.get("maxSize", 10485760):
            raise InvalidValue(f"{at}.size", "larger than the channel allows")
        extension = _extension(attachment)
        listed = {e.lower().lstrip(".") for e in policy.get("extensions", [])}
        if policy.get("type") == "allow" and listed and extension not in listed:
            raise InvalidValue(f"{at}.name", f"the channel does not accept .{extension} files")
        if policy.get("type") == "block" and extension in listed:
            raise InvalidValue(f"{at}.name", f"the channel blocks .{extension} files")


def _extension(attachment: dict[str, Any]) -> str:
    name = attachment.get("name") or urlsplit(attachment.get("url", "")).path
    return PurePosixPath(name).suffix.lower().lstrip(".")
