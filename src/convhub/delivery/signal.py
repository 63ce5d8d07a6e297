"""Waking the delivery worker when there is new work, without polling delay.

In one process an asyncio event is enough (SQLite, or PostgreSQL with the worker inside
`convhub serve`). Across processes on PostgreSQL, a statement trigger on ``deliveries``
(migration 0008) runs ``pg_notify`` within every INSERT of deliveries: PostgreSQL delivers the
notification at commit, and a worker listening on the channel wakes up (see worker.py). A
transaction that makes deliveries due again without inserting any (a redelivery) notifies
explicitly with :func:`notify_other_processes`. The :class:`Listener` keeps that LISTEN open
across the server's restarts.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg  # type: ignore[import-untyped]
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "convhub_outbox"
# Seconds between attempts to listen again once the connection is lost: doubling from the first
# to the last (a restart takes seconds; an outage, the worker's idle look covers meanwhile).
_RECONNECT_FIRST = 0.5
_RECONNECT_LAST = 10.0
_CONNECT_TIMEOUT = 5.0

log = structlog.get_logger(__name__)


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


class Listener:
    """LISTEN on :data:`CHANNEL` from a connection of its own, and wake ``wakeup`` on each
    notification.

    When the server drops the connection (a restart, a failover, an idle timeout) the listener
    connects again, backing off, and wakes the worker once it listens again: what was committed
    while nobody listened was not heard. Meanwhile the worker still looks for due deliveries
    when idle, once a second, so nothing waits longer than that.
    """

    def __init__(self, dsn: str, wakeup: Wakeup) -> None:
        self._dsn = dsn
        self._wakeup = wakeup
        self._task: asyncio.Task[None] | None = None
        self.connection: asyncpg.Connection | None = None
        self.listening = asyncio.Event()  # set while a connection listens (for tests)

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep_listening())

    async def _keep_listening(self) -> None:
        delay = _RECONNECT_FIRST
        while True:
            lost = asyncio.Event()
            connection = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=_CONNECT_TIMEOUT)
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, lambda *_args: self._wakeup.set())
            except Exception as exc:  # the server is away: try again later
                log.warning("listen_failed", error=repr(exc), retry_in_s=delay)
                if connection is not None:
                    connection.terminate()
                await asyncio.sleep(delay)
                delay = min(2 * delay, _RECONNECT_LAST)
                continue
            self.connection, delay = connection, _RECONNECT_FIRST
            self.listening.set()
            self._wakeup.set()
            await lost.wait()
            self.listening.clear()
            log.warning("listen_lost")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.connection is not None and not self.connection.is_closed():
            await self.connection.close()


async def notify_other_processes(session: AsyncSession) -> None:
    """Within the writing transaction: tell listening workers of other processes at commit."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
