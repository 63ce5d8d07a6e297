"""The hub's own messages to customers (off hours, retained), in the channel's language."""

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
