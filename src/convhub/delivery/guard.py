"""The server-side request forgery guard of the callback client (DECISIONS §8).

A callback or token URL was checked when it was configured (:mod:`convhub.core.urls`), but a name
can resolve to anything at delivery time, and differently on each lookup (DNS rebinding). So the
check that counts happens here, under the HTTP clients: the host is resolved once, every address
it resolves to is checked, and the connection goes to a checked address, not to the name (which
would mean a second lookup). TLS still verifies the certificate for the name, and the ``Host``
header comes from the URL. Callbacks go through aiohttp (:class:`GuardedResolver`, the resolver of
its connector), OAuth2 token requests through httpx (:class:`GuardedBackend`, the network backend
under httpcore, which passes the URL's host as the SNI/verification name to ``start_tls``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult

from convhub.core.urls import IPAddress, private_address_kind


class AddressRefused(Exception):
    """The host resolves to an address this service must not call. Deliberately not an
    ``httpx`` error: it must never be mistaken for a network failure worth retrying."""


async def resolve(host: str, port: int, *, family: int = 0) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order; raises ``OSError``
    (``socket.gaierror``) when it resolves to none."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for family, *_, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check(host: str, addresses: list[IPAddress]) -> None:
    """Raise :class:`AddressRefused` if any address is one this service must not call."""
    for address in addresses:
        kind = private_address_kind(address)
        if kind is not None:
            raise AddressRefused(f"{host} resolves to {address}, a {kind} address")


class GuardedResolver(AbstractResolver):
    """The guard for aiohttp (the callback client): its connector connects to the addresses
    this answers, which are the ones checked, in the resolver's order; TLS and the ``Host``
    header still use the name. An IP literal never reaches a resolver (aiohttp connects to it
    as written): :func:`convhub.core.urls.check_callback_url` refuses a private one before
    any request is made (the client checks every URL again at delivery time)."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = await resolve(host, port, family=family)
        except OSError as exc:  # aiohttp reports it as a connection error, with this text
            raise OSError(exc.errno, f"cannot resolve {host}: {exc.strerror}") from exc
        if not self._allow_private:
            check(host, addresses)
        if not addresses:
            raise OSError(None, f"{host} resolves to no address")
        return [_result(host, address, port) for address in addresses]

    async def close(self) -> None:
        pass


def _result(host: str, address: IPAddress, port: int) -> ResolveResult:
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
    return ResolveResult(
        hostname=host, host=str(address), port=port, family=family, proto=0, flags=flags
    )


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks and connects to the checked address; everything else is ``inner``'s."""

    def __init__(
        self, *, allow_private: bool, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._allow_private = allow_private
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, limit=timeout)
        if not self._allow_private:
            check(host, addresses)
        error: Exception = httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:  # in the resolver's order, as a plain connect would
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error

    async def _resolve(self, host: str, port: int, limit: float | None) -> list[IPAddress]:
        try:
            async with asyncio.timeout(limit):
                return await resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:  # socket.gaierror: no such name, resolver down
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from exc

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(*, allow_private: bool, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go through :class:`GuardedBackend`."""
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    # httpx 0.28 offers no public way to give its transport a network backend (proposed in
    # https://github.com/encode/httpx/pull/3749), so the pool it built is replaced by one with the
    # same settings and our backend. httpx is pinned; tests/delivery/test_ssrf.py fails if this
    # stops taking effect.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(allow_private=allow_private),
    )
    return transport
