"""Fixtures for the client application tests: a stored application (with an authentication on
one role), a snapshot of the tenant's applications (to prove that a refused request changed
nothing), a check of eGain error answers, and a server that allows private callbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from convhub.core.settings import Settings
from tests.conftest import API_BASE, ClientFactory
from tests.factories import basic_authentication, client_application, create, role
from tests.resources import Snapshot, Stored, read_object, snapshot_of
from tests.server import running_server

PATH = "/clientapplications"


async def read_application(api: httpx.AsyncClient, app_id: str) -> dict[str, Any]:
    return await read_object(api, PATH, app_id)


@pytest.fixture
async def authentication(api: httpx.AsyncClient) -> str:
    return await create(api, "/authentications", basic_authentication())


@pytest.fixture
async def existing(api: httpx.AsyncClient, authentication: str) -> Stored:
    """A customer + bot application of ``api``'s tenant; the customer role is authenticated."""
    sent = client_application(
        role("customer", authentication_id=authentication), role("custom_bot")
    )
    app_id = await create(api, PATH, sent)
    return Stored(app_id, sent, await read_application(api, app_id))


@pytest.fixture
def snapshot(api: httpx.AsyncClient) -> Snapshot:
    """Every client application of ``api``'s tenant, as the list operation shows them."""
    return snapshot_of(api, PATH, "clientApplication")


@pytest.fixture(scope="module")
def permissive_server_url(settings: Settings) -> Iterator[str]:
    """A second server on the same database, configured with ``allow_private_callbacks``."""
    with running_server(settings.model_copy(update={"allow_private_callbacks": True})) as url:
        yield url


@pytest.fixture
async def permissive_api(
    make_client: ClientFactory, permissive_server_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Every permission, a tenant of its own, on the server that allows private callbacks."""
    token_holder = await make_client()
    async with httpx.AsyncClient(
        base_url=permissive_server_url + API_BASE, headers=token_holder.headers, timeout=30
    ) as client:
        yield client
