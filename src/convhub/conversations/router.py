"""``/conversations``: send messages (202) and read a conversation."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Body, Depends, Request, status
from fastapi.responses import JSONResponse

from convhub.assets.router import LinksDep, links_of
from convhub.conversations import reading, sending
from convhub.conversations.schemas import SendMessageRequest
from convhub.conversations.views import ConversationView, SendMessageResponse
from convhub.core.database import utcnow
from convhub.core.dependencies import RuntimeDep, refuse_query, require, runtime_of
from convhub.core.openapi import responses_for
from convhub.core.pagination import Page, read_page
from convhub.core.security import permissions as perms
from convhub.core.security.tokens import Caller
from convhub.delivery.redaction import redacted
from convhub.observability.metrics import MESSAGES_ACCEPTED
from convhub.observability.requests import note

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/conversations", tags=["Conversation"])

Sender = Annotated[Caller, Depends(require(perms.INTERACTION_MANAGE))]
Reader = Annotated[Caller, Depends(require(perms.INTERACTION_MANAGE, perms.INTERACTION_READ))]


async def _conversation_page(request: Request) -> Page:
    return read_page(request, max_size=200)


ConversationPage = Annotated[Page, Depends(_conversation_page)]


@router.post(
    "/messages",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="sendMessage",
    summary="Send message",
    responses=responses_for((202, 400, 401, 403, 500)),
    response_model=SendMessageResponse,
)
async def send_message(
    caller: Sender, body: Annotated[SendMessageRequest, Body()], http: Request
) -> JSONResponse:
    """Send 1 to 10 messages. A message without `conversation.id` starts a conversation on the
    account named by `conversation.account`. The 202 is sent once the messages and their
    deliveries are durably stored: every accepted message reaches its recipient's callback."""
    # NoQuery's check and the runtime, called: dependencies fewer on the busiest operation.
    refuse_query(http)
    runtime = runtime_of(http)
    request = body.model_dump(mode="json", exclude_none=True)
    # Workers of other processes learn of the deliveries from the INSERT's trigger (0008).
    accepted = await sending.send(runtime, caller.tenant_id, request, links_of(http, runtime))
    runtime.wakeup.set()
    _observe(http, request["messages"]["message"], accepted)
    return JSONResponse({"messages": {"message": accepted}}, status_code=202)


def _observe(http: Request, sent: list[dict[str, Any]], accepted: list[dict[str, Any]]) -> None:
    """Metrics and the request log's ids; the content only at debug level, never when the
    message asked for ``redact``."""
    for message in sent:
        MESSAGES_ACCEPTED.labels(message["type"]["value"]).inc()
    note(
        http.state,
        conversations=sorted({a["conversation"]["id"] for a in accepted if "conversation" in a}),
        messages=[a["id"] for a in accepted],
    )
    if not log.is_enabled_for(logging.DEBUG):
        return
    for message, answer in zip(sent, accepted, strict=True):
        content = message.get("content")
        if content is not None and content.get("redact") is True:
            content = redacted(content)
        log.debug("message_content", message=answer["id"], content=content)


@router.get(
    "/{id}",
    operation_id="fetchConversation",
    summary="Get conversation",
    responses=responses_for((200, 400, 401, 403, 404, 406, 500)),
    response_model=ConversationView,
)
async def get_conversation(
    id: str,
    caller: Reader,
    page: ConversationPage,
    runtime: RuntimeDep,
    links: LinksDep,
    http: Request,
) -> JSONResponse:
    """A conversation, in progress or completed, with its messages in order and each one's
    delivery status, paginated by `$pagenum` and `$pagesize` (at most 200)."""
    note(http.state, conversation=id)
    async with runtime.db.session(write=False) as session:
        now = utcnow()
        view = await reading.conversation_view(
            session,
            tenant_id=caller.tenant_id,
            conversation_id=id,
            page=page,
            sign=lambda asset_id: links.download_url(asset_id, now)[0],
        )
    return JSONResponse(view)
