"""sendMessage's transactions: a continued conversation's message without one, on PostgreSQL.

A message to a conversation in progress is nearly always "plain" (service._plain): the
conversation's changes, the message and its delivery, written by one statement. Under a
transaction that costs four round trips: BEGIN, the conversation read with its row locked
(FOR UPDATE, which orders the conversation's writers), the write, COMMIT. Without one it costs
two: the conversation read unlocked, with the version of its row (PostgreSQL's ``xmin``), then
one statement that writes only if the row is still that version (conversations/writes.py). A
single statement is atomic and, once it returns, durable: the 202 means what it meant.

If the conversation changed in between (another message to it, the worker, a timeout),
nothing was written and the message is accepted again from the read, a few times, then under
the lock. A message the one statement cannot write (a transcript, uploaded attachments, a
system message after it, several recipients) is accepted under a transaction from the start;
nothing was written before that is known (service._route decides it before any write). So is
every request of several messages (accepted together or not at all), every start of a
conversation, and everything on SQLite, whose one writer at a time is its own lock.
"""

from __future__ import annotations

from typing import Any

from convhub.assets.signing import AssetLinks
from convhub.conversations import service
from convhub.conversations.message_types import CONVERSATION_LESS
from convhub.core.database import utcnow
from convhub.core.runtime import Runtime

# Guarded attempts before the message is accepted under the conversation's lock: a conflict
# means another writer of the same conversation, which the lock then waits for.
GUARDED_ATTEMPTS = 3


async def send(
    runtime: Runtime, tenant_id: str, request: dict[str, Any], links: AssetLinks | None
) -> list[dict[str, Any]]:
    """Accept the request's messages (service.send): guarded when it can be, else under a
    transaction."""
    if runtime.db.autocommits and _guardable(request):
        for _ in range(GUARDED_ATTEMPTS):
            try:
                async with runtime.db.session(transaction=False) as session:
                    # A flush would write outside the guard: nothing may be written but the
                    # guarded statement (service._route).
                    session.sync_session.autoflush = False
                    ctx = service.SendContext(
                        session, tenant_id, runtime, utcnow(), links, guarded=True
                    )
                    return await service.send(ctx, request)
            except service.Conflict:
                continue
            except service.NeedsTransaction:
                break
    async with runtime.db.session() as session:
        ctx = service.SendContext(session, tenant_id, runtime, utcnow(), links)
        return await service.send(ctx, request)


def _guardable(request: dict[str, Any]) -> bool:
    """One message, to a conversation in progress."""
    messages = request["messages"]["message"]
    if len(messages) != 1:
        return False
    message = messages[0]
    return "id" in message["conversation"] and message["type"]["value"] not in CONVERSATION_LESS
