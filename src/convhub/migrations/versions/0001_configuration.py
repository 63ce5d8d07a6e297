"""Tenants, API clients and the configuration objects with their references.

Why: the configuration API (authentications, client applications, participants, channels,
orchestrations, accounts) is the base everything else builds on. The six resources share
``config_objects``; ``config_references`` records which object names which, with foreign keys
so that no reference can dangle even if two requests race.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from convhub.core.database import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("signing_secret", sa.Text(), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("name", name=op.f("uq_tenants_name")),
    )
    op.create_table(
        "api_clients",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("permissions", JSON_DOC, nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("revoked", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_api_clients_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
    )
    op.create_index(op.f("ix_api_clients_tenant_id"), "api_clients", ["tenant_id"])
    op.create_table(
        "config_objects",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_hash", sa.String(64), nullable=False),
        sa.Column("body", JSON_DOC, nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("modified", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_config_objects_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_objects")),
        sa.UniqueConstraint(
            "tenant_id",
            "kind",
            "name_hash",
            name=op.f("uq_config_objects_tenant_id_kind_name_hash"),
        ),
    )
    op.create_index(
        "ix_config_objects_listing", "config_objects", ["tenant_id", "kind", "created", "id"]
    )
    op.create_table(
        "config_references",
        sa.Column("source_id", sa.String(36), nullable=False),
        sa.Column("attribute", sa.String(255), nullable=False),
        sa.Column("target_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["config_objects.id"],
            name=op.f("fk_config_references_source_id_config_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["config_objects.id"],
            name=op.f("fk_config_references_target_id_config_objects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("source_id", "attribute", name=op.f("pk_config_references")),
    )
    op.create_index(op.f("ix_config_references_target_id"), "config_references", ["target_id"])


def downgrade() -> None:
    op.drop_table("config_references")
    op.drop_table("config_objects")
    op.drop_table("api_clients")
    op.drop_table("tenants")
