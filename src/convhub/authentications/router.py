"""``/authentications``: the contract's five Authentication operations."""

from __future__ import annotations

from convhub.authentications import service
from convhub.authentications.schemas import (
    AuthenticationCreate,
    AuthenticationRead,
    AuthenticationReplace,
)
from convhub.configuration.router import config_router
from convhub.configuration.spec import Operation, ResourceSpec

SPEC = ResourceSpec(
    kind="authentication",
    label="authentication",
    path="/authentications",
    tag="Authentication",
    create_model=AuthenticationCreate,
    replace_model=AuthenticationReplace,
    read_model=AuthenticationRead,
    rules=service.rules,
    present=service.present,
    operations={
        "create": Operation(
            "createAuthentication",
            "Create Authentication",
            (201, 400, 401, 403, 500),
            "Register how the hub authenticates to a client application's callback: `oauth2` "
            "(the hub fetches a token) or `basic`. First step of the flow Authentication > Client "
            "Application > Participant > Channel > Orchestration > Account. The secret "
            "(`basicAuth.password`, `oauth2.payload`) is encrypted at rest.",
        ),
        "list": Operation(
            "getAllAuthentication",
            "Get Authentications",
            (200, 400, 401, 403, 500),
            "List the authentications, secrets masked, with `$pagenum` and `$pagesize`.",
        ),
        "get": Operation(
            "getAuthentication",
            "Get Authentication",
            (200, 400, 401, 403, 404, 500),
            "Get one authentication, its secret masked as `********`.",
        ),
        "replace": Operation(
            "updateAuthentication",
            "Update Authentication",
            (204, 400, 401, 403, 404, 500),
            "Replace an authentication. Sending the mask `********` back keeps the stored "
            "secret. With `modified`, the update is refused (409-100) unless it matches.",
        ),
        "delete": Operation(
            "deleteAuthentication",
            "Delete Authentication",
            (204, 400, 401, 403, 404, 500),
            "Delete an authentication; refused (400-160) while a client application uses it.",
        ),
    },
)

router = config_router(SPEC)
