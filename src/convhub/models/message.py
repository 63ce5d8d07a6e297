from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from convhub.core.database import UTCDateTime, utcnow
from convhub.models.base import Base, JsonDocument, new_id


class Message(Base):
    """A message accepted into a conversation, in the order accepted (``seq``)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        # Idempotency (DECISIONS §6): one messageId per conversation. NULLs never collide.
        UniqueConstraint("conversation_id", "message_id"),
        Index("ix_messages_tenant", "tenant_id", "created"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    type: Mapped[str] = mapped_column(String(255))
    sender_type: Mapped[str] = mapped_column(String(32))
    # The message as received and as delivered: type, content, sender, recipients, ...
    document: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    # Delivery status as GET shows it: None (nothing to deliver), "retryInProgress", "sent",
    # "failed", or "held" (retained until an agent is available).
    status: Mapped[str | None] = mapped_column(String(20), default=None)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
