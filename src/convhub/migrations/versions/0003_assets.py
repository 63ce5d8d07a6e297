"""Assets (attachments) and their stored bytes.

Why: attachments are uploaded once through a signed URL (POST /assets, then PUT the bytes) and
then named by id in messages (DECISIONS §9). The row holds what the API shows (name, size, the
sniffed content type), the upload's state, which makes the upload URL single use, and the first
message that carried the asset, which forbids deleting it. The bytes live in the store (local
disk or S3), not in the database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from convhub.core.database import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("channel_type", sa.String(length=255), nullable=False),
        sa.Column("sender_type", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("used_by", sa.String(length=36), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("upload_expires", UTCDateTime(), nullable=False),
        sa.Column("uploaded", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_assets_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
    )
    op.create_index(op.f("ix_assets_tenant_id"), "assets", ["tenant_id"])
    op.create_index("ix_assets_unfinished", "assets", ["state", "upload_expires"])


def downgrade() -> None:
    op.drop_index("ix_assets_unfinished", table_name="assets")
    op.drop_index(op.f("ix_assets_tenant_id"), table_name="assets")
    op.drop_table("assets")
