"""``/clientapplications``: the contract's five Client Application operations."""

from __future__ import annotations

from convhub.client_applications import service
from convhub.client_applications.schemas import (
    ClientApplicationCreate,
    ClientApplicationRead,
    ClientApplicationReplace,
)
from convhub.configuration.router import config_router
from convhub.configuration.spec import Operation, ResourceSpec

SPEC = ResourceSpec(
    kind="clientApplication",
    label="client application",
    path="/clientapplications",
    tag="Client Application",
    create_model=ClientApplicationCreate,
    replace_model=ClientApplicationReplace,
    read_model=ClientApplicationRead,
    references=service.references,
    rules=service.rules,
    operations={
        "create": Operation(
            "createClientApplication",
            "Create Client Application",
            (201, 400, 401, 403, 500),
            "Register a client application: the callback URL (and its authentication) for each "
            "role it plays (customer, bot, agent). Role names are unique within an application. "
            "Second step of the flow Authentication > Client Application > Participant > Channel "
            "> Orchestration > Account.",
        ),
        "list": Operation(
            "getAllClientApplication",
            "Get Client Applications",
            (200, 400, 401, 403, 404, 500),
            "List the client applications, ordered by creation, with `$pagenum` and `$pagesize`.",
        ),
        "get": Operation(
            "getClientApplication",
            "Get Client Application",
            (200, 400, 401, 403, 500),
            "Get one client application.",
        ),
        "replace": Operation(
            "updateClientApplication",
            "Update Client Application",
            (204, 400, 401, 403, 404, 500),
            "Replace a client application. With `modified`, the update is refused (409-100) "
            "unless it matches the stored value.",
        ),
        "delete": Operation(
            "deleteClientApplication",
            "Delete Client Application",
            (204, 400, 401, 403, 404, 500),
            "Delete a client application. Refused (400-160) while a participant or an "
            "orchestration references it.",
        ),
    },
)

router = config_router(SPEC)
