"""All SQL for tenants and API clients."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.models import ApiClient, Tenant


async def tenant_by_name(session: AsyncSession, name: str) -> Tenant | None:
    result = await session.execute(select(Tenant).where(Tenant.name == name))
    return result.scalar_one_or_none()


async def tenant_by_id(session: AsyncSession, tenant_id: str) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def client_by_id(session: AsyncSession, client_id: str) -> ApiClient | None:
    return await session.get(ApiClient, client_id)


async def count_clients(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ApiClient)) or 0)


async def list_clients(session: AsyncSession) -> list[tuple[ApiClient, str]]:
    result = await session.execute(
        select(ApiClient, Tenant.name)
        .join(Tenant, Tenant.id == ApiClient.tenant_id)
        .order_by(ApiClient.created, ApiClient.id)
    )
    return [(client, tenant) for client, tenant in result]


def add(session: AsyncSession, obj: Tenant | ApiClient) -> None:
    session.add(obj)
