"""Fixtures for the channel tests: a stored channel, a snapshot of the tenant's channels (to
prove that a refused request changed nothing), and a check of eGain error answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import channel, create

Snapshot = Callable[[], Awaitable[list[dict[str, Any]]]]
Refused = Callable[..., None]


@dataclass
class Stored:
    id: str
    sent: dict[str, Any]
    read: dict[str, Any]


async def read_channel(api: httpx.AsyncClient, channel_id: str) -> dict[str, Any]:
    answer = await api.get(f"/channels/{channel_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture
async def existing(api: httpx.AsyncClient) -> Stored:
    """A channel of ``api``'s tenant, from the factory's full example."""
    sent = channel()
    channel_id = await create(api, "/channels", sent)
    return Stored(channel_id, sent, await read_channel(api, channel_id))


@pytest.fixture
def snapshot(api: httpx.AsyncClient) -> Snapshot:
    """Every channel of ``api``'s tenant, as the list operation shows them."""

    async def take() -> list[dict[str, Any]]:
        answer = await api.get("/channels", params={"$pagesize": "100"})
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["channel"]
        return items

    return take


def _refused(answer: httpx.Response, status: int, code: str, mentions: str = "") -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == code, body
    assert mentions in body["developerMessage"], body


@pytest.fixture
def refused() -> Refused:
    """``refused(answer, 400, "400-143", "icon")``: the answer is that WSErrorCommon, and its
    developerMessage mentions the attribute."""
    return _refused
