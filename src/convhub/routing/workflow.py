"""An orchestration read as a workflow: which application plays which part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from convhub.configuration import repository as config
from convhub.models import ConfigObject

AGENT_ROLES = ("custom_agent", "egain_agent")


@dataclass(frozen=True)
class Party:
    """A client application in one role: where its messages are delivered."""

    app_id: str
    role: str  # the role whose callback receives: customer, custom_bot, custom_agent, ...
    name: str  # the participant name shown to the others

    def as_client(self) -> dict[str, Any]:
        """The contract's ClientData for this party."""
        return {"type": self.role, "participant": {"name": self.name}}


@dataclass(frozen=True)
class Workflow:
    customer: Party | None
    bot: Party | None
    agent: Party | None
    bypass_va_minutes: float | None

    @property
    def starts_with_bot(self) -> bool:
        return self.bot is not None


def _role_of(app: dict[str, Any], wanted: tuple[str, ...]) -> str | None:
    names = [role["name"] for role in app.get("roles", [])]
    return next((name for name in wanted if name in names), None)


def references(orchestration: dict[str, Any]) -> list[str]:
    """The ids an orchestration's workflow reads: applications and the bot's participant."""
    apps = orchestration["applications"]
    ids: list[str] = []
    if "customerConfiguration" in apps:
        ids.append(apps["customerConfiguration"]["customer"]["id"])
    bot_config = apps.get("botConfiguration")
    agent_id: str | None = None
    if bot_config:
        first = bot_config["bots"][0]
        ids.append(first["participant"]["id"])
        agent_id = first.get("onEscalation", {}).get("agent", {}).get("id")
    if agent_id is None and "agentConfiguration" in apps:
        agent_id = apps["agentConfiguration"]["agents"][0]["id"]
    if agent_id is not None:
        ids.append(agent_id)
    return ids


def build(orchestration: dict[str, Any], found: dict[str, ConfigObject]) -> Workflow:
    """The workflow of ``orchestration``, with the objects it references already read
    (``found``, by id: see :func:`references`); a missing one leaves its part empty."""

    def app(app_id: str) -> dict[str, Any] | None:
        obj = config.of_kind(found, app_id, "clientApplication")
        return obj.body if obj else None

    apps = orchestration["applications"]
    customer = bot = agent = None
    if "customerConfiguration" in apps:
        app_id = apps["customerConfiguration"]["customer"]["id"]
        customer_app = app(app_id)
        if customer_app is not None:
            customer = Party(app_id, "customer", customer_app["name"])
    bot_config = apps.get("botConfiguration")
    agent_id: str | None = None
    if bot_config:
        first = bot_config["bots"][0]
        participant = config.of_kind(found, first["participant"]["id"], "participant")
        if participant is not None:
            bot = Party(first["id"], "custom_bot", participant.body["name"])
        agent_id = first.get("onEscalation", {}).get("agent", {}).get("id")
    if agent_id is None and "agentConfiguration" in apps:
        agent_id = apps["agentConfiguration"]["agents"][0]["id"]
    if agent_id is not None:
        agent_app = app(agent_id)
        role = _role_of(agent_app, AGENT_ROLES) if agent_app else None
        if agent_app is not None and role is not None:
            agent = Party(agent_id, role, agent_app["name"])
    bypass = bot_config.get("bypassVaDuration") if bot_config else None
    return Workflow(customer=customer, bot=bot, agent=agent, bypass_va_minutes=bypass)


async def load(session: AsyncSession, *, tenant_id: str, orchestration_id: str) -> Workflow | None:
    """The workflow of an orchestration, in two queries (the orchestration, then what it names)."""
    orchestration = await config.get(
        session, tenant_id=tenant_id, kind="orchestration", object_id=orchestration_id
    )
    if orchestration is None:
        return None
    found = await config.objects(session, tenant_id=tenant_id, ids=references(orchestration.body))
    return build(orchestration.body, found)
