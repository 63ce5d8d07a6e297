"""create_app(): routers, error handlers, lifespan. Engines start in the lifespan, not at import."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from convhub import __version__
from convhub.accounts.router import router as accounts_router
from convhub.assets import cleanup as asset_cleanup
from convhub.assets.router import router as assets_router
from convhub.authentications.router import router as authentications_router
from convhub.channels.router import router as channels_router
from convhub.client_applications.router import router as client_applications_router
from convhub.conversations.router import router as conversations_router
from convhub.core import error_handlers, logging, openapi
from convhub.core.admission import AdmissionControl
from convhub.core.runtime import Runtime
from convhub.core.settings import Settings, get_settings
from convhub.core.urls import API_BASE
from convhub.delivery.worker import DeliveryWorker
from convhub.identity.router import router as identity_router
from convhub.observability import health, metrics
from convhub.observability.requests import RequestObserver
from convhub.operations.router import router as operations_router
from convhub.orchestrations.router import router as orchestrations_router
from convhub.participants.router import router as participants_router
from convhub.ratelimits import guard as rate_limits

CONFIG_ROUTERS = (
    authentications_router,
    client_applications_router,
    participants_router,
    channels_router,
    orchestrations_router,
    accounts_router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.configure(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.build(settings)
        app.state.runtime = runtime
        worker = DeliveryWorker(runtime) if settings.run_worker else None
        task = asyncio.create_task(worker.run()) if worker else None
        app.state.worker_task = task  # /health/ready checks it runs
        cleanup = asset_cleanup.running(runtime) if settings.run_worker else None
        try:
            async with cleanup or contextlib.nullcontext():
                yield
        finally:
            if worker and task:
                await worker.stop()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.db.dispose()

    app = FastAPI(
        title="convhub: Conversation Manager API v3",
        version=__version__,
        description="A self-hostable conversation hub speaking eGain's Conversation Manager API.",
        lifespan=lifespan,
    )
    # Outermost, so that a shed request costs no parsing, routing or database work.
    app.add_middleware(
        AdmissionControl,
        max_in_flight=settings.max_in_flight,
        retry_after=settings.busy_retry_after_seconds,
    )
    error_handlers.install(app)
    rate_limits.install(app)
    openapi.install(app)
    app.add_middleware(RequestObserver)
    # First: the router tries routes in order, and sending messages is nearly all the traffic.
    app.include_router(conversations_router, prefix=API_BASE)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(identity_router)
    for router in CONFIG_ROUTERS:
        app.include_router(router, prefix=API_BASE)
    app.include_router(assets_router, prefix=API_BASE)
    app.include_router(operations_router)  # /convhub/v1: our own, outside eGain's paths
    return app
