"""``/orchestrations``: the contract's five Orchestration operations."""

from __future__ import annotations

from convhub.configuration.router import config_router
from convhub.configuration.spec import Operation, ResourceSpec
from convhub.orchestrations import service
from convhub.orchestrations.schemas import (
    OrchestrationCreate,
    OrchestrationRead,
    OrchestrationReplace,
)

SPEC = ResourceSpec(
    kind="orchestration",
    label="orchestration",
    path="/orchestrations",
    tag="Orchestration",
    create_model=OrchestrationCreate,
    replace_model=OrchestrationReplace,
    read_model=OrchestrationRead,
    references=service.references,
    rules=service.rules,
    operations={
        "create": Operation(
            "createOrchestration",
            "Create Orchestration",
            (201, 400, 401, 403, 500),
            "Create an orchestration: the bot (client application and participant), the agent "
            "application it escalates to and the customer application that receives replies, or "
            "an agent application alone. Each application must play the matching role. Fifth "
            "step of the flow Authentication > Client Application > Participant > Channel > "
            "Orchestration > Account.",
        ),
        "list": Operation(
            "getAllOrchestration",
            "Get Orchestrations",
            (200, 400, 401, 403, 500),
            "List the orchestrations, ordered by creation, with `$pagenum` and `$pagesize`.",
        ),
        "get": Operation(
            "getOrchestration",
            "Get Orchestration",
            (200, 400, 401, 403, 404, 500),
            "Get one orchestration.",
        ),
        "replace": Operation(
            "updateOrchestration",
            "Update Orchestration",
            (204, 400, 401, 403, 404, 500),
            "Replace an orchestration. With `modified`, the update is refused (409-100) unless "
            "it matches the stored value.",
        ),
        "delete": Operation(
            "deleteOrchestration",
            "Delete Orchestration",
            (204, 400, 401, 403, 404, 500),
            "Delete an orchestration. Refused (400-160) while an account references it.",
        ),
    },
)

router = config_router(SPEC)
