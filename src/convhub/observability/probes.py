"""``convhub worker --port``: the worker's own ``/health/*`` and ``/metrics`` (its delivery
counters live in its process), on a small app beside the delivery loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from convhub.core import error_handlers
from convhub.core.runtime import Runtime
from convhub.observability import health, metrics
from convhub.observability.requests import RequestObserver


def probe_app(runtime: Runtime, worker_task: asyncio.Task[None]) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.state.worker_task = worker_task
    error_handlers.install(app)
    app.add_middleware(RequestObserver)
    app.include_router(health.router)
    app.include_router(metrics.router)
    return app


class ProbeServer(uvicorn.Server):
    """Leaves SIGINT/SIGTERM to the worker, which stops this server with the delivery loop."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
