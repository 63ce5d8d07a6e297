"""Fixtures for the participant tests: the bot application a participant belongs to, a stored
participant, a snapshot of the tenant's participants (to prove that a refused request changed
nothing), and a check of eGain error answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import client_application, create, participant, role
from tests.resources import Snapshot, Stored, read_object, snapshot_of

PATH = "/participants"


async def read_participant(api: httpx.AsyncClient, participant_id: str) -> dict[str, Any]:
    return await read_object(api, PATH, participant_id)


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
    return snapshot_of(api, PATH, "participant")
