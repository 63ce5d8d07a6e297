"""Send-message request models, field for field as the contract's ``RequestData``,
``RequestMessage``, ``RequestConversation`` and ``ExternalRequestMessage``.

A ``oneOf``/``anyOf`` of the contract (``Content``, an attachment, ``preferredAgent``) is one model
with a validator, as in ``authentications/schemas.py``: errors then name the attribute as the
client wrote it. The documents the hub sends (responses, callbacks) are in ``views.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Final, Literal, Self

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from convhub.conversations.message_types import (
    CUSTOM_TYPE_HINT,
    MESSAGE_TYPES,
    TRANSCRIPT_TYPES,
    is_custom,
)
from convhub.core.schemas import Attribute, IdRef, Name, ObjectId, RequestModel, Timestamp
from convhub.core.validation import invalid, missing, unallowed, unknown

MAX_ATTACHMENT_SIZE: Final = 10485760  # 10 MiB, the contract's Attachment.size maximum

Text255 = Name
ContentText = Annotated[StrictStr, Field(min_length=1, max_length=10000)]
Metadata = Annotated[list[Attribute], Field(min_length=1, max_length=10)]
ContactKind = Literal[
    "email",
    "phone.mobile",
    "phone.office",
    "phone.home",
    "facebookId",
    "twitterId",
    "appleOpaqueId",
    "other",
]
ClientType = Literal["custom_bot", "egain_bot", "customer", "egain_agent", "custom_agent"]
ParticipantType = Literal[
    "custom_bot", "egain_bot", "customer", "egain_agent", "system", "custom_agent"
]


def check_message_type(value: str, allowed: Sequence[str]) -> None:
    """A type value must be one of ``allowed`` or a custom type (``custom.order``), else 400-196
    listing the allowed values (the custom hint first: the message is cut at 255 characters)."""
    if value not in allowed and not is_custom(value):
        raise unallowed("value", [CUSTOM_TYPE_HINT, *allowed])


class MessageType(RequestModel):
    """``type`` of a message: ``{"value": ...}``, one of the enum or ``custom.<name>``."""

    allowed: ClassVar[Sequence[str]] = MESSAGE_TYPES

    value: StrictStr

    @model_validator(mode="after")
    def _known_or_custom(self) -> Self:
        check_message_type(self.value, self.allowed)
        return self


class TranscriptType(MessageType):
    allowed: ClassVar[Sequence[str]] = TRANSCRIPT_TYPES


_CONTENT_KINDS = ("text", "html", "json", "xml")


class ContentIn(RequestModel):
    """``Content``: a ``oneOf`` of text, html, json and xml (each 1..10000 characters), each with
    an optional ``redact``. None of them → 400-143 naming ``text``; a second one → 400-420."""

    # `json` would shadow BaseModel.json: the field is `json_`, on the wire `json`.
    model_config = ConfigDict(serialize_by_alias=True)

    text: ContentText | None = None
    html: ContentText | None = None
    json_: ContentText | None = Field(default=None, alias="json")
    xml: ContentText | None = None
    redact: StrictBool | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one_kind(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kinds = [key for key in data if key in _CONTENT_KINDS]
            for kind in kinds:
                # RequestModel's null check knows fields by name, and this one is `json_`.
                if data[kind] is None:
                    raise invalid(kind, "null is not a valid value")
            if not kinds:
                raise missing("text")
            if len(kinds) > 1:
                raise unknown(kinds[1])
        return data

    @property
    def kind(self) -> str:
        """``text``, ``html``, ``json`` or ``xml``."""
        return next(kind for kind in _CONTENT_KINDS if self.body_of(kind) is not None)

    @property
    def body(self) -> str:
        body = self.body_of(self.kind)
        assert body is not None
        return body

    def body_of(self, kind: str) -> str | None:
        return self.json_ if kind == "json" else getattr(self, kind)


def _check_xml(content: ContentIn | None, message_type: MessageType) -> None:
    # XMLContent: "xml version of content, supported only for custom message types".
    if content is not None and content.xml is not None and not is_custom(message_type.value):
        raise invalid("content.xml", "xml content is supported only for custom message types")


class MessageParticipant(RequestModel):
    """``MessageParticipantData``."""

    name: Name | None = None
    type: ParticipantType | None = None


class ClientData(RequestModel):
    """A sender or recipient: the type of its client application and, optionally, its
    participant."""

    type: ClientType
    participant: MessageParticipant | None = None


class Recipients(RequestModel):
    recipient: Annotated[list[ClientData], Field(min_length=1, max_length=1)] | None = None


class ParentRef(RequestModel):
    """``parent`` of a message: the message this one answers (an error, a receipt, a delete)."""

    id: ObjectId
    messageId: Text255 | None = None


class AttachmentIn(RequestModel):
    """An item of ``attachments.attachment``: a ``oneOf`` of ``Attachment`` (``name``, ``url``,
    ``size``; the hub fetches the URL) and ``UploadedAttachment`` (``{id}`` of an asset uploaded
    with POST /assets). Which one is decided by the presence of ``url`` or ``name``."""

    id: Text255 | None = None
    name: Text255 | None = None
    contentType: Text255 | None = None
    # The contract sets no minimum; a negative size is refused all the same.
    size: Annotated[StrictInt, Field(ge=0, le=MAX_ATTACHMENT_SIZE)] | None = None
    url: Annotated[StrictStr, Field(min_length=1, max_length=2500)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if self.url is not None or self.name is not None:
            for attribute in ("name", "url", "size"):
                if getattr(self, attribute) is None:
                    raise missing(attribute)
            return self
        if self.id is None:
            raise missing("id")
        for attribute in ("contentType", "size"):
            if getattr(self, attribute) is not None:
                raise unknown(attribute)
        return self

    @property
    def uploaded(self) -> bool:
        """True for ``{id}`` (an asset), false for a URL attachment."""
        return self.url is None


class Attachments(RequestModel):
    attachment: Annotated[list[AttachmentIn], Field(min_length=1, max_length=5)] | None = None


class CustomAttribute(RequestModel):
    external: StrictBool = True
    object: Literal["activity", "customer"] | None = None
    name: Name
    value: Annotated[StrictStr, Field(min_length=1, max_length=2048)]


class Attributes(RequestModel):
    attribute: Annotated[list[CustomAttribute], Field(min_length=1, max_length=75)] | None = None


class ChannelRef(RequestModel):
    type: Name
    modified: Timestamp | None = None
    id: ObjectId | None = None


class AccountRef(RequestModel):
    """``conversation.account``: how the first message of a conversation names its account."""

    channel: ChannelRef
    address: Name
    modified: Timestamp | None = None
    id: ObjectId | None = None


class EntryPointRef(RequestModel):
    id: Name


class ContactPoint(RequestModel):
    type: Literal["email", "phone", "facebookId", "twitterId", "appleOpaqueId", "other"]
    subType: Literal["mobile", "office", "home"] | None = None
    address: Name


class Contacts(RequestModel):
    contact: Annotated[list[ContactPoint], Field(min_length=1, max_length=25)]


class Customer(RequestModel):
    name: Name | None = None
    type: Literal["individual"] | None = None
    attributes: Metadata | None = None
    contacts: Contacts | None = None


class ClientInfo(RequestModel):
    timeOffset: Annotated[StrictInt, Field(ge=-720, le=720)] | None = None
    referrerName: Name | None = None
    referrerUrl: Annotated[StrictStr, Field(max_length=2500)] | None = None


class PreferredAgent(RequestModel):
    """An ``anyOf``: ``id``, ``userName`` or both; neither → 400-143 naming ``id``."""

    id: Annotated[StrictStr, Field(min_length=1, max_length=36)] | None = None
    userName: Name | None = None

    @model_validator(mode="after")
    def _any_of(self) -> Self:
        if self.id is None and self.userName is None:
            raise missing("id")
        return self


class TranscriptParticipant(RequestModel):
    """``ExternalMessageParticipantData``."""

    name: Name


class TranscriptClient(RequestModel):
    """``ExternalMessageClientData``: a transcript holds only customer and bot messages."""

    type: Literal["custom_bot", "egain_bot", "customer"]
    participant: TranscriptParticipant


class TranscriptRecipients(RequestModel):
    recipient: Annotated[list[TranscriptClient], Field(min_length=1, max_length=1)] | None = None


class TranscriptMessage(RequestModel):
    """``ExternalRequestMessage``: a message exchanged outside the hub, in the transcript a bot
    hands over with ``escalation.transfer`` (``conversation.messages``)."""

    messageId: Text255 | None = None
    type: TranscriptType
    content: ContentIn | None = None
    sender: TranscriptClient
    recipients: TranscriptRecipients
    attributes: Attributes | None = None
    parent: ParentRef | None = None
    sent: Timestamp
    # DECISIONS §4: not in ExternalRequestMessage, but eGain's own example sends it. Held to
    # ResponseMessage's enum, because the transcript is later shown as ResponseMessages.
    status: Literal["sent", "failed", "retryInProgress", "skipped", "unsupported"] | None = None

    @model_validator(mode="after")
    def _xml_for_custom_types(self) -> Self:
        _check_xml(self.content, self.type)
        return self


class TranscriptMessages(RequestModel):
    """``ExternalRequestMessages``."""

    message: Annotated[list[TranscriptMessage], Field(min_length=1, max_length=10)]


class ConversationIn(RequestModel):
    """``RequestConversation``. Which attributes a message needs (``id`` to continue, ``account``
    to start, only ``entryPoint`` for availability events) is the service's rule (DECISIONS §6)."""

    id: ObjectId | None = None
    account: AccountRef | None = None
    conversationContact: ContactKind | None = None
    lookupContact: ContactKind | None = None
    entryPoint: EntryPointRef | None = None
    customer: Customer | None = None
    clientInfo: ClientInfo | None = None
    type: Literal["survey.form"] | None = None
    parent: IdRef | None = None
    preferredAgent: PreferredAgent | None = None
    messages: TranscriptMessages | None = None


class Intent(RequestModel):
    value: Name


class MessageIn(RequestModel):
    """``RequestMessage``: one message a client application sends to the hub."""

    messageId: Text255 | None = None
    conversation: ConversationIn
    type: MessageType
    parent: ParentRef | None = None
    content: ContentIn | None = None
    sender: ClientData
    recipients: Recipients | None = None
    attachments: Attachments | None = None
    attributes: Attributes | None = None
    # DECISIONS §4: not in RequestMessage, but eGain's own agent-to-bot handoff example sends it
    # (and CallbackMessage has it): the intent the bot should take the conversation up with.
    intent: Intent | None = None

    @model_validator(mode="after")
    def _xml_for_custom_types(self) -> Self:
        _check_xml(self.content, self.type)
        return self


class MetadataIn(RequestModel):
    attributes: Metadata | None = None


class MessagesIn(RequestModel):
    message: Annotated[list[MessageIn], Field(min_length=1, max_length=10)]


class SendMessageRequest(RequestModel):
    """``RequestData``: the body of POST /conversations/messages."""

    metadata: MetadataIn | None = None
    messages: MessagesIn
