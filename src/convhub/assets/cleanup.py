"""Removes assets whose upload never finished once their upload URL has expired, with their
bytes (an upload cut short by a crash leaves a ``.part`` file or unfinished S3 parts).

Runs beside the delivery worker (``convhub serve`` with ``run_worker``, and ``convhub worker``);
several processes may run it at once: each removal re-checks the asset under its own delete.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog

from convhub.assets import repository
from convhub.assets.content import remove_bytes
from convhub.core.database import utcnow
from convhub.core.runtime import Runtime

log = structlog.get_logger(__name__)


async def sweep(runtime: Runtime) -> int:
    """One pass: how many unfinished assets were removed."""
    async with runtime.db.session(write=False) as session:
        expired = await repository.unfinished_before(session, now=utcnow())
    removed = 0
    for asset in expired:
        async with runtime.db.session() as session:
            gone = await repository.remove(session, asset_id=asset.id, unfinished_only=True)
        if gone:
            await remove_bytes(runtime, asset.storage_key)
            removed += 1
    return removed


async def run(runtime: Runtime) -> None:
    interval = runtime.settings.asset_cleanup_interval_seconds
    while True:
        try:
            removed = await sweep(runtime)
            if removed:
                log.info("unfinished_assets_removed", count=removed)
        except Exception as exc:  # a database hiccup must not end the task for good
            log.warning("asset_cleanup_failed", error=type(exc).__name__)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def running(runtime: Runtime) -> AsyncIterator[None]:
    """The cleanup task, for as long as the block runs."""
    task = asyncio.create_task(run(runtime))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
