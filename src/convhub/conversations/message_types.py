"""Message types: which exist, and which client application may send which.

``SENDERS`` is the table of ``sendMessage``'s description in the contract, row for row, plus a
decision for every type of the ``RequestMessage`` enum that the table leaves out (each with its
reason). Any sender may send a custom type (``custom.<name>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# The client application types of ClientData (a sender's ``type``), in the table's column order.
SENDER_TYPES: Final = ("customer", "egain_agent", "custom_agent", "egain_bot", "custom_bot")

# RequestMessage.type.value: what a sender may send.
MESSAGE_TYPES: Final = (
    "text",
    "status.read",
    "status.delivered",
    "richMessage.listpicker",
    "richMessage.timepicker",
    "richMessage.richlink",
    "richMessage.quickreply",
    "richMessage.template",
    "richMessage.form",
    "richMessage.app",
    "richMessage.payment",
    "richMessage.authentication",
    "authentication.start",
    "authentication.success",
    "authentication.failure",
    "authentication.accept",
    "authentication.reject",
    "agent.transfer",
    "bot.transfer",
    "queue.transfer",
    "pagePush",
    "error",
    "escalation.transfer",
    "escalation.request",
    "typing.start",
    "typing.end",
    "agent.join",
    "agent.exit",
    "agent.available",
    "agent.unavailable",
    "agent.active",
    "agent.inactive",
    "customer.info",
    "customer.active",
    "customer.inactive",
    "customer.exit",
    "customer.block",
    "cobrowse.start",
    "conversation.state",
    "delete.soft",
    "delete.permanent",
    "undo",
    "conversation.end",
)

# ExternalRequestMessage.type.value: what a transcript (conversation.messages) may hold.
TRANSCRIPT_TYPES: Final = (
    "text",
    "richMessage.listpicker",
    "richMessage.timepicker",
    "richMessage.richlink",
    "richMessage.quickreply",
    "richMessage.template",
    "richMessage.form",
    "richMessage.app",
    "richMessage.payment",
    "richMessage.authentication",
    "pagePush",
    "delete.soft",
    "delete.permanent",
    "undo",
)

# The type enum of CallbackMessage, CallbackInnerMessage and ResponseMessage: the request enum
# without status.read and status.delivered, an omission of the contract (those are delivered
# like any other relayed event; the response and callback models accept them, see views.py).
DELIVERED_TYPES: Final = tuple(t for t in MESSAGE_TYPES if not t.startswith("status."))

# A custom message type: "custom." and a name, 255 characters in all.
CUSTOM_TYPE: Final = re.compile(r"custom\.[A-Za-z0-9_.\-]{1,248}")
CUSTOM_TYPE_HINT: Final = "custom.<name>"

_ALL = frozenset(SENDER_TYPES)
_CUSTOMER = frozenset({"customer"})
_AGENTS = frozenset({"egain_agent", "custom_agent"})
_BOTS = frozenset({"egain_bot", "custom_bot"})

SENDERS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        # The contract's table, row for row.
        "text": _ALL,
        "typing.start": _ALL,
        "typing.end": _ALL,
        "escalation.transfer": _AGENTS | _BOTS,
        "pagePush": _AGENTS | _BOTS,
        "conversation.state": _AGENTS,
        "agent.join": _AGENTS,
        "agent.available": _AGENTS,
        "agent.unavailable": _AGENTS,
        "agent.transfer": _AGENTS,
        "queue.transfer": _AGENTS,
        "richMessage.listpicker": _AGENTS | _BOTS,
        "richMessage.quickreply": _AGENTS | _BOTS,
        "richMessage.template": _AGENTS | _BOTS,
        "richMessage.timepicker": _AGENTS | _BOTS,
        "richMessage.richlink": _AGENTS | _BOTS,
        "richMessage.form": _AGENTS | _BOTS,
        "richMessage.payment": _AGENTS | _BOTS,
        "richMessage.app": _AGENTS | _BOTS,
        "richMessage.authentication": _AGENTS | _BOTS,
        "authentication.success": _CUSTOMER,
        "authentication.failure": _CUSTOMER,
        "customer.info": _ALL,
        "customer.active": _CUSTOMER,
        "customer.inactive": _CUSTOMER,
        "error": _ALL,
        "delete.soft": _CUSTOMER,
        "delete.permanent": _CUSTOMER,
        "undo": _CUSTOMER,
        "conversation.end": _ALL,
        # Types of the enum the table leaves out.
        # Delivery and read receipts answer a message of the counterpart, whoever that is, and the
        # contract's examples send them with parent.id: like typing and error, everyone (§7).
        "status.read": _ALL,
        "status.delivered": _ALL,
        # The customer's side of a sign-in that an agent or bot asked for with
        # richMessage.authentication, like authentication.success/failure: customer only.
        "authentication.start": _CUSTOMER,
        "authentication.accept": _CUSTOMER,
        "authentication.reject": _CUSTOMER,
        # Moving a conversation to another handler is an agent's act (agent.transfer and
        # queue.transfer are agents only; a bot hands over with escalation.transfer): agents only.
        "bot.transfer": _AGENTS,
        # Asking for a human: what a customer or a bot does (the one that decides is the bot,
        # with escalation.transfer); an agent already is the human: customer and bots.
        "escalation.request": _CUSTOMER | _BOTS,
        # The agent's presence in a conversation, like agent.join: agents only.
        "agent.exit": _AGENTS,
        "agent.active": _AGENTS,
        "agent.inactive": _AGENTS,
        # The customer's own presence, like customer.active/inactive: customer only.
        "customer.exit": _CUSTOMER,
        # Blocking a customer and starting a co-browsing session are agent actions: agents only.
        "customer.block": _AGENTS,
        "cobrowse.start": _AGENTS,
    }
)

# Availability events: they belong to no conversation, only to an entry point (DECISIONS §6).
CONVERSATION_LESS: Final = frozenset({"agent.available", "agent.unavailable"})

# Events the hub passes on to the sender's counterpart (the customer, or the bot or agent that
# holds the conversation) with no routing effect of their own.
RELAYED_TO_COUNTERPART: Final = frozenset(
    {"typing.start", "typing.end", "status.delivered", "status.read", "error", "customer.info"}
)


def is_custom(message_type: str) -> bool:
    """``custom.order`` and the like: a type the client applications agree on between them."""
    return CUSTOM_TYPE.fullmatch(message_type) is not None


def may_send(sender_type: str, message_type: str) -> bool:
    """Whether a client application of ``sender_type`` may send a message of ``message_type``
    (an unknown sender or type may send nothing)."""
    if sender_type not in _ALL:
        return False
    if is_custom(message_type):
        return True
    return sender_type in SENDERS.get(message_type, frozenset())
