"""API clients for servers with a database of their own (the ``make_client`` fixture serves the
session's server): a new client of a new tenant, its token signed with the server's settings."""

from __future__ import annotations

import uuid

import httpx

from convhub.core.database import Database
from convhub.core.security.crypto import SecretBox
from convhub.core.security.tokens import issue
from convhub.core.settings import Settings
from convhub.identity import repository
from convhub.identity import service as identity

API_BASE = "/conversation/conversationmgr/v3"


async def new_client(
    database: Database,
    settings: Settings,
    *,
    tenant: str | None = None,
    permissions: list[str] | None = None,
) -> tuple[str, str, str]:
    """(client id, client secret, bearer token) of a new client with ``permissions`` (all when
    not given)."""
    box = SecretBox(settings.encryption_key.get_secret_value())
    async with database.session() as session:
        created = await identity.create_client(
            session,
            name="test",
            tenant=tenant or f"t-{uuid.uuid4().hex}",
            permissions=permissions,
            box=box,
        )
        found = await repository.tenant_by_name(session, created.tenant)
    assert found is not None
    token, _ = issue(
        settings=settings,
        client_id=created.client_id,
        tenant_id=found.id,
        permissions=created.permissions,
    )
    return created.client_id, created.client_secret, token


async def client_of(
    settings: Settings, *, permissions: list[str] | None = None
) -> tuple[str, str, str]:
    """:func:`new_client` in a new tenant of ``settings``' database, opened for this call only."""
    database = Database(settings.database_url)
    try:
        return await new_client(database, settings, permissions=permissions)
    finally:
        await database.dispose()


def api_client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url + API_BASE, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
