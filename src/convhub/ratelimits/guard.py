"""The rate-limit check every API operation passes (in its permission check).

With ``CONVHUB_RATE_PLAN`` set, an authenticated request counts against its API client's window
for the operation group (the SLA's rate) and its monthly quota (the SLA's quota); a request over
either is refused with 429, ``Retry-After`` (seconds until the window ends) and a
``WSErrorCommon`` body, code ``429-100`` (the contract names no 429 code: eGain's ``<status>-100``
pattern, as 404-101/409-100/500-100 go). A request refused by its rate does not use its quota.
Requests without a valid token are left to the operation (401): they identify no client.

:func:`count` also notes the caller's tenant and client on ``request.state`` for the request
log, with or without a plan.
"""

from __future__ import annotations

import math
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from limits.aio.strategies import FixedWindowRateLimiter

from convhub.core.error_handlers import render
from convhub.core.errors import ApiError
from convhub.core.runtime import Runtime
from convhub.core.security.tokens import Caller
from convhub.core.urls import API_BASE
from convhub.ratelimits import plans
from convhub.ratelimits.storage import DatabaseStorage


class RateLimited(ApiError):
    status = 429
    code = "429-100"

    def __init__(self, *, retry_after: int, kind: str) -> None:
        what = "monthly quota" if kind == "quota" else "rate limit"
        super().__init__(
            f"Too many requests: the API client's {what} is used up. "
            f"Retry after {retry_after} seconds.",
            details=[("retryAfter", str(retry_after))],
        )
        self.retry_after = retry_after


class Limiter:
    def __init__(self, plan: plans.Plan, storage: DatabaseStorage) -> None:
        self.plan = plan
        self.strategy = FixedWindowRateLimiter(storage)

    async def hit(self, caller: Caller, *, method: str, path: str) -> None:
        """Count the request, or raise :class:`RateLimited`."""
        who = (self.plan.name, caller.tenant_id, caller.client_id)
        for limit in self.plan.limits_for(method, path):
            if not await self.strategy.hit(limit.item, *who, limit.group, limit.method):
                stats = await self.strategy.get_window_stats(
                    limit.item, *who, limit.group, limit.method
                )
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                raise RateLimited(retry_after=wait, kind=limit.kind)


def _limiter(runtime: Runtime) -> Limiter | None:
    plan = runtime.settings.rate_plan
    if plan is None:
        return None
    limiter: Limiter | None = getattr(runtime, "_rate_limiter", None)
    if limiter is None:
        limiter = Limiter(plans.load(plan), DatabaseStorage(runtime.db))
        runtime._rate_limiter = limiter  # type: ignore[attr-defined]
    return limiter


async def count(request: Request, runtime: Runtime, caller: Caller) -> None:
    """Note the caller for the request log and, with a plan, count the request against its
    limits or raise :class:`RateLimited`. Called by every operation's permission check
    (core/dependencies.require), before it: a request over its limit is refused with 429
    whatever its permissions, as an application-wide dependency would."""
    request.state.tenant_id, request.state.client_id = caller.tenant_id, caller.client_id
    limiter = _limiter(runtime)
    if limiter is None or not request.url.path.startswith(API_BASE + "/"):
        return
    # The operation's path template below the API base (included routers keep their own).
    template = getattr(request.scope.get("route"), "path_format", "").removeprefix(API_BASE)
    await limiter.hit(caller, method=request.method, path=template)


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    response = render(request, exc)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(RateLimited, _rate_limited)
