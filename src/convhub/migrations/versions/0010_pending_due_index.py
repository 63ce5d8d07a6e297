"""The due index holds pending deliveries only, in claim order; the full lane index goes.

Why: every statement that reads deliveries by state or by lane now says ``state = 'pending'``
in its text (the claim, the look for the next due time, the recording's successor test;
outbox.PENDING), so a partial index serves each of them. ``ix_deliveries_due`` held every
delivery ever made, and ``ix_deliveries_lane`` duplicated ``ix_deliveries_pending_lane`` for
the delivered history too: each delivery's insert wrote both, and each delivery sent (a change
of an indexed column, so a new row version) wrote an entry into each again, left for vacuum to
remove. The new due index gets an entry when a delivery is written (or made pending again by an
operator) and none when it is sent; ordered as the claim takes them (oldest due first, then by
``seq``), so the claim reads the first few entries instead of sorting.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_index("ix_deliveries_lane", table_name="deliveries")
    op.create_index(
        "ix_deliveries_pending_due",
        "deliveries",
        ["next_attempt_at", "seq"],
        postgresql_where=sa.text("state = 'pending'"),
        sqlite_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_pending_due", table_name="deliveries")
    op.create_index(
        "ix_deliveries_lane", "deliveries", ["conversation_id", "recipient_app_id", "seq"]
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
