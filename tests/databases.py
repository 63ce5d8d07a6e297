"""A fresh, migrated database per test session: SQLite by default, PostgreSQL when
``CONVHUB_TEST_DATABASE_URL`` names a server (the database is created and dropped here)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from convhub.core.migrations import upgrade


def _admin_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database="postgres")
    return parsed.render_as_string(hide_password=False)


async def _pg(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_admin_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(tmp_dir: Path) -> Iterator[str]:
    base = os.environ.get("CONVHUB_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        # On tmpfs when there is one: the suite commits thousands of times, and each commit is
        # an fsync (synchronous=FULL) that a memory-backed file makes cheap.
        shm = Path("/dev/shm")
        folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_dir
        url = f"sqlite+aiosqlite:///{folder / 'convhub-test.db'}"
        try:
            upgrade(url)
            yield url
        finally:
            if folder != tmp_dir:
                shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"convhub_test_{uuid.uuid4().hex[:12]}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_pg(base, f'CREATE DATABASE "{name}"'))
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_pg(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
