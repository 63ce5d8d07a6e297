"""Fixtures for the channel tests: a stored channel, a snapshot of the tenant's channels (to
prove that a refused request changed nothing), and a check of eGain error answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.factories import channel, create
from tests.resources import Snapshot, Stored, read_object, refused, snapshot_of

Refused = Callable[..., None]


async def read_channel(api: httpx.AsyncClient, channel_id: str) -> dict[str, Any]:
    return await read_object(api, "/channels", channel_id)


@pytest.fixture
async def existing(api: httpx.AsyncClient) -> Stored:
    """A channel of ``api``'s tenant, from the factory's full example."""
    sent = channel()
    channel_id = await create(api, "/channels", sent)
    return Stored(channel_id, sent, await read_channel(api, channel_id))


@pytest.fixture
def snapshot(api: httpx.AsyncClient) -> Snapshot:
    """Every channel of ``api``'s tenant, as the list operation shows them."""

    return snapshot_of(api, "/channels", "channel")


@pytest.fixture(name="refused")
def refused_fixture() -> Refused:
    """``refused(answer, 400, "400-143", "icon")``: the answer is that WSErrorCommon, and its
    developerMessage mentions the attribute."""
    return refused
