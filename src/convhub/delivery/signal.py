"""Waking the delivery worker when there is new work, without polling delay.

In one process an asyncio event is enough (SQLite, or PostgreSQL with the worker inside
`convhub serve`). Across processes on PostgreSQL, a statement trigger on ``deliveries``
(migration 0008) runs ``pg_notify`` within every INSERT of deliveries: PostgreSQL delivers the
notification at commit, and a worker listening on the channel wakes up (see worker.py). A
transaction that makes deliveries due again without inserting any (a redelivery) notifies
explicitly with :func:`notify_other_processes`.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "convhub_outbox"


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        """Until set, or ``seconds`` at most."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        self._event.clear()


async def notify_other_processes(session: AsyncSession) -> None:
    """Within the writing transaction: tell listening workers of other processes at commit."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
