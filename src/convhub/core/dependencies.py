"""Request dependencies as named ``Annotated`` aliases: ``RuntimeDep``, ``ConfigManager``/
``ConfigReader`` (permission checks, built by :func:`require`) and ``NoQuery``.

There is no session dependency on purpose: a handler opens ``runtime.db.session()`` around its
service call, so the commit happens inside the handler, before the response is sent, and a
failing commit becomes a 5xx instead of a 2xx followed by a lost write."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.core.errors import Forbidden, Unauthorized, UnknownQueryParameter
from convhub.core.runtime import Runtime
from convhub.core.security import permissions as perms
from convhub.core.security.tokens import Caller, InvalidTokenError
from convhub.identity import repository, service
from convhub.ratelimits import guard as rate_limits

# How long a process trusts that an API client is not revoked (or an external tenant exists)
# before asking the database again: revocation takes effect within this many seconds everywhere.
_CALLER_CACHE_SECONDS = 5.0


# Every dependency here is ``async def``: FastAPI runs a plain ``def`` one in its thread pool,
# a thread hop per request.
async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class _CallerCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, str | None]] = {}

    def get(self, key: str) -> tuple[bool, str | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: str, value: str | None) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + _CALLER_CACHE_SECONDS, value)


def _cache(runtime: Runtime) -> _CallerCache:
    cache = getattr(runtime, "_caller_cache", None)
    if cache is None:
        cache = _CallerCache()
        runtime._caller_cache = cache  # type: ignore[attr-defined]
    return cache


async def _active_tenant(
    runtime: Runtime, key: str, lookup: Callable[[AsyncSession], Coroutine[Any, Any, str | None]]
) -> str | None:
    cache = _cache(runtime)
    hit, value = cache.get(key)
    if hit:
        return value
    async with runtime.db.session(write=False) as session:
        value = await lookup(session)
    cache.put(key, value)
    return value


async def get_caller(request: Request, runtime: Runtime) -> Caller:
    """The authenticated caller, or 401-104."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    token = token.strip()
    try:
        caller = runtime.tokens.caller(token)
        if caller is not None:
            client_id = caller.client_id

            async def client_tenant(session: AsyncSession) -> str | None:
                client = await service.active_client(session, client_id)
                return client.tenant_id if client else None

            if await _active_tenant(runtime, "client:" + client_id, client_tenant) != (
                caller.tenant_id
            ):
                raise Unauthorized()
            return caller
        if runtime.external is None:
            raise Unauthorized()
        claims = await runtime.external.verify(token)
    except InvalidTokenError as exc:
        raise Unauthorized() from exc

    async def tenant_id(session: AsyncSession) -> str | None:
        tenant = await repository.tenant_by_name(session, claims.tenant_name)
        return tenant.id if tenant else None

    found = await _active_tenant(runtime, "tenant:" + claims.tenant_name, tenant_id)
    if found is None:
        raise Unauthorized()
    return Caller(client_id=claims.subject, tenant_id=found, permissions=claims.permissions)


def require(*permissions: str) -> Callable[[Request], Coroutine[Any, Any, Caller]]:
    """A dependency: the authenticated caller (:func:`get_caller`), who must hold one of
    ``permissions`` (x-egain-app-permissions).

    One dependency, not a chain of them (caller, then runtime): FastAPI resolves each level of
    a chain per request, and this runs on every operation."""

    async def check(request: Request) -> Caller:
        runtime = runtime_of(request)
        caller = await get_caller(request, runtime)
        # Every operation: rate limits first (DECISIONS §10); it also notes the tenant for the log.
        await rate_limits.count(request, runtime, caller)
        if caller.permissions.isdisjoint(permissions):
            raise Forbidden()
        return caller

    return check


ConfigManager = Annotated[Caller, Depends(require(perms.MANAGE))]
ConfigReader = Annotated[Caller, Depends(require(perms.MANAGE, perms.READ))]


def refuse_query(request: Request) -> None:
    """400-101 for any query parameter: for an operation that takes none."""
    if request.query_params:
        raise UnknownQueryParameter(list(request.query_params))


async def _no_query(request: Request) -> None:
    refuse_query(request)


# An operation that takes no query parameter refuses any (400-101).
NoQuery = Annotated[None, Depends(_no_query)]
