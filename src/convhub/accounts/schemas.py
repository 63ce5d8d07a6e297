"""Account wire models, field for field as the contract's ``Account`` schema."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictStr

from convhub.core.schemas import (
    Active,
    Attribute,
    Description,
    IdRef,
    Minutes,
    Name,
    NumberOut,
    ObjectId,
    RequestModel,
    Timestamp,
)


class CaseManagement(RequestModel):
    sameCaseDuration: Minutes | None = None
    copyCustomAttributes: StrictBool | None = None


class EntryPoint(RequestModel):
    id: Annotated[StrictStr, Field(min_length=1, max_length=255)]


class ChatConfigurations(RequestModel):
    timeout: Annotated[StrictFloat, Field(ge=3, le=10080), NumberOut] = 240
    defaultLanguage: StrictStr = "en-US"
    onAgentUnavailability: Literal["off_hours", "retain_and_retry"] = "off_hours"
    allowLogoutWithOpenChats: StrictBool = False
    allowQueueTransferOnAgentUnavailability: StrictBool = False
    # The contract leaves `orchestration.id` optional, but routing needs it: required here.
    orchestration: IdRef
    entryPoint: EntryPoint


class AccountCreate(RequestModel):
    name: Name
    description: Description | None = None
    active: Active = True
    address: Name
    channel: IdRef
    caseManagement: CaseManagement | None = None
    chatConfigurations: ChatConfigurations
    attributes: Annotated[list[Attribute], Field(min_length=1, max_length=10)] | None = None


class AccountReplace(AccountCreate):
    modified: Timestamp | None = None


class AccountRead(AccountCreate):
    id: ObjectId
    created: Timestamp
    modified: Timestamp
