"""Session-wide: one migrated database and one real server on loopback. Per test: a fresh
tenant, so tests are isolated from each other the way tenants are (DECISIONS §1)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from convhub.core.database import Database
from convhub.core.security.crypto import SecretBox
from convhub.core.security.tokens import issue
from convhub.core.settings import Settings
from convhub.identity import repository as identity_repository
from convhub.identity import service as identity
from tests.databases import fresh_database
from tests.server import server_process

API_BASE = "/conversation/conversationmgr/v3"

ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each pass deselects what is not its own: the PostgreSQL pass the ``database_free`` tests
    (they use no database under test, a SQLite file of their own or none, so they would only
    run the same a second time), the SQLite pass the ``postgresql_only`` ones (what PostgreSQL
    alone has: LISTEN/NOTIFY)."""
    on_postgresql = os.environ.get("CONVHUB_TEST_DATABASE_URL", "").startswith("postgresql")
    marker = "database_free" if on_postgresql else "postgresql_only"
    other = [item for item in items if item.get_closest_marker(marker)]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if not item.get_closest_marker(marker)]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # No delivery worker here: the conversation tests start a hub of their own that delivers.
    return Settings(
        database_url=database_url,
        run_worker=False,
        asset_dir=str(tmp_path_factory.mktemp("assets")),
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def server_url(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    with server_process(settings, log_path=log) as url:
        yield url


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    """Direct access to the server's database, for checks the API cannot show (encryption)."""
    db = Database(settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.encryption_key.get_secret_value())


async def token_for(server_url: str, client_id: str, secret: str) -> str:
    async with httpx.AsyncClient(base_url=server_url) as http:
        answer = await http.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


async def _tenant_id(database: Database, name: str) -> str:
    async with database.session(write=False) as session:
        tenant = await identity_repository.tenant_by_name(session, name)
    assert tenant is not None
    return tenant.id


@pytest.fixture
async def make_client(
    server_url: str, settings: Settings, database: Database, box: SecretBox
) -> AsyncIterator[ClientFactory]:
    """Builds API clients: ``await make_client(permissions=[...], tenant=...)`` gives an
    ``httpx.AsyncClient`` on the API base path, authenticated as a new client of that tenant
    (a new tenant unless named)."""
    opened: list[httpx.AsyncClient] = []

    async def build(
        *, permissions: list[str] | None = None, tenant: str | None = None
    ) -> httpx.AsyncClient:
        async with database.session() as session:
            created = await identity.create_client(
                session,
                name="test",
                tenant=tenant or f"t-{uuid.uuid4().hex}",
                permissions=permissions,
                box=box,
            )
        # Signed here rather than fetched from /oauth2/token (tests/identity covers that): the
        # same token, one round trip less for each of the suite's hundreds of tests.
        token, _ = issue(
            settings=settings,
            client_id=created.client_id,
            tenant_id=await _tenant_id(database, created.tenant),
            permissions=created.permissions,
        )
        client = httpx.AsyncClient(
            base_url=server_url + API_BASE,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        client.tenant = created.tenant  # type: ignore[attr-defined]
        async with database.session(write=False) as session:
            client.signing_secret = await identity.signing_secret(  # type: ignore[attr-defined]
                session, tenant=created.tenant, box=box
            )
        opened.append(client)
        return client

    yield build
    for client in opened:
        await client.aclose()


@pytest.fixture
async def api(make_client: ClientFactory) -> httpx.AsyncClient:
    """A client with every permission, in a tenant of its own."""
    return await make_client()


@pytest.fixture
async def other_tenant(make_client: ClientFactory) -> httpx.AsyncClient:
    """A client with every permission in another tenant: must never see ``api``'s objects."""
    return await make_client()


@pytest.fixture
async def anonymous(server_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server_url + API_BASE, timeout=30) as client:
        yield client


@pytest.fixture
def data_dir() -> Path:
    return Path(__file__).parent / "data"
