"""``/health/live`` (the process answers) and ``/health/ready`` (it can do its work: database
reachable, schema at the newest migration, delivery worker running when this process runs one).

Outside the API base path and without a token, for load balancers and orchestrators.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import structlog
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Connection

from convhub import __version__
from convhub.core.dependencies import RuntimeDep
from convhub.core.migrations import alembic_config

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/health", include_in_schema=False)

# A check that takes longer than this counts as failed: a probe must answer quickly.
_TIMEOUT = 5.0


@cache
def _heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def _current(connection: Connection) -> frozenset[str]:
    connection.execute(text("SELECT 1"))
    return frozenset(MigrationContext.configure(connection).get_current_heads())


@router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "live", "version": __version__}


@router.get("/ready")
async def ready(request: Request, runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(_TIMEOUT), runtime.db.engine.connect() as connection:
            current = await connection.run_sync(_current)
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current == _heads() else "behind: run convhub migrate"
    except Exception as exc:  # any failure to reach the database is "not ready"
        log.warning("readiness_database_failed", error=type(exc).__name__)
        checks["database"] = f"unreachable: {type(exc).__name__}"
        checks["migrations"] = "unknown"
    task: asyncio.Task[None] | None = getattr(request.app.state, "worker_task", None)
    if task is None:
        checks["worker"] = "not run by this process (convhub worker)"
    else:
        checks["worker"] = "stopped" if task.done() else "ok"
    ok = all(v == "ok" or v.startswith("not run") for v in checks.values())
    body = {"status": "ready" if ok else "not ready", "version": __version__, "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)
