"""PostgreSQL: the worker's LISTEN (delivery/signal.Listener) survives the server dropping its
connection (a restart, a failover): it listens again by itself, wakes the worker for what it
may have missed, and hears what comes after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from convhub.delivery.signal import CHANNEL, Listener, Wakeup
from tests.server import free_port

pytestmark = pytest.mark.postgresql_only


class CountingWakeup(Wakeup):
    """The worker's wakeup, counting how often it was set."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.changed = asyncio.Event()

    def set(self) -> None:
        self.count += 1
        self.changed.set()
        super().set()

    async def set_more_than(self, count: int) -> None:
        while self.count <= count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


@pytest.fixture
def dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


@pytest.fixture
async def admin(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(dsn)
    yield connection
    await connection.close()


@pytest.fixture
async def listener(dsn: str) -> AsyncIterator[tuple[Listener, CountingWakeup]]:
    wakeup = CountingWakeup()
    listening = Listener(dsn, wakeup)
    listening.start()
    await asyncio.wait_for(listening.listening.wait(), 10)
    yield listening, wakeup
    await listening.close()


async def _hears(admin: asyncpg.Connection, wakeup: CountingWakeup) -> None:
    before = wakeup.count
    await admin.execute("SELECT pg_notify($1, '')", CHANNEL)
    await wakeup.set_more_than(before)


async def test_it_hears_notifications(listener, admin):
    _listening, wakeup = listener
    await _hears(admin, wakeup)


async def test_a_dropped_connection_listens_again_and_wakes_the_worker(listener, admin):
    listening, wakeup = listener
    assert listening.connection is not None
    dropped = listening.connection.get_server_pid()
    before = wakeup.count
    await admin.execute("SELECT pg_terminate_backend($1)", dropped)

    async def listening_again() -> None:
        # Listening again wakes the worker (anything committed meanwhile went unheard).
        seen = before
        while not listening.listening.is_set() or listening.connection.get_server_pid() == dropped:
            await wakeup.set_more_than(seen)
            seen = wakeup.count

    await asyncio.wait_for(listening_again(), 10)
    assert wakeup.count > before
    # And it hears what comes next.
    await _hears(admin, wakeup)


async def test_it_keeps_trying_while_the_server_is_away_and_closes_cleanly():
    wakeup = CountingWakeup()
    away = Listener(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", wakeup)
    away.start()
    await asyncio.sleep(1.2)  # first attempts fail
    assert not away.listening.is_set()
    assert wakeup.count == 0
    await away.close()
