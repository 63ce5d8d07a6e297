"""A start sent again (DECISIONS §6; docs/deviations.md).

A client whose 202 was lost (a timeout, the API process killed after its commit) sends the
message again with the same ``messageId``. A message that names its conversation is found there
by its ``messageId``; a message that started a conversation names none, so a conversation keeps
the digest of the message that started it (``start_key``). A start is a resend when the same
message, ``messageId`` included, started a conversation of the same tenant and account less than
``CONVHUB_START_RESEND_WINDOW_SECONDS`` ago: it is answered with that conversation and message,
and nothing is stored or delivered again.

The digest covers the whole message, not only its ``messageId``, and only for the window: a
``messageId`` need only be unique within its conversation, and clients that number messages per
conversation start every conversation with the same one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from convhub.conversations import repository

if TYPE_CHECKING:
    from convhub.conversations.service import SendContext


@dataclass(frozen=True)
class Resent:
    """The ids an earlier start was answered with."""

    conversation_id: str
    message_id: str


def start_key(ctx: SendContext, message: dict[str, Any]) -> str | None:
    """What a start is recognised by when it is sent again; none without a ``messageId``."""
    if "messageId" not in message or ctx.runtime.settings.start_resend_window_seconds <= 0:
        return None
    canonical = json.dumps(message, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def earlier(ctx: SendContext, key: str | None, *, account_id: str) -> Resent | None:
    """The start that ``key`` sent within the window, if any.

    Identical starts arriving together must not both open a conversation. SQLite runs one write
    transaction at a time (BEGIN IMMEDIATE, core/database.py); on PostgreSQL the later one waits
    here on a lock held until the earlier one commits, then finds its conversation.
    """
    if key is None:
        return None
    if ctx.session.get_bind().dialect.name == "postgresql":
        await repository.lock_for_transaction(ctx.session, _lock_id(ctx.tenant_id, account_id, key))
    window = timedelta(seconds=ctx.runtime.settings.start_resend_window_seconds)
    found = await repository.started_by(
        ctx.session,
        tenant_id=ctx.tenant_id,
        account_id=account_id,
        start_key=key,
        since=ctx.now - window,
    )
    return None if found is None else Resent(*found)


def _lock_id(tenant_id: str, account_id: str, key: str) -> int:
    """A signed 64-bit number for ``pg_advisory_xact_lock``; a collision only makes two unrelated
    starts take turns."""
    digest = hashlib.sha256(f"{tenant_id}/{account_id}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
