"""Rules for tenants and API clients; never commits (the caller owns the transaction)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from convhub.core.database import utcnow
from convhub.core.security import permissions as perms
from convhub.core.security.crypto import (
    SecretBox,
    client_secret_matches,
    hash_client_secret,
    new_client_secret,
    new_signing_secret,
)
from convhub.identity import repository
from convhub.models import ApiClient, Tenant

DEFAULT_TENANT = "default"


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str
    tenant: str
    permissions: list[str]


class UnknownPermissionError(ValueError):
    pass


async def ensure_tenant(session: AsyncSession, *, name: str, box: SecretBox) -> Tenant:
    """The tenant called ``name``, created (with its webhook signing secret) if it is new."""
    tenant = await repository.tenant_by_name(session, name)
    if tenant is None:
        tenant = Tenant(
            id=str(uuid.uuid4()), name=name, signing_secret=box.seal(new_signing_secret())
        )
        repository.add(session, tenant)
        await session.flush()
    return tenant


async def create_client(
    session: AsyncSession,
    *,
    name: str,
    tenant: str,
    permissions: list[str] | None,
    box: SecretBox,
) -> NewClient:
    granted = list(permissions) if permissions else list(perms.ALL)
    unknown = sorted(set(granted) - set(perms.ALL))
    if unknown:
        raise UnknownPermissionError(", ".join(unknown))
    owner = await ensure_tenant(session, name=tenant, box=box)
    secret = new_client_secret()
    client = ApiClient(
        id=str(uuid.uuid4()),
        tenant_id=owner.id,
        name=name,
        secret_hash=hash_client_secret(secret),
        permissions=granted,
    )
    repository.add(session, client)
    await session.flush()
    return NewClient(client.id, secret, owner.name, granted)


async def revoke_client(session: AsyncSession, client_id: str) -> bool:
    client = await repository.client_by_id(session, client_id)
    if client is None or client.revoked is not None:
        return False
    client.revoked = utcnow()
    await session.flush()
    return True


async def authenticate(session: AsyncSession, *, client_id: str, secret: str) -> ApiClient | None:
    """The active client with this id and secret, else None."""
    client = await repository.client_by_id(session, client_id)
    if client is None or client.revoked is not None:
        return None
    return client if client_secret_matches(secret, client.secret_hash) else None


async def active_client(session: AsyncSession, client_id: str) -> ApiClient | None:
    client = await repository.client_by_id(session, client_id)
    return client if client is not None and client.revoked is None else None


async def signing_secret(session: AsyncSession, *, tenant: str, box: SecretBox) -> str | None:
    found = await repository.tenant_by_name(session, tenant)
    return box.open(found.signing_secret) if found else None
