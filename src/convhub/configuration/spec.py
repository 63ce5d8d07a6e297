"""How a configuration resource describes itself to the shared machinery."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.core.runtime import Runtime
from convhub.models import ConfigObject

Body = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reference:
    """The object at ``attribute`` (dotted path) must be a ``kind`` object of the same tenant."""

    attribute: str
    kind: str
    target_id: str


@dataclass(frozen=True, slots=True)
class Context:
    session: AsyncSession
    tenant_id: str
    runtime: Runtime


# Loads another object of the tenant (its stored body), or raises 400-194 naming `attribute`.
Resolver = Callable[[Reference], Awaitable[Body]]


async def _no_rules(
    _ctx: Context, body: Body, _existing: ConfigObject | None, _resolve: Resolver
) -> Body:
    return body


def _as_is(_ctx: Context, body: Body) -> Body:
    return body


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    statuses: tuple[int, ...]  # exactly the contract's, for the published OpenAPI document
    description: str = ""


@dataclass(frozen=True)
class ResourceSpec:
    kind: str  # also the list key and the word used in messages: "account", "clientApplication"
    label: str  # "account", "client application"
    path: str  # "/accounts"
    tag: str  # the contract's tag: "Account"
    create_model: type[BaseModel]
    replace_model: type[BaseModel]
    read_model: type[BaseModel]
    operations: Mapping[str, Operation]  # keys: create, list, get, replace, delete
    key_attribute: str = "name"  # the unique key per tenant (channels: "type")
    # What the resource names; each is checked to exist (400-194) before `rules` run.
    references: Callable[[Body], list[Reference]] = field(default=lambda _body: [])
    # Further rules: role checks, secrets sealed for storage. Returns the body to store.
    # `existing` is the stored object on replace, None on create.
    rules: Callable[[Context, Body, ConfigObject | None, Resolver], Awaitable[Body]] = _no_rules
    # The stored body as the API shows it (secrets masked).
    present: Callable[[Context, Body], Body] = _as_is
