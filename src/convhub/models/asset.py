from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from convhub.core.database import UTCDateTime, utcnow
from convhub.models.base import Base, new_id


class Asset(Base):
    """An attachment uploaded through a signed URL (DECISIONS §9); its bytes live in the store
    (local disk or S3) under ``storage_key``.

    ``state`` is the upload's life cycle: ``pending`` (created, URL handed out), ``uploading``
    (one upload holds the URL: a second one is refused), ``uploaded`` (bytes stored and checked;
    the URL is spent). Unfinished assets past ``upload_expires`` are removed by the cleanup task.
    """

    __tablename__ = "assets"
    __table_args__ = (Index("ix_assets_unfinished", "state", "upload_expires"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    channel_type: Mapped[str] = mapped_column(String(255))
    sender_type: Mapped[str] = mapped_column(String(32))
    # Sniffed from the bytes on upload.
    content_type: Mapped[str | None] = mapped_column(String(255), default=None)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    storage_key: Mapped[str] = mapped_column(String(255))
    # The first message that carried it: from then on the asset cannot be deleted.
    used_by: Mapped[str | None] = mapped_column(String(36), default=None)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    upload_expires: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
