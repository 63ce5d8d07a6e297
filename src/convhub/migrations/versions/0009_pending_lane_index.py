"""An index of the pending deliveries of each lane (partial: ``state = 'pending'``).

Why: a delivery is due only at the head of its lane (no earlier pending delivery of the same
conversation and recipient application). Answering that with one GROUP BY over every pending
row cost a claim 31 ms with 6,000 deliveries queued, and more as the queue grew: the worker
spent its time choosing instead of delivering. With this index, "no earlier pending delivery" is
one probe per candidate, which reads only the lane's pending entries (never the delivered rows
that made the old per-row probe slow, see 0002 and outbox._LANE_HEAD).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_pending_lane",
        "deliveries",
        ["conversation_id", "recipient_app_id", "seq"],
        postgresql_where=sa.text("state = 'pending'"),
        sqlite_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_pending_lane", table_name="deliveries")
