"""A conversation as ``GET /conversations/{id}`` shows it (the contract's ResponseConversation)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from convhub.configuration.service import check_id
from convhub.conversations import repository
from convhub.conversations.callbacks import message_view
from convhub.core.errors import NotFound
from convhub.core.pagination import Page


async def conversation_view(
    session: AsyncSession, *, tenant_id: str, conversation_id: str, page: Page
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
    view: dict[str, Any] = {"id": conversation.id, **conversation.document}
    view["messages"] = {
        "paginationInfo": {"count": total, "pagenum": page.number, "pagesize": page.size},
        "message": [message_view(m, with_status=True) for m in messages],
    }
    return view
