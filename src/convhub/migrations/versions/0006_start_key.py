"""Conversations remember the message that started them.

Why: a client whose 202 was lost resends the message that started a conversation, with the same
messageId. That message names no conversation, so it was accepted again: a second conversation,
and the message delivered twice. ``start_key`` (the digest of the starting message, when it has a
messageId) lets a resend within CONVHUB_START_RESEND_WINDOW_SECONDS find the conversation it
started (DECISIONS §6, conversations/resends.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, no batch mode on SQLite: rebuilding the table would drop it, and with
    # foreign keys on, dropping it deletes every message (ON DELETE CASCADE).
    op.add_column("conversations", sa.Column("start_key", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_conversations_start", "conversations", ["tenant_id", "account_id", "start_key"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_start", table_name="conversations")
    op.drop_column("conversations", "start_key")
