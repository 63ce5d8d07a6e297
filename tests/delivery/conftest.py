"""Fixtures for the delivery tests: loopback receivers, callback clients with and without the
private-address guard, and a resolver that knows a few made-up names."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from convhub.delivery.client import CallbackClient, CallbackTarget, Outcome
from tests.receivers import Receiver, Reply, receiving

SECRET = "whsec_" + base64.b64encode(b"convhub-test-signing-key-32bytes").decode()
BODY = b'{"message":{"id":"m-1","text":"hello \xc3\xa9"}}'


def target(
    url: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    authentication: dict[str, Any] | None = None,
    authentication_id: str | None = None,
) -> CallbackTarget:
    return CallbackTarget(url, headers or [], authentication, authentication_id)


async def deliver(
    client: CallbackClient, to: CallbackTarget, *, webhook_id: str = "msg-1", body: bytes = BODY
) -> Outcome:
    return await client.deliver(to, body=body, webhook_id=webhook_id, signing_secret=SECRET)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The callback receiver: answers 202 unless told otherwise."""
    with receiving() as callback:
        yield callback


@pytest.fixture
def token_endpoint() -> Iterator[Receiver]:
    """An OAuth2 token endpoint: answers ``{"accessToken": "token-1"}`` unless told otherwise."""
    with receiving() as endpoint:
        endpoint.default = Reply.json({"accessToken": "token-1"})
        yield endpoint


@pytest.fixture
async def client() -> AsyncIterator[CallbackClient]:
    """A client that may call loopback addresses (as tests and the demo configure it)."""
    callback_client = CallbackClient(allow_private=True)
    yield callback_client
    await callback_client.aclose()


@pytest.fixture
async def guarded_client() -> AsyncIterator[CallbackClient]:
    """A client as production configures it: private addresses refused."""
    callback_client = CallbackClient(allow_private=False)
    yield callback_client
    await callback_client.aclose()


@pytest.fixture
async def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Made-up names for the event loop's resolver: ``fake_dns["name.test"] = ["127.0.0.1"]``.
    Every lookup of a made-up name is counted in ``fake_dns["lookups"]`` (one entry per lookup)."""
    names: dict[str, list[str]] = {"lookups": []}
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in names:
            return await real(host, port, *args, **kwargs)
        names["lookups"].append(host)
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in names[host]
        ]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return names
