"""Alembic migrations: one tree for SQLite and PostgreSQL. Run with ``convhub migrate``."""
