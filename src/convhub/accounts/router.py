"""``/accounts``: the contract's five Account operations."""

from __future__ import annotations

from convhub.accounts import service
from convhub.accounts.schemas import AccountCreate, AccountRead, AccountReplace
from convhub.configuration.router import config_router
from convhub.configuration.spec import Operation, ResourceSpec

SPEC = ResourceSpec(
    kind="account",
    label="account",
    path="/accounts",
    tag="Account",
    create_model=AccountCreate,
    replace_model=AccountReplace,
    read_model=AccountRead,
    references=service.references,
    rules=service.rules,
    operations={
        "create": Operation(
            "createAccount",
            "Create Account",
            (201, 400, 401, 403, 500),
            "Create a Conversation Account: a channel address bound to an orchestration and an "
            "entry point. Last step of the flow Authentication > Client Application > Participant "
            "> Channel > Orchestration > Account.",
        ),
        "list": Operation(
            "getAllAccounts",
            "Get Accounts",
            (200, 400, 401, 403, 500),
            "List the accounts, ordered by creation, with `$pagenum` and `$pagesize`.",
        ),
        "get": Operation(
            "getAccount", "Get account", (200, 400, 401, 403, 404, 500), "Get one account."
        ),
        "replace": Operation(
            "updateAccount",
            "Update account",
            (204, 400, 401, 403, 404, 500),
            "Replace an account. With `modified`, the update is refused (409-100) unless it "
            "matches the stored value.",
        ),
        "delete": Operation(
            "deleteAccount", "Delete account", (204, 400, 401, 403, 404, 500), "Delete an account."
        ),
    },
)

router = config_router(SPEC)
