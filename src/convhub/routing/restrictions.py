"""A channel's restrictions on messages (DECISIONS §7): ``inbound`` for what customers send
(text length, attachment policy), ``outbound`` for what bots and agents send towards the
customer (attachment policy). A refused message is a 400-152 naming the attribute; nothing is
stored. A refused attachment's error carries, as ``userMessage``, the channel's localized text
(``msg_hub_blocked_file_extension``, ``msg_hub_attachment_size_exceeds_limit``)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from convhub.assets.errors import AttachmentRefused
from convhub.core.errors import InvalidValue
from convhub.routing import system_messages

_CONTENT_KINDS = ("text", "html", "json", "xml")
MAX_SIZE = 10485760


def restriction(channel: dict[str, Any], direction: str) -> dict[str, Any]:
    """``inbound`` or ``outbound`` restrictions of the channel ({} when none)."""
    found: dict[str, Any] = channel.get("restrictions", {}).get(direction) or {}
    return found


def direction_of(sender_type: str) -> str:
    """A customer's attachments come in; everyone else's go out to the customer."""
    return "inbound" if sender_type == "customer" else "outbound"


def check_message(
    channel: dict[str, Any], message: dict[str, Any], *, where: str, language: str
) -> None:
    direction = direction_of(message["sender"]["type"])
    limits = restriction(channel, direction)
    if direction == "inbound":
        _check_length(limits, message, where=where)
    attachments = message.get("attachments", {}).get("attachment", [])
    if not attachments:
        return
    refuse = _Refusal(channel, language)
    if not accepts_attachments(limits):
        name = attachments[0].get("name") or attachments[0].get("url", "")
        raise refuse.extension(f"{where}.attachments", _extension(name), disabled=True)
    for index, attachment in enumerate(attachments):
        name = attachment.get("name") or urlsplit(attachment.get("url", "")).path
        check_file(
            channel,
            limits,
            name=name,
            size=attachment.get("size"),
            at=f"{where}.attachments.attachment[{index}].",
            language=language,
        )


def accepts_attachments(limits: dict[str, Any]) -> bool:
    features = limits.get("features")
    if features is not None and "attachments" not in features:
        return False
    return bool(limits.get("attachmentPolicy", {}).get("enabled", True))


def check_file(
    channel: dict[str, Any],
    limits: dict[str, Any],
    *,
    name: str,
    size: int | None,
    at: str,
    language: str,
) -> None:
    """One file against the policy; attributes are named ``<at>name`` and ``<at>size``."""
    refuse = _Refusal(channel, language)
    if not accepts_attachments(limits):
        raise refuse.extension(f"{at}name", _extension(name), disabled=True)
    policy = limits.get("attachmentPolicy", {})
    limit = policy.get("maxSize", MAX_SIZE)
    if size is not None and size > limit:
        raise refuse.size(f"{at}size", limit)
    extension = _extension(name)
    listed = {e.lower().lstrip(".") for e in policy.get("extensions", [])}
    if policy.get("type") == "allow" and listed and extension not in listed:
        raise refuse.extension(f"{at}name", extension)
    if policy.get("type") == "block" and extension in listed:
        raise refuse.extension(f"{at}name", extension)


class _Refusal:
    def __init__(self, channel: dict[str, Any], language: str) -> None:
        self.channel, self.language = channel, language

    def _text(self, key: str, value: str) -> str:
        return system_messages.localized(self.channel, key, self.language).replace("{0}", value)

    def extension(self, attribute: str, extension: str, *, disabled: bool = False) -> InvalidValue:
        reason = (
            "the channel does not accept attachments"
            if disabled
            else f"the channel does not accept .{extension} files"
        )
        text = self._text("msg_hub_blocked_file_extension", extension)
        return AttachmentRefused(attribute, reason, user_message=text)

    def size(self, attribute: str, limit: int) -> InvalidValue:
        text = self._text("msg_hub_attachment_size_exceeds_limit", _human_size(limit))
        return AttachmentRefused(
            attribute, f"larger than the channel allows ({limit} bytes)", user_message=text
        )


def _check_length(inbound: dict[str, Any], message: dict[str, Any], *, where: str) -> None:
    limit = inbound.get("maxTextLength", 10000)
    content = message.get("content", {})
    for kind in _CONTENT_KINDS:
        if kind in content and len(content[kind]) > limit:
            raise InvalidValue(
                f"{where}.content.{kind}", f"longer than the channel allows ({limit} characters)"
            )


def _extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


def _human_size(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
