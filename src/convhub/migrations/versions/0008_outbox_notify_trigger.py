"""PostgreSQL: inserting deliveries notifies the workers of other processes (a trigger).

Why: a worker in another process learns of new deliveries through ``LISTEN convhub_outbox``.
The accepting transaction used to send ``SELECT pg_notify(...)`` itself, a round trip of its own
on every sendMessage. A statement-level trigger on ``deliveries`` sends the same notification
within the INSERT, and every writer of deliveries gets it without remembering to. PostgreSQL
delivers it at commit (never for a rolled-back transaction) and folds duplicates within one
transaction into one. SQLite has one process per worker wake-up (an in-process event): nothing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION convhub_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('convhub_outbox', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER deliveries_notify AFTER INSERT ON deliveries "
        "FOR EACH STATEMENT EXECUTE FUNCTION convhub_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER deliveries_notify ON deliveries")
    op.execute("DROP FUNCTION convhub_outbox_notify()")
