"""Client application wire models, field for field as the contract's ``ClientApplication`` and
``Role`` schemas."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from convhub.core.schemas import (
    Active,
    Attribute,
    Description,
    IdRef,
    Name,
    ObjectId,
    RequestModel,
    Text1023,
    Timestamp,
)

RoleName = Literal[
    "customer", "custom_bot", "egain_bot", "egain_agent", "custom_agent", "business_notification"
]


class Role(RequestModel):
    # Unique within one application (the contract's `uniqueItems`): checked in service.rules.
    name: RoleName
    version: Literal["v1", "v3"]
    # An http(s) URL this service may call: checked in service.rules (it needs the settings).
    callback: Text1023
    notificationEmail: Name
    headers: Annotated[list[Attribute], Field(min_length=1, max_length=25)] | None = None
    authentication: IdRef | None = None


class ClientApplicationCreate(RequestModel):
    name: Name
    description: Description | None = None
    active: Active = True
    roles: Annotated[list[Role], Field(min_length=1, max_length=7)]


class ClientApplicationReplace(ClientApplicationCreate):
    modified: Timestamp | None = None


class ClientApplicationRead(ClientApplicationCreate):
    id: ObjectId
    created: Timestamp
    modified: Timestamp
