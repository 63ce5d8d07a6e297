from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from convhub.core.database import UTCDateTime, utcnow
from convhub.models.base import Base, new_id


class Tenant(Base):
    """An isolated set of API clients and objects; ids of one are invisible to the others."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    # Standard Webhooks signing secret (whsec_...), encrypted with the settings' key.
    signing_secret: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Incremented by every change of the tenant's configuration objects, in the same
    # transaction: what a process read of them stays valid while this is unchanged.
    config_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
