from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from convhub.core.database import UTCDateTime, utcnow
from convhub.models.base import Base, JsonDocument, new_id


class ConfigObject(Base):
    """One configuration object (authentication, client application, participant, channel,
    orchestration or account), kept as the contract's JSON document.

    The six resources share one table: they have the same life cycle (create, replace, delete,
    list by creation order), the same per-tenant unique name, and reference one another, which
    ``config_references`` records with real foreign keys. The document is what the API shows;
    secrets inside it are encrypted by the owning domain before they get here.
    """

    __tablename__ = "config_objects"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "name_hash"),
        Index("ix_config_objects_listing", "tenant_id", "kind", "created", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32))
    # The per-tenant unique key: `name`, or `type` for channels (DECISIONS §2). Uniqueness is
    # enforced on its SHA-256, since an orchestration name has no length limit and a B-tree
    # index entry cannot hold a long one.
    name: Mapped[str] = mapped_column(Text)
    name_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConfigReference(Base):
    """``source`` names ``target`` at ``attribute``: a target cannot go while a source names it."""

    __tablename__ = "config_references"

    source_id: Mapped[str] = mapped_column(
        ForeignKey("config_objects.id", ondelete="CASCADE"), primary_key=True
    )
    attribute: Mapped[str] = mapped_column(String(255), primary_key=True)
    target_id: Mapped[str] = mapped_column(
        ForeignKey("config_objects.id", ondelete="RESTRICT"), index=True
    )
