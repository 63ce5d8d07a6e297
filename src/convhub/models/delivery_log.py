from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from convhub.core.database import UTCDateTime, utcnow
from convhub.models.base import Base, new_id


class DeliveryAttempt(Base):
    """One call of a callback for a delivery, as an operator sees it (extension): when, what the
    receiver answered, how long it took, and why it failed. Never the message's content, never
    a secret: ``error`` is the delivery client's short reason, written without either."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_message", "tenant_id", "message_id", "started"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    message_id: Mapped[str] = mapped_column(String(36))
    # 1, 2, ... per delivery, across re-deliveries.
    number: Mapped[int] = mapped_column(Integer)
    started: Mapped[datetime] = mapped_column(UTCDateTime)
    # "delivered", "retry" or "failed" (the delivery client's verdict).
    result: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class CallbackHealth(Base):
    """The health of one callback (a role of a client application), shared by every worker
    process: its circuit breaker, and whether a ``410 Gone`` deactivated it.

    No row means healthy (closed, no failures). ``state`` is ``closed``, ``open`` (deliveries
    held until ``next_probe_at``) or ``half_open`` (one probe delivery in flight).
    """

    __tablename__ = "callback_health"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    application_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="closed")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_probe_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Set by a 410 answer; in force while the client application keeps this ``modified`` (a PUT
    # of the application clears it: the customer has fixed the callback, or chosen to keep it).
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deactivated_app_modified: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deactivated_callback: Mapped[str | None] = mapped_column(Text, default=None)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
