"""Participant wire models, field for field as the contract's ``Participant``, ``Intents`` and
``Intent`` schemas."""

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
    Timestamp,
)


class Intent(RequestModel):
    value: Name
    displayValue: Name


class Intents(RequestModel):
    intent: Annotated[list[Intent], Field(min_length=1, max_length=500)]


class ParticipantCreate(RequestModel):
    name: Name
    type: Literal["custom_bot", "egain_bot"]
    description: Description | None = None
    active: Active = True
    application: IdRef
    intents: Intents | None = None
    options: Annotated[list[Attribute], Field(min_length=1, max_length=25)] | None = None


class ParticipantReplace(ParticipantCreate):
    modified: Timestamp | None = None


class ParticipantRead(ParticipantCreate):
    id: ObjectId
    created: Timestamp
    modified: Timestamp
