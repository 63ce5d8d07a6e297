"""Orchestration rules: every id names an object of the tenant (400-194), and each client
application plays the role its place needs (DECISIONS §2, 400-152 naming the attribute)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from convhub.configuration.spec import Body, Context, Reference, Resolver
from convhub.core.errors import InvalidValue
from convhub.models import ConfigObject

_BOTS = "applications.botConfiguration.bots"
_CUSTOMER = "applications.customerConfiguration.customer.id"
_AGENTS = "applications.agentConfiguration.agents"
_APP = "clientApplication"

BOT_ROLES = frozenset({"custom_bot"})
CUSTOMER_ROLES = frozenset({"customer"})
AGENT_ROLES = frozenset({"custom_agent", "egain_agent"})
BOT_PARTICIPANT_TYPES = frozenset({"custom_bot", "egain_bot"})

# Checks the object a reference names (its stored body comes from the resolver).
Check = Callable[[Resolver, Reference], Awaitable[None]]


def _has_role(roles: frozenset[str]) -> Check:
    async def check(resolve: Resolver, ref: Reference) -> None:
        app = await resolve(ref)
        if not any(role["name"] in roles for role in app["roles"]):
            wanted = " or ".join(sorted(roles))
            raise InvalidValue(
                ref.attribute, f"client application {ref.target_id} has no role {wanted}"
            )

    return check


def _bot_participant_of(bot_app_id: str) -> Check:
    async def check(resolve: Resolver, ref: Reference) -> None:
        participant = await resolve(ref)
        if participant["type"] not in BOT_PARTICIPANT_TYPES:
            raise InvalidValue(ref.attribute, f"participant {ref.target_id} is not a bot")
        if participant["application"]["id"] != bot_app_id:
            raise InvalidValue(
                ref.attribute,
                f"participant {ref.target_id} does not belong to the bot application {bot_app_id}",
            )

    return check


def _checks(body: Body) -> list[tuple[Reference, Check]]:
    """Every id the orchestration names, in document order, with what its target must satisfy."""
    applications = body["applications"]
    out: list[tuple[Reference, Check]] = []
    for i, bot in enumerate(applications.get("botConfiguration", {}).get("bots", [])):
        out.append((Reference(f"{_BOTS}[{i}].id", _APP, bot["id"]), _has_role(BOT_ROLES)))
        participant = Reference(
            f"{_BOTS}[{i}].participant.id", "participant", bot["participant"]["id"]
        )
        out.append((participant, _bot_participant_of(bot["id"])))
        if "onEscalation" in bot:
            agent = bot["onEscalation"]["agent"]["id"]
            ref = Reference(f"{_BOTS}[{i}].onEscalation.agent.id", _APP, agent)
            out.append((ref, _has_role(AGENT_ROLES)))
    if "customerConfiguration" in applications:
        customer = applications["customerConfiguration"]["customer"]["id"]
        out.append((Reference(_CUSTOMER, _APP, customer), _has_role(CUSTOMER_ROLES)))
    for i, agent in enumerate(applications.get("agentConfiguration", {}).get("agents", [])):
        out.append((Reference(f"{_AGENTS}[{i}].id", _APP, agent["id"]), _has_role(AGENT_ROLES)))
    return out


def references(body: Body) -> list[Reference]:
    return [ref for ref, _check in _checks(body)]


async def rules(
    _ctx: Context, body: Body, _existing: ConfigObject | None, resolve: Resolver
) -> Body:
    """Each application must play the role routing will look up on it (a bot app `custom_bot`,
    the customer app `customer`, agent apps `custom_agent` or `egain_agent`), and the bot
    participant must be a bot of the bot application."""
    for ref, check in _checks(body):
        await check(resolve, ref)
    return body
