"""Orchestration wire models, field for field as the contract's ``Orchestration`` schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictStr, model_validator

from convhub.core.schemas import (
    Active,
    Description,
    IdRef,
    Minutes,
    ObjectId,
    RequestModel,
    Timestamp,
)
from convhub.core.validation import missing


class OnEscalation(RequestModel):
    agent: IdRef


class Bot(RequestModel):
    id: ObjectId
    participant: IdRef
    onEscalation: OnEscalation | None = None


class BotConfiguration(RequestModel):
    forwardTranscript: StrictBool = True
    bypassVaDuration: Minutes | None = None
    bots: Annotated[list[Bot], Field(min_length=1, max_length=1)]


class CustomerConfiguration(RequestModel):
    customer: IdRef


class AgentConfiguration(RequestModel):
    agents: Annotated[list[IdRef], Field(min_length=1, max_length=1)]


class Applications(RequestModel):
    botConfiguration: BotConfiguration | None = None
    customerConfiguration: CustomerConfiguration | None = None
    agentConfiguration: AgentConfiguration | None = None

    @model_validator(mode="after")
    def bot_or_agent(self) -> Applications:
        # The contract: botConfiguration is "required if agentConfiguration is not provided".
        if self.botConfiguration is None and self.agentConfiguration is None:
            raise missing("botConfiguration")
        return self


class OrchestrationCreate(RequestModel):
    # The contract gives `name` no length limits; it is required, so it may not be empty.
    name: Annotated[StrictStr, Field(min_length=1)]
    description: Description | None = None
    active: Active = True
    applications: Applications


class OrchestrationReplace(OrchestrationCreate):
    modified: Timestamp | None = None


class OrchestrationRead(OrchestrationCreate):
    id: ObjectId
    created: Timestamp
    modified: Timestamp
