"""What a recipient application receives: the contract's ``CallbackRequestData``."""

from __future__ import annotations

from typing import Any

from convhub.assets.attachments import Signer, with_urls
from convhub.core.schemas import format_timestamp
from convhub.models import Conversation, Message

# Message attributes copied from the stored message into callbacks and transcripts.
_MESSAGE_FIELDS = (
    "messageId",
    "type",
    "parent",
    "content",
    "sender",
    "recipients",
    "intent",
    "attachments",
    "attributes",
)
# Not part of a transcript: signals, not conversation.
_NOT_IN_TRANSCRIPT = ("typing.", "status.", "agent.available", "agent.unavailable")


def message_view(
    message: Message, *, with_status: bool = False, sign: Signer | None = None
) -> dict[str, Any]:
    """A stored message as callbacks, transcripts and GET show it; ``sign`` gives uploaded
    attachments their download URL."""
    view: dict[str, Any] = {"id": message.id}
    view.update({k: message.document[k] for k in _MESSAGE_FIELDS if k in message.document})
    if "attachments" in view:
        view["attachments"] = with_urls(view["attachments"], sign)
    view["created"] = format_timestamp(message.created)
    if message.sent is not None:
        view["sent"] = format_timestamp(message.sent)
    if with_status and message.status is not None:
        # Retained (waiting for an agent) is still "in progress" to the contract's enum.
        view["status"] = "retryInProgress" if message.status == "retained" else message.status
    return view


def transcript(
    messages: list[Message], external: list[dict[str, Any]], *, sign: Signer | None = None
) -> dict[str, Any]:
    """The conversation so far, for the agent receiving an escalation (``CallbackInnerMessages``):
    messages a bot exchanged outside the hub first, then those exchanged here."""
    inner = [dict(m) for m in external]
    inner += [
        _inner(message, sign)
        for message in messages
        if not message.type.startswith(_NOT_IN_TRANSCRIPT) and message.type != "escalation.transfer"
    ]
    return {"message": inner[-200:]}


def _inner(message: Message, sign: Signer | None) -> dict[str, Any]:
    view = message_view(message, sign=sign)
    view.pop("intent", None)  # CallbackInnerMessage has no intent
    return view


def callback_body(
    *,
    conversation: Conversation,
    message: Message,
    metadata: dict[str, Any] | None,
    history: dict[str, Any] | None = None,
    sign: Signer | None = None,
) -> dict[str, Any]:
    conversation_view: dict[str, Any] = {"id": conversation.id, **conversation.document}
    if history is not None:
        conversation_view["messages"] = history
    body: dict[str, Any] = {
        "messages": {
            "message": [{**message_view(message, sign=sign), "conversation": conversation_view}]
        }
    }
    if metadata:
        body = {"metadata": metadata, **body}
    return body
