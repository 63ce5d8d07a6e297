"""A conversation as ``GET /conversations/{id}`` shows it (the contract's ResponseConversation)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from convhub.assets.attachments import Signer
from convhub.configuration.service import check_id
from convhub.conversations import repository
from convhub.conversations.callbacks import message_view
from convhub.core.errors import NotFound
from convhub.core.pagination import Page

# ResponseConversation's attributes: preferredAgent, for one, goes to agents in callbacks only.
_CONVERSATION_FIELDS = frozenset(
    {
        "account",
        "conversationContact",
        "lookupContact",
        "entryPoint",
        "customer",
        "clientInfo",
        "type",
        "parent",
    }
)


async def conversation_view(
    session: AsyncSession,
    *,
    tenant_id: str,
    conversation_id: str,
    page: Page,
    sign: Signer | None = None,
) -> dict[str, Any]:
    check_id(conversation_id)
    conversation = await repository.conversation(
        session, tenant_id=tenant_id, conversation_id=conversation_id
    )
    if conversation is None:
        raise NotFound(conversation_id)
    total, messages = await repository.messages_page(
        session, conversation_id=conversation.id, page=page
    )
    shown = {k: v for k, v in conversation.document.items() if k in _CONVERSATION_FIELDS}
    view: dict[str, Any] = {"id": conversation.id, **shown}
    page_info = {"count": total, "pagenum": page.number, "pagesize": page.size}
    view["messages"] = {"paginationInfo": page_info}
    if messages:  # ResponseMessages.message has minItems 1: a page past the end leaves it out
        view["messages"]["message"] = [
            _without_intent(message_view(m, with_status=True, sign=sign)) for m in messages
        ]
    return view


def _without_intent(view: dict[str, Any]) -> dict[str, Any]:
    view.pop("intent", None)  # ResponseMessage has no intent (callbacks have it)
    return view
