"""Fixtures for the orchestration tests: the client applications and bot participant an
orchestration names, a stored orchestration, a snapshot of the tenant's orchestrations (to prove
that a refused request changed nothing), and a check of eGain error answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import client_application, create, orchestration, participant, role
from tests.resources import Snapshot, Stored, read_object, snapshot_of

PATH = "/orchestrations"
APPS = "/clientapplications"


@dataclass
class Parts:
    """Objects of one tenant that an orchestration can name, each with the role it needs."""

    customer_app: str
    bot_app: str
    agent_app: str
    bot_participant: str

    def with_bot(self, **overrides: Any) -> dict[str, Any]:
        return orchestration(
            bot_app=self.bot_app,
            bot_participant=self.bot_participant,
            agent_app=self.agent_app,
            customer_app=self.customer_app,
            **overrides,
        )

    def agent_only(self, **overrides: Any) -> dict[str, Any]:
        return orchestration(
            bot_app=None,
            bot_participant=None,
            agent_app=self.agent_app,
            customer_app=self.customer_app,
            **overrides,
        )


async def make_parts(api: httpx.AsyncClient) -> Parts:
    customer = await create(api, APPS, client_application(role("customer")))
    bot = await create(api, APPS, client_application(role("custom_bot")))
    agent = await create(api, APPS, client_application(role("custom_agent")))
    bot_participant = await create(api, "/participants", participant(bot))
    return Parts(customer, bot, agent, bot_participant)


async def read_orchestration(api: httpx.AsyncClient, orchestration_id: str) -> dict[str, Any]:
    return await read_object(api, PATH, orchestration_id)


@pytest.fixture
async def parts(api: httpx.AsyncClient) -> Parts:
    return await make_parts(api)


@pytest.fixture
async def existing(api: httpx.AsyncClient, parts: Parts) -> Stored:
    """An orchestration of ``api``'s tenant with a bot, its escalation agent and a customer."""
    sent = parts.with_bot()
    orchestration_id = await create(api, PATH, sent)
    return Stored(orchestration_id, sent, await read_orchestration(api, orchestration_id))


@pytest.fixture
def snapshot(api: httpx.AsyncClient) -> Snapshot:
    """Every orchestration of ``api``'s tenant, as the list operation shows them."""
    return snapshot_of(api, PATH, "orchestration")
