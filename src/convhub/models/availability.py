from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from convhub.core.database import UTCDateTime, utcnow
from convhub.models.base import Base


class EntryPointAvailability(Base):
    """Whether agents are available at an entry point (agent.available / agent.unavailable).
    No row means available (DECISIONS §7)."""

    __tablename__ = "entry_point_availability"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    entry_point_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    available: Mapped[bool] = mapped_column(Boolean)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationSent(Base):
    """When a failure notice was last mailed for a role of a client application: at most one an
    hour per role (DECISIONS §8), across every process."""

    __tablename__ = "notifications_sent"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True
    )
    application_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_sent: Mapped[datetime] = mapped_column(UTCDateTime)
