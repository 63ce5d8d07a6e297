"""A ``limits`` storage kept in convhub's own database (table ``rate_limit_counters``).

Fixed windows only (what :class:`limits.aio.strategies.FixedWindowRateLimiter` needs): one row
per window key, incremented by an atomic upsert, so every process on a PostgreSQL database counts
the same requests without a server of its own (no Redis). Times are epoch seconds, as in
``limits``.
"""

from __future__ import annotations

import time
from typing import cast

from limits.aio.storage import Storage
from sqlalchemy import Table, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from convhub.core.database import Database, is_sqlite
from convhub.models import RateLimitCounter

_TABLE = cast(Table, RateLimitCounter.__table__)


class DatabaseStorage(Storage):
    # Not registered under a URI scheme: built with the process's Database, never from a URI.
    STORAGE_SCHEME = None

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self._insert = sqlite.insert if is_sqlite(db.url) else postgresql.insert

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        expired = _TABLE.c.expires_at <= now
        statement = (
            self._insert(_TABLE)
            .values(key=key, count=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[_TABLE.c.key],
                set_={
                    "count": case((expired, amount), else_=_TABLE.c.count + amount),
                    "expires_at": case((expired, now + expiry), else_=_TABLE.c.expires_at),
                },
            )
            .returning(_TABLE.c.count)
        )
        async with self.db.session() as session:
            return int((await session.execute(statement)).scalar_one())

    async def get(self, key: str) -> int:
        query = select(_TABLE.c.count).where(_TABLE.c.key == key, _TABLE.c.expires_at > time.time())
        async with self.db.session(write=False) as session:
            return int(await session.scalar(query) or 0)

    async def get_expiry(self, key: str) -> float:
        query = select(_TABLE.c.expires_at).where(_TABLE.c.key == key)
        async with self.db.session(write=False) as session:
            found = await session.scalar(query)
        return max(float(found or 0.0), time.time())

    async def check(self) -> bool:
        try:
            await self.get("check")
        except SQLAlchemyError:
            return False
        return True

    async def reset(self) -> int | None:
        async with self.db.session() as session:
            result = await session.execute(delete(_TABLE))
        return int(getattr(result, "rowcount", 0) or 0)

    async def clear(self, key: str) -> None:
        async with self.db.session() as session:
            await session.execute(delete(_TABLE).where(_TABLE.c.key == key))
