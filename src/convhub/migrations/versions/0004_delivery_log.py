"""Delivery attempts log, callback health (circuit breakers, 410 deactivation), dead letters.

Why: an operator must see each attempt of a delivery (time, status, latency, error) and
re-deliver failed messages; a callback that keeps failing is held behind a circuit breaker whose
state every worker process must agree on, so it lives in the database, like the outbox. Dead
letters need no column: a delivery's ``state`` becomes ``dead``; the new index finds a
callback's deliveries (probes, deadline shifts, dead letters) without scanning the outbox.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from convhub.core.database import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started", UTCDateTime(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_delivery_attempts_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index("ix_delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])
    op.create_index(
        "ix_delivery_attempts_message",
        "delivery_attempts",
        ["tenant_id", "message_id", "started"],
    )
    op.create_table(
        "callback_health",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=True),
        sa.Column("next_probe_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("deactivated_at", UTCDateTime(), nullable=True),
        sa.Column("deactivated_app_modified", UTCDateTime(), nullable=True),
        sa.Column("deactivated_callback", sa.Text(), nullable=True),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_callback_health_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "application_id", "role", name=op.f("pk_callback_health")
        ),
    )
    op.create_index(
        "ix_deliveries_callback",
        "deliveries",
        ["tenant_id", "recipient_app_id", "recipient_role", "state"],
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_callback", table_name="deliveries")
    op.drop_table("callback_health")
    op.drop_table("delivery_attempts")
