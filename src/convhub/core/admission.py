"""Admission control: a bound on the requests in flight, the excess shed at once with
503-100 and ``Retry-After``.

Without it, an overloaded process accepts every connection and queues the work (event loop,
database pool) until every request is slow and some time out. Answering the excess early, before
anything is parsed or read from the database, keeps the accepted requests fast and costs the shed
ones a few microseconds; clients retry after ``Retry-After`` seconds (eGain clients do on 503).

A pure ASGI middleware, so that a shed request costs no body parsing and no routing.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from convhub.core.errors import ServiceBusy

# Never shed: probes must answer while the API is saturated (that is when they matter).
EXEMPT_PREFIXES = ("/health", "/metrics")


class AdmissionControl:
    def __init__(self, app: ASGIApp, *, max_in_flight: int, retry_after: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight  # 0: no limit
        self.retry_after = retry_after
        self.in_flight = 0
        self.shed = 0  # since start, for metrics and tests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.max_in_flight
            or scope["path"].startswith(EXEMPT_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            self.shed += 1
            await self._refuse(scope, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, scope: Scope, send: Send) -> None:
        wants_user_message = any(
            name == b"x-egain-error-message" and value.strip().lower() == b"yes"
            for name, value in scope.get("headers", [])
        )
        error = ServiceBusy(self.retry_after)
        body = json.dumps(error.body(with_user_message=wants_user_message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(self.retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
