"""The server-side request forgery guard of the callback client (DECISIONS §8).

A callback or token URL was checked when it was configured (:mod:`convhub.core.urls`), but a name
can resolve to anything at delivery time, and differently on each lookup (DNS rebinding). So the
check that counts happens here, in the network backend under the HTTP client: the host is resolved
once, every address it resolves to is checked, and the connection goes to a checked address, not
to the name (which would mean a second lookup). TLS still verifies the certificate for the name:
httpcore passes the URL's host as the SNI/verification name to ``start_tls``, and the ``Host``
header comes from the URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

from convhub.core.urls import IPAddress, private_address_kind


class AddressRefused(Exception):
    """The host resolves to an address this service must not call. Deliberately not an
    ``httpx`` error: it must never be mistaken for a network failure worth retrying."""


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
            for address in addresses:
                kind = private_address_kind(address)
                if kind is not None:
                    raise AddressRefused(f"{host} resolves to {address}, a {kind} address")
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
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(limit):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:  # socket.gaierror: no such name, resolver down
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from exc
        addresses: list[IPAddress] = []
        for family, *_, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
        return addresses

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
