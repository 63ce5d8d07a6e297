from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from convhub.core.database import UTCDateTime, utcnow
from convhub.models.base import Base, new_id


class Delivery(Base):
    """The outbox: one callback to make, written in the same transaction as its message.

    Deliveries of one conversation to one recipient application form a lane, delivered in
    ``seq`` order: a delivery is due only when no earlier delivery of its lane is pending.
    A worker claims a due delivery by taking a lease (``lease_until``); a worker that dies
    leaves a lease that expires, and the delivery is claimed again, with the same webhook id.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        # The pending deliveries in the order the worker claims them (outbox._heads): partial,
        # as the next one; a statement that names ``state = 'pending'`` in its text uses them.
        Index(
            "ix_deliveries_pending_due",
            "next_attempt_at",
            "seq",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        # The pending deliveries of each lane, in order: whether a delivery is its lane's head
        # (outbox._LANE_HEAD) is one look into this index, whatever the lane has delivered.
        Index(
            "ix_deliveries_pending_lane",
            "conversation_id",
            "recipient_app_id",
            "seq",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_deliveries_callback", "tenant_id", "recipient_app_id", "recipient_role", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    recipient_app_id: Mapped[str] = mapped_column(String(36))
    recipient_role: Mapped[str] = mapped_column(String(32))
    # The CallbackRequestData body, encoded once when the message was accepted.
    payload: Mapped[str] = mapped_column(Text)
    # "pending", "sent", "failed" (refused by the receiver) or "dead" (dead-lettered: still
    # failing at the end of the retry window). An operator may re-deliver failed and dead ones.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
