"""Response models of the operator endpoints (for the published OpenAPI document); the handlers
build the same shapes as plain dictionaries in :mod:`convhub.operations.service`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Recipient(BaseModel):
    applicationId: str
    role: str


class Attempt(BaseModel):
    number: int
    started: str
    result: Literal["delivered", "retry", "failed"]
    statusCode: int | None
    latencyMs: int
    error: str | None


class DeliveryLog(BaseModel):
    id: str
    recipient: Recipient
    state: Literal["pending", "sent", "failed", "dead"]
    created: str
    nextAttemptAt: str | None
    deadline: str
    finished: str | None
    attempt: list[Attempt]


class MessageDeliveries(BaseModel):
    messageId: str
    conversationId: str
    status: str | None
    delivery: list[DeliveryLog]


class DeadLetter(BaseModel):
    id: str
    messageId: str
    conversationId: str
    recipient: Recipient
    created: str
    finished: str
    lastStatusCode: int | None
    lastError: str | None


class PaginationInfo(BaseModel):
    count: int
    pagenum: int
    pagesize: int


class DeadLetterList(BaseModel):
    paginationInfo: PaginationInfo
    deadLetter: list[DeadLetter]


class Redelivered(BaseModel):
    messageId: str
    delivery: list[str]


class CallbackState(BaseModel):
    recipient: Recipient
    breaker: Literal["closed", "open", "half_open"]
    consecutiveFailures: int
    openedAt: str | None
    nextProbeAt: str | None
    lastError: str | None
    deactivated: bool
    deactivatedAt: str | None
    deactivatedCallback: str | None


class CallbackList(BaseModel):
    paginationInfo: PaginationInfo
    callback: list[CallbackState]
