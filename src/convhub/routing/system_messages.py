"""The hub's own texts to customers (off hours, retained, refused attachments), in the
channel's language."""

from __future__ import annotations

from typing import Any

SYSTEM_SENDER = {"type": "egain_agent", "participant": {"type": "system", "name": "System"}}

BUILT_IN = {
    "msg_hub_off_hours": "Our agents are not available right now. Please try again later.",
    "msg_hub_retain_and_retry": (
        "Thank you for reaching out. We will respond to you at the earliest."
    ),
    "msg_hub_channel_msg_failed": (
        "Message could not be delivered. Please try again after some time."
    ),
    # The contract's example texts; {0} is the extension, or the size limit.
    "msg_hub_blocked_file_extension": "Attachment file type '{0}' is not allowed.",
    "msg_hub_attachment_size_exceeds_limit": (
        "File could not be sent. It exceeded the maximum limit of {0}"
    ),
}


def localized(channel: dict[str, Any], key: str, language: str) -> str:
    """The channel's text for ``key`` in ``language``, else in en-US, else the built-in one."""
    by_language = {
        entry["language"]: {p["name"]: p["value"] for p in entry["properties"]}
        for entry in channel.get("l10nProperties", [])
    }
    for lang in (language, "en-US"):
        text = by_language.get(lang, {}).get(key)
        if text:
            return str(text)
    return BUILT_IN[key]
