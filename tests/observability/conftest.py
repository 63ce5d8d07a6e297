"""A delivering hub on a database of its own, logging at debug level to a file the tests read:
its gauges (queue depth, held conversations) count only what these tests did."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from convhub.core.database import Database
from convhub.core.settings import Settings
from tests.apiclients import api_client, new_client
from tests.conversations.conftest import MINUTE
from tests.databases import fresh_database
from tests.receivers import Receiver, receiving
from tests.server import server_process


@dataclass
class Hub:
    url: str
    log: Path
    settings: Settings


@pytest.fixture(scope="session")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with fresh_database(tmp_path_factory.mktemp("observed-db")) as url:
        settings = Settings(  # type: ignore[call-arg]
            database_url=url,
            run_worker=True,
            allow_private_callbacks=True,
            minute_seconds=MINUTE,
            retry_scale=0.001,
            # Failures come fast at this retry scale: a breaker they open probes again soon.
            breaker_probe_seconds=0.5,
            log_level="DEBUG",
            _env_file=None,
        )
        log = tmp_path_factory.mktemp("observed") / "hub.log"
        with server_process(settings, log_path=log) as hub_url:
            yield Hub(hub_url, log, settings)


@pytest.fixture(scope="session")
async def observed_db(observed: Hub) -> AsyncIterator[Database]:
    db = Database(observed.settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def observed_api(observed: Hub, observed_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new tenant on the observed hub."""
    _, _, token = await new_client(observed_db, observed.settings)
    async with api_client(observed.url, token) as client:
        client.token = token  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver, Receiver]]:
    with receiving() as customer, receiving() as bot, receiving() as agent:
        yield customer, bot, agent
