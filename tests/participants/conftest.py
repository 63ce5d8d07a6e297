"""Fixtures for the participant tests: the bot application a participant belongs to, a stored
participant, a snapshot of the tenant's participants (to prove that a refused request changed
nothing), and a check of eGain error answers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import client_application, create, participant, role

PATH = "/participants"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

Snapshot = Callable[[], Awaitable[list[dict[str, Any]]]]


@dataclass
class Stored:
    id: str
    sent: dict[str, Any]
    read: dict[str, Any]


async def read_participant(api: httpx.AsyncClient, participant_id: str) -> dict[str, Any]:
    answer = await api.get(f"{PATH}/{participant_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def refused(answer: httpx.Response, status: int, code: str, mentions: str = "") -> None:
    """The answer is the WSErrorCommon ``code``, and its developerMessage mentions ``mentions``."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == code, body
    assert mentions in body["developerMessage"], body


@pytest.fixture
async def application(api: httpx.AsyncClient) -> str:
    """A bot client application of ``api``'s tenant."""
    return await create(api, "/clientapplications", client_application(role("custom_bot")))


@pytest.fixture
async def existing(api: httpx.AsyncClient, application: str) -> Stored:
    """A participant of ``api``'s tenant, with intents and options."""
    sent = participant(
        application,
        description="Eva",
        options=[{"name": "language", "value": "en-US"}],
    )
    participant_id = await create(api, PATH, sent)
    return Stored(participant_id, sent, await read_participant(api, participant_id))


@pytest.fixture
def snapshot(api: httpx.AsyncClient) -> Snapshot:
    """Every participant of ``api``'s tenant, as the list operation shows them."""

    async def take() -> list[dict[str, Any]]:
        answer = await api.get(PATH, params={"$pagesize": "100"})
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["participant"]
        return items

    return take
