"""Routing decisions (DECISIONS §7), as a pure function of the conversation's state, the
workflow, the sender and the message type: what to deliver to whom, and how the state moves."""

from __future__ import annotations

from dataclasses import dataclass, field

from convhub.routing.workflow import Party, Workflow

BOT_SENDERS = frozenset({"custom_bot", "egain_bot"})
AGENT_SENDERS = frozenset({"custom_agent", "egain_agent"})

# Conversation states: who the customer talks to.
BOT, AGENT, HELD = "bot", "agent", "held"


@dataclass
class Route:
    recipients: list[Party] = field(default_factory=list)
    with_transcript: bool = False  # the agent receiving an escalation gets the conversation so far
    state: str | None = None  # the conversation's new state, if it changes
    escalated: bool = False
    complete: bool = False
    retained: bool = False  # kept until an agent is available (retain_and_retry)
    system_text: str | None = None  # l10n property to send the customer (off hours, retained)


def participates(state: str, sender_type: str) -> bool:
    """Whether the sender still takes part (a bot after escalation does not: 400-240)."""
    if sender_type in BOT_SENDERS:
        return state == BOT
    if sender_type in AGENT_SENDERS:
        return state == AGENT
    return True


def _unavailable(on_unavailable: str, *, from_bot: bool) -> Route:
    if on_unavailable == "retain_and_retry":
        return Route(state=HELD, retained=True, system_text="msg_hub_retain_and_retry")
    # off_hours: no transfer; with a bot the conversation stays with it.
    return Route(system_text="msg_hub_off_hours", state=BOT if from_bot else None)


def route(
    *,
    state: str,
    workflow: Workflow,
    sender_type: str,
    message_type: str,
    agent_available: bool,
    on_unavailable: str,
) -> Route:
    if sender_type == "customer":
        return _from_customer(state, workflow, message_type, agent_available, on_unavailable)
    if sender_type in BOT_SENDERS:
        return _from_bot(workflow, message_type, agent_available, on_unavailable)
    return _from_agent(workflow, message_type)


def needs_availability(
    *, state: str, workflow: Workflow, sender_type: str, message_type: str
) -> bool:
    """Whether :func:`route` looks at agent availability for this message (a query the hot
    path, customer to bot, does without)."""
    if sender_type == "customer":
        return state == AGENT and workflow.bot is None and message_type != "conversation.end"
    return sender_type in BOT_SENDERS and message_type == "escalation.transfer"


def _counterpart(state: str, workflow: Workflow) -> Party | None:
    return workflow.bot if state == BOT else workflow.agent if state == AGENT else None


def _from_customer(
    state: str, workflow: Workflow, message_type: str, available: bool, on_unavailable: str
) -> Route:
    end = message_type == "conversation.end"
    if state == HELD:
        return Route(complete=end, retained=not end)
    if state == AGENT and workflow.bot is None and not available and not end:
        # An agent-only workflow with nobody there: answered like an escalation would be.
        unavailable = _unavailable(on_unavailable, from_bot=False)
        unavailable.state = HELD if unavailable.retained else None
        return unavailable
    target = _counterpart(state, workflow)
    return Route(recipients=[target] if target else [], complete=end)


def _from_bot(workflow: Workflow, message_type: str, available: bool, on_unavailable: str) -> Route:
    customer = [workflow.customer] if workflow.customer else []
    if message_type == "escalation.transfer":
        if workflow.agent is None or not available:
            return _unavailable(on_unavailable, from_bot=True)
        return Route(recipients=[workflow.agent], with_transcript=True, state=AGENT, escalated=True)
    return Route(recipients=customer, complete=message_type == "conversation.end")


def _from_agent(workflow: Workflow, message_type: str) -> Route:
    customer = [workflow.customer] if workflow.customer else []
    if message_type == "escalation.transfer":
        # Handoff back to the bot, with the agent's `intent`.
        return Route(recipients=[workflow.bot] if workflow.bot else [], state=BOT)
    return Route(recipients=customer, complete=message_type == "conversation.end")
