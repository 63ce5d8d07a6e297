from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from convhub.core.database import UTCDateTime, utcnow
from convhub.models.base import Base, JsonDocument, new_id


class Conversation(Base):
    """One conversation between a customer and, in turn, a bot and an agent (DECISIONS §6-§7).

    The account, orchestration and entry point are copied at start: a conversation keeps the
    workflow it began with even if the configuration is edited meanwhile.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_expiry", "status", "expires_at"),
        Index("ix_conversations_held", "tenant_id", "entry_point_id", "state"),
        Index("ix_conversations_contact", "tenant_id", "account_id", "contact_key", "escalated_at"),
        Index("ix_conversations_start", "tenant_id", "account_id", "start_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    account_id: Mapped[str] = mapped_column(String(36))
    orchestration_id: Mapped[str] = mapped_column(String(36))
    entry_point_id: Mapped[str] = mapped_column(String(255))
    # Who the customer talks to: "bot", "agent", or "held" (waiting for an agent to be available).
    state: Mapped[str] = mapped_column(String(16))
    # "in_progress" or "completed".
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    language: Mapped[str] = mapped_column(String(16))
    # The conversation as the callbacks and GET show it: account, entryPoint, customer, ...
    document: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    # The customer's contact address named by conversationContact (for bypassVaDuration).
    contact_key: Mapped[str | None] = mapped_column(String(255), default=None)
    # The digest of the message that started it, when that message had a messageId: a resend of
    # that message finds the conversation instead of opening another (conversations/resends.py).
    start_key: Mapped[str | None] = mapped_column(String(64), default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_seq: Mapped[int] = mapped_column(Integer, default=1)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
