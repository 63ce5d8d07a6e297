"""An orchestration read as a workflow: which application plays which part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from convhub.configuration import repository as config

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


async def _app(session: AsyncSession, tenant_id: str, app_id: str) -> dict[str, Any] | None:
    obj = await config.get(session, tenant_id=tenant_id, kind="clientApplication", object_id=app_id)
    return obj.body if obj else None


async def load(session: AsyncSession, *, tenant_id: str, orchestration_id: str) -> Workflow | None:
    orchestration = await config.get(
        session, tenant_id=tenant_id, kind="orchestration", object_id=orchestration_id
    )
    if orchestration is None:
        return None
    apps = orchestration.body["applications"]
    customer = bot = agent = None
    if "customerConfiguration" in apps:
        app_id = apps["customerConfiguration"]["customer"]["id"]
        app = await _app(session, tenant_id, app_id)
        if app is not None:
            customer = Party(app_id, "customer", app["name"])
    bot_config = apps.get("botConfiguration")
    agent_id: str | None = None
    if bot_config:
        first = bot_config["bots"][0]
        participant = await config.get(
            session, tenant_id=tenant_id, kind="participant", object_id=first["participant"]["id"]
        )
        if participant is not None:
            bot = Party(first["id"], "custom_bot", participant.body["name"])
        agent_id = first.get("onEscalation", {}).get("agent", {}).get("id")
    if agent_id is None and "agentConfiguration" in apps:
        agent_id = apps["agentConfiguration"]["agents"][0]["id"]
    if agent_id is not None:
        app = await _app(session, tenant_id, agent_id)
        role = _role_of(app, AGENT_ROLES) if app else None
        if app is not None and role is not None:
            agent = Party(agent_id, role, app["name"])
    bypass = bot_config.get("bypassVaDuration") if bot_config else None
    return Workflow(customer=customer, bot=bot, agent=agent, bypass_va_minutes=bypass)
