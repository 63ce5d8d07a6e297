"""Agent availability per entry point (agent.available / agent.unavailable), shared by every
process through the database. An entry point nobody has reported on is available."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.core.database import utcnow
from convhub.models import EntryPointAvailability


async def is_available(session: AsyncSession, *, tenant_id: str, entry_point_id: str) -> bool:
    query = select(EntryPointAvailability.available).where(
        EntryPointAvailability.tenant_id == tenant_id,
        EntryPointAvailability.entry_point_id == entry_point_id,
    )
    found = (await session.execute(query)).scalar()
    return True if found is None else bool(found)


async def set_available(
    session: AsyncSession, *, tenant_id: str, entry_point_id: str, available: bool
) -> None:
    row = await session.get(EntryPointAvailability, (tenant_id, entry_point_id))
    if row is None:
        session.add(
            EntryPointAvailability(
                tenant_id=tenant_id,
                entry_point_id=entry_point_id,
                available=available,
                modified=utcnow(),
            )
        )
    else:
        row.available, row.modified = available, utcnow()
    await session.flush()
