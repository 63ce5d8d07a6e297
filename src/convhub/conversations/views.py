"""The documents the hub sends, field for field as the contract: the answer to sendMessage
(``SendMessageResponseData``), a conversation (``ResponseConversation``) and the body of a
callback (``CallbackRequestData``).

They are exact: an attribute the contract does not name, or a ``null``, is refused, so a test can
prove that what the hub sends holds only contract fields. Where the contract leaves an attribute
optional, so do they. The sub-objects that are the same schema as in a request (``Content``,
``ClientData``, ``Customer``, ...) are the request models of ``schemas.py``.

Two departures, both because the contract's response schemas omit what its own examples or
message types carry: message types accept ``status.read``/``status.delivered`` (the request enum,
relayed to the counterpart) besides the response enum, and ``CallbackInnerMessage`` has ``status``
(the agent callback example sends it, as ``ResponseMessage`` does).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StrictInt, StrictStr, model_validator

from convhub.conversations.message_types import MESSAGE_TYPES
from convhub.conversations.schemas import (
    Attributes,
    ClientData,
    ClientInfo,
    ContactKind,
    ContentIn,
    Customer,
    EntryPointRef,
    MessageType,
    Metadata,
    Recipients,
    Text255,
    check_message_type,
)
from convhub.core.schemas import IdRef, Name, ObjectId, RequestModel, Timestamp

MessageStatus = Literal["sent", "failed", "retryInProgress", "skipped", "unsupported"]


class Exact(RequestModel):
    """Base of the documents the hub sends: only the contract's attributes, no ``null``."""


# --- sendMessage's answer (SendMessageResponseData) -------------------------------------------


class ConversationIdView(Exact):
    id: ObjectId | None = None


class AcceptedMessage(Exact):
    id: ObjectId | None = None
    messageId: Text255 | None = None
    conversation: ConversationIdView | None = None


class AcceptedMessages(Exact):
    message: Annotated[list[AcceptedMessage], Field(min_length=1, max_length=10)] | None = None


class SendMessageResponse(Exact):
    """``SendMessageResponseData``: the hub's id of each accepted message and its conversation."""

    messages: AcceptedMessages | None = None


# --- shared by conversations and callbacks ----------------------------------------------------


class Pagination(Exact):
    """``PaginationInfo``."""

    count: StrictInt | None = None
    pagenum: StrictInt | None = None
    pagesize: StrictInt | None = None


class AttachmentView(Exact):
    """``Attachment-2``: an attachment as delivered; ``url`` is where to download it."""

    id: Text255 | None = None
    name: Name | None = None
    contentType: Text255 | None = None
    size: Annotated[StrictInt, Field(ge=0, le=10485760)] | None = None
    url: Annotated[StrictStr, Field(min_length=1, max_length=2500)] | None = None


class AttachmentsView(Exact):
    attachment: Annotated[list[AttachmentView], Field(min_length=1, max_length=5)] | None = None


class DeliveredType(Exact):
    """``type`` of a delivered message; ``value`` is optional in the callback schemas."""

    value: StrictStr | None = None

    @model_validator(mode="after")
    def _known_or_custom(self) -> Self:
        if self.value is not None:
            check_message_type(self.value, MESSAGE_TYPES)
        return self


class ParentView(Exact):
    """``parent`` of a ``ResponseMessage`` (``id`` required)."""

    id: ObjectId
    messageId: Text255 | None = None


class CallbackParent(Exact):
    """``parent`` of a callback message (nothing required)."""

    id: ObjectId | None = None
    messageId: Text255 | None = None


# --- fetchConversation's answer (ResponseConversation) ----------------------------------------


class MessageView(Exact):
    """``ResponseMessage``: a message of a conversation, with its delivery ``status``."""

    id: ObjectId | None = None
    messageId: Text255 | None = None
    type: MessageType | None = None
    parent: ParentView | None = None
    content: ContentIn | None = None
    sender: ClientData | None = None
    recipients: Recipients | None = None
    attachments: AttachmentsView | None = None
    attributes: Attributes | None = None
    status: MessageStatus | None = None
    created: Timestamp | None = None
    sent: Timestamp | None = None


