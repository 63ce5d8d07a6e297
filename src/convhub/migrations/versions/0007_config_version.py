"""Tenants count the changes of their configuration.

Why: every message reads the configuration of its conversation (orchestration, account,
channel, applications, participant). A process keeps what it read, keyed by the tenant's
``config_version``, which every create, replace and delete of a configuration object increments
in its own transaction: the message's first query reads the version with the conversation, and
the configuration is read again only when it changed (configuration/cache.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (see 0006): a rebuilt tenants table would cascade.
    op.add_column(
        "tenants",
        sa.Column("config_version", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("tenants", "config_version")
