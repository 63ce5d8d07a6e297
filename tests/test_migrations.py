"""One Alembic tree for both databases: it builds the schema the models describe, and unwinds."""

from __future__ import annotations

import asyncio

from alembic import command

from convhub.core.migrations import alembic_config, is_current, upgrade
from tests.databases import fresh_database


def test_models_and_migrations_agree(database_url):
    # Raises if autogenerate would find any difference between the models and the database.
    command.check(alembic_config(database_url))


def test_downgrade_to_nothing_and_back(tmp_path):
    with fresh_database(tmp_path) as url:
        assert asyncio.run(is_current(url))
        command.downgrade(alembic_config(url), "base")
        assert not asyncio.run(is_current(url))
        upgrade(url)
        assert asyncio.run(is_current(url))
