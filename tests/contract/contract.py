"""eGain's contract as the fuzzing tests read it: the document, the operations this build serves,
and the deliberate deviations of docs/deviations.md."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from convhub.app import create_app
from convhub.core.settings import Settings

CONTRACT = Path(__file__).resolve().parents[2] / "spec" / "conversationmgr-v3.openapi.yaml"
METHODS = ("get", "post", "put", "delete")

# docs/deviations.md: statuses we answer that the contract leaves out of these operations.
EXTRA_STATUSES = {
    "getClientApplication": {404},
    "getParticipant": {404},
    # DECISIONS §9: an asset a message carried cannot be deleted (400-160, as for configuration).
    "deleteAsset": {400},
}


@functools.cache
def document() -> dict[str, Any]:
    return dict(yaml.safe_load(CONTRACT.read_text()))


@functools.cache
def served() -> frozenset[str]:
    """The operation ids of the contract that this build serves (assets arrive with issue 4):
    each is fuzzed as soon as its route exists."""
    app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    paths = app.openapi()["paths"].values()
    return frozenset(op["operationId"] for path in paths for op in path.values())


def operations() -> list[tuple[str, str, str]]:
    """(operation id, method, path) of every served operation, in the contract's order."""
    return [
        (op["operationId"], method.upper(), path)
        for path, item in document()["paths"].items()
        for method, op in item.items()
        if method in METHODS and op["operationId"] in served()
    ]


def statuses(operation_id: str) -> set[int]:
    """The statuses the contract documents for an operation, with our deviations."""
    for item in document()["paths"].values():
        for method, op in item.items():
            if method in METHODS and op["operationId"] == operation_id:
                documented = {int(code) for code in op["responses"] if code.isdigit()}
                return documented | EXTRA_STATUSES.get(operation_id, set())
    raise KeyError(operation_id)