class MessagesView(Exact):
    """``ResponseMessages``: a page of messages. ``message`` has at least one item: a page past
    the end leaves it out."""

    paginationInfo: Pagination | None = None
    message: Annotated[list[MessageView], Field(min_length=1, max_length=200)] | None = None


class ChannelView(Exact):
    type: StrictStr
    modified: Timestamp | None = None
    id: ObjectId | None = None


class AccountView(Exact):
    channel: ChannelView
    address: StrictStr
    modified: Timestamp | None = None
    id: ObjectId | None = None


class ConversationView(Exact):
    """``ResponseConversation``: the answer of GET /conversations/{id}."""

    id: ObjectId | None = None
    account: AccountView | None = None
    conversationContact: ContactKind | None = None
    lookupContact: ContactKind | None = None
    entryPoint: EntryPointRef | None = None
    customer: Customer | None = None
    clientInfo: ClientInfo | None = None
    type: Literal["survey.form"] | None = None
    parent: IdRef | None = None
    messages: MessagesView | None = None


# --- a callback's body (CallbackRequestData) --------------------------------------------------


class CallbackInnerMessage(Exact):
    """``CallbackInnerMessage``: a message of the transcript an agent receives on escalation."""

    id: ObjectId | None = None
    messageId: Text255 | None = None
    type: DeliveredType | None = None
    parent: CallbackParent | None = None
    content: ContentIn | None = None
    sender: ClientData | None = None
    recipients: Recipients | None = None
    attachments: AttachmentsView | None = None
    attributes: Attributes | None = None
    created: Timestamp | None = None
    sent: Timestamp | None = None
    # Not in CallbackInnerMessage; the contract's escalation callback example carries it.
    status: MessageStatus | None = None


class CallbackInnerMessages(Exact):
    paginationInfo: Pagination | None = None
    message: Annotated[list[CallbackInnerMessage], Field(min_length=1, max_length=200)] | None = (
        None
    )


class CallbackChannel(Exact):
    type: StrictStr | None = None
    modified: Timestamp | None = None
    id: ObjectId | None = None


class CallbackAccount(Exact):
    channel: CallbackChannel | None = None
    address: StrictStr | None = None
    modified: Timestamp | None = None
    id: ObjectId | None = None


class CallbackConversationParent(Exact):
    id: ObjectId | None = None


class CallbackPreferredAgent(Exact):
    id: Annotated[StrictStr, Field(min_length=1, max_length=36)] | None = None
    userName: Name | None = None


class CallbackConversation(Exact):
    """``CallbackConversation``: the conversation a callback message belongs to; on escalation
    it carries account, entry point, customer, client info and the transcript."""

    id: ObjectId | None = None
    account: CallbackAccount | None = None
    conversationContact: ContactKind | None = None
    lookupContact: ContactKind | None = None
    entryPoint: EntryPointRef | None = None
    customer: Customer | None = None
    clientInfo: ClientInfo | None = None
    type: Literal["survey.form"] | None = None
    parent: CallbackConversationParent | None = None
    preferredAgent: CallbackPreferredAgent | None = None
    messages: CallbackInnerMessages | None = None


class CallbackIntent(Exact):
    value: Name | None = None


class CallbackMessage(Exact):
    """``CallbackMessage``: one message delivered to a client application's callback."""

    id: ObjectId | None = None
    messageId: Text255 | None = None
    type: DeliveredType | None = None
    conversation: CallbackConversation | None = None
    parent: CallbackParent | None = None
    content: ContentIn | None = None
    sender: ClientData | None = None
    recipients: Recipients | None = None
    intent: CallbackIntent | None = None
    attachments: AttachmentsView | None = None
    attributes: Attributes | None = None
    created: Timestamp | None = None
    sent: Timestamp | None = None


class CallbackMessages(Exact):
    message: Annotated[list[CallbackMessage], Field(min_length=1, max_length=200)] | None = None


class CallbackMetadata(Exact):
    attributes: Metadata | None = None


class CallbackRequestData(Exact):
    """``CallbackRequestData``: the body POSTed to a role's callback URL (DECISIONS §8)."""

    metadata: CallbackMetadata | None = None
    messages: CallbackMessages | None = None
