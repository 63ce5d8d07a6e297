"""Assets (attachments) and their stored bytes.

Placeholder reserved while this part is built on its own branch: it changes nothing yet.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
