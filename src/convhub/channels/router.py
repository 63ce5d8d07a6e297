"""``/channels``: the contract's five Channel operations."""

from __future__ import annotations

from convhub.channels import service
from convhub.channels.schemas import ChannelCreate, ChannelRead, ChannelReplace
from convhub.configuration.router import config_router
from convhub.configuration.spec import Operation, ResourceSpec

SPEC = ResourceSpec(
    kind="channel",
    label="channel",
    path="/channels",
    tag="Channel",
    create_model=ChannelCreate,
    replace_model=ChannelReplace,
    read_model=ChannelRead,
    key_attribute="type",
    rules=service.rules,
    operations={
        "create": Operation(
            "createChannel",
            "Create Channel",
            (201, 400, 401, 403, 500),
            "Register a channel: its `type` (unique per tenant), display name, base64 icon, the "
            "restrictions on messages from and to the customer, and localized system messages. "
            "Fourth step of the flow Authentication > Client Application > Participant > Channel "
            "> Orchestration > Account.",
        ),
        "list": Operation(
            "getAllChannels",
            "Get Channels",
            (200, 400, 401, 403, 500),
            "List the channels, ordered by creation, with `$pagenum` and `$pagesize`.",
        ),
        "get": Operation(
            "getChannel", "Get Channel", (200, 400, 401, 403, 404, 500), "Get one channel."
        ),
        "replace": Operation(
            "updateChannel",
            "Update Channel",
            (204, 400, 401, 403, 404, 500),
            "Replace a channel. With `modified`, the update is refused (409-100) unless it "
            "matches the stored value.",
        ),
        "delete": Operation(
            "deleteChannel",
            "Delete Channel",
            (204, 400, 401, 403, 404, 500),
            "Delete a channel. A channel used by an account cannot be deleted (400-160).",
        ),
    },
)

router = config_router(SPEC)
