"""``content.redact``: "the hub redacts the content of the message after processing is done".
Once every delivery of such a message has finished (sent or failed), its content is replaced,
in the message and in the stored callback bodies alike."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.models import Delivery, Message

REDACTED = "[redacted]"


def redacted(content: dict[str, Any]) -> dict[str, Any]:
    return {kind: (True if kind == "redact" else REDACTED) for kind in content}


async def redact_when_done(session: AsyncSession, message: Message) -> None:
    content = message.document.get("content")
    if not content or content.get("redact") is not True or content.get("text") == REDACTED:
        return
    query = select(Delivery).where(Delivery.message_id == message.id)
    deliveries = list((await session.execute(query)).scalars())
    if any(d.state == "pending" for d in deliveries):
        return
    message.document = {**message.document, "content": redacted(content)}
    for delivery in deliveries:
        body = json.loads(delivery.payload)
        for item in body["messages"]["message"]:
            item["content"] = redacted(item["content"])
        delivery.payload = json.dumps(body, separators=(",", ":"))
