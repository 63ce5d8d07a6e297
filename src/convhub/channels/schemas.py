"""Channel wire models, field for field as the contract's ``Channel`` schema and its parts."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr

from convhub.core.schemas import (
    Active,
    Attribute,
    Description,
    Name,
    ObjectId,
    RequestModel,
    Timestamp,
)

MAX_ATTACHMENT_SIZE = 10_485_760
MAX_TEXT_LENGTH = 10_000

Feature = Literal["typing_events", "attachments", "richText", "delivery_receipts"]
RichMessageType = Literal[
    "listpicker",
    "timepicker",
    "richlink",
    "quickreply",
    "template",
    "form",
    "authentication",
    "payment",
    "app",
]
Language = Literal[
    "en-US",
    "es-ES",
    "fr-FR",
    "it-IT",
    "de-DE",
    "nl-NL",
    "pt-BR",
    "pt-PT",
    "da-DK",
    "ru-RU",
    "fr-CA",
    "zh-CN",
    "ja-JP",
    "ko-KR",
    "sv-SE",
]

TextLength = Annotated[StrictInt, Field(ge=1, le=MAX_TEXT_LENGTH)]
Extension = Annotated[StrictStr, Field(min_length=1, max_length=255)]

_BASE64 = re.compile(r"[A-Za-z0-9+/]+(={1,2})?")


def _base64(value: str) -> str:
    """The contract's "base64 encoded image": the standard alphabet, padding optional (but then
    exact), no whitespace or line breaks."""
    data = value.rstrip("=")
    padding = len(value) - len(data)
    if (
        not _BASE64.fullmatch(value)
        or len(data) % 4 == 1
        or (padding and (len(data) + padding) % 4 != 0)
    ):
        raise ValueError("icon must be base64 encoded (standard alphabet, no whitespace)")
    return value


Icon = Annotated[StrictStr, Field(min_length=1, max_length=512_000), AfterValidator(_base64)]


class AttachmentPolicy(RequestModel):
    enabled: StrictBool = True
    maxSize: Annotated[StrictInt, Field(ge=1, le=MAX_ATTACHMENT_SIZE)] = MAX_ATTACHMENT_SIZE
    type: Literal["allow", "block"] | None = None
    extensions: Annotated[list[Extension], Field(min_length=1, max_length=75)] | None = None


class InboundRestrictions(RequestModel):
    maxTextLength: TextLength = MAX_TEXT_LENGTH
    attachmentPolicy: AttachmentPolicy | None = None
    features: Annotated[list[Feature], Field(min_length=1, max_length=4)] | None = None


class CustomerServiceWindow(RequestModel):
    durationMinutes: Annotated[StrictInt, Field(ge=1, le=10080)]
    continueMessageTypes: Annotated[list[RichMessageType], Field(min_length=1)] | None = None


class OutboundRestriction(RequestModel):
    maxTextLength: TextLength = MAX_TEXT_LENGTH
    systemMessages: StrictBool = False
    midChatAuth: StrictBool = False
    attachmentPolicy: AttachmentPolicy | None = None
    features: Annotated[list[Feature], Field(min_length=1, max_length=3)] | None = None
    customerServiceWindow: CustomerServiceWindow | None = None
    richMessageTypes: Annotated[list[RichMessageType], Field(min_length=1, max_length=9)] | None = (
        None
    )


class Restrictions(RequestModel):
    inbound: InboundRestrictions | None = None
    outbound: OutboundRestriction | None = None


class L10nProperties(RequestModel):
    language: Language
    properties: Annotated[list[Attribute], Field(min_length=1, max_length=75)]


class ChannelCreate(RequestModel):
    type: Name
    displayName: Name
    icon: Icon
    description: Description | None = None
    active: Active = True
    restrictions: Restrictions | None = None
    l10nProperties: Annotated[list[L10nProperties], Field(min_length=1, max_length=25)] | None = (
        None
    )


class ChannelReplace(ChannelCreate):
    modified: Timestamp | None = None


class ChannelRead(ChannelCreate):
    id: ObjectId
    created: Timestamp
    modified: Timestamp
