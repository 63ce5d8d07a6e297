"""The permission strings of the contract (``x-egain-app-permissions``), and our own."""

from __future__ import annotations

from typing import Final

MANAGE: Final = "app.conversation.conversationmgr.manage"
READ: Final = "app.conversation.conversationmgr.read"
INTERACTION_MANAGE: Final = "app.conversation.conversationmgr.interaction.manage"
INTERACTION_READ: Final = "app.conversation.conversationmgr.interaction.read"

# Our own (extension): the operator endpoints of the delivery log (convhub/operations).
DELIVERIES_MANAGE: Final = "convhub.deliveries.manage"
DELIVERIES_READ: Final = "convhub.deliveries.read"

ALL: Final = (
    MANAGE,
    READ,
    INTERACTION_MANAGE,
    INTERACTION_READ,
    DELIVERIES_MANAGE,
    DELIVERIES_READ,
)

# eGain's scope string; in a token request it means "every permission the client has".
DEFAULT_SCOPE: Final = "https://api.egain.cloud/auth/.default"
