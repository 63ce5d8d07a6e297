"""One log line and one metric per HTTP request, and the request id.

The request id comes from ``X-Request-Id`` when the caller sends a sane one, else it is made
here; it is echoed in the response and bound to every log line written while the request runs.
The line names the operation, the route template, status and duration, and, once known, the
tenant and API client (noted by the rate-limit dependency) and the conversations and messages the
handler noted in ``request.state.log``. Never headers or bodies: they hold tokens and content.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convhub.observability.metrics import REQUESTS

log = structlog.get_logger("convhub.requests")

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Probes and scrapes come every few seconds: their lines only at debug level.
_QUIET = ("/health/", "/metrics")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = bytes(value).decode("latin-1")
            if _SANE_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


def note(state: Any, **fields: Any) -> None:
    """Add ``fields`` to the request's log line (``state`` is ``request.state``)."""
    if not hasattr(state, "log"):
        state.log = {}
    state.log.update(fields)


class RequestObserver:
    """Pure ASGI middleware (no response buffering, nothing added to streaming)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        # bind/reset with tokens: structlog's bound_contextvars() copies the whole context to
        # find what it replaces (2 % of the service's CPU under load).
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, sending)
        finally:
            self._done(scope, status, time.perf_counter() - started)
            structlog.contextvars.reset_contextvars(**tokens)

    @staticmethod
    def _done(scope: Scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        operation = getattr(route, "operation_id", None) or getattr(route, "name", None)
        operation = operation or "other"
        REQUESTS.labels(operation, str(status)).inc()
        path = scope.get("path", "")
        state: dict[str, Any] = scope.get("state") or {}
        fields: dict[str, Any] = {
            "method": scope.get("method"),
            "route": getattr(route, "path_format", None),
            "operation": operation,
            "status": status,
            "duration_ms": round(elapsed * 1000, 1),
            "tenant": state.get("tenant_id"),
            "client": state.get("client_id"),
            **(state.get("log") or {}),
        }
        write = log.debug if path.startswith(_QUIET) else log.info
        write("request", **{k: v for k, v in fields.items() if v is not None})
