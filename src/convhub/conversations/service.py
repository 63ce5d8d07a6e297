"""Accepting messages (DECISIONS §6): start or continue a conversation, refuse what the rules
forbid, store the message and write its deliveries (the outbox) in the same transaction.

Never commits: the handler does, before it answers 202. A batch is all or nothing: the first
refused message refuses the batch and nothing of it is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.assets import attachments
from convhub.assets.signing import AssetLinks
from convhub.configuration import repository as config
from convhub.conversations import repository, resends, writes
from convhub.conversations.callbacks import callback_body, transcript
from convhub.conversations.message_types import CONVERSATION_LESS, may_send
from convhub.core.errors import (
    ConversationNotActive,
    MessageTypeNotAllowed,
    ReferenceNotFound,
    RequiredAttributeMissing,
    SenderMayNotStart,
    SenderNotInConversation,
)
from convhub.core.runtime import Runtime
from convhub.core.schemas import format_timestamp
from convhub.delivery import outbox
from convhub.delivery.redaction import redact_when_done
from convhub.models import Conversation, Delivery, Message
from convhub.routing import availability, engine, restrictions, system_messages
from convhub.routing import workflow as workflows
from convhub.routing.workflow import Party, Workflow

# Deletions sent on a new conversation (the original one is completed): nothing follows them.
_ONE_SHOT = frozenset({"delete.soft", "delete.permanent", "undo"})
# What a message on an existing conversation may update.
_UPDATABLE = ("customer", "lookupContact", "conversationContact", "clientInfo", "preferredAgent")
# Conversation attributes a client may give when it starts one, kept for callbacks and GET.
_CONVERSATION_FIELDS = (
    "conversationContact",
    "lookupContact",
    "customer",
    "clientInfo",
    "type",
    "parent",
    "preferredAgent",
)
_MESSAGE_FIELDS = (
    "messageId",
    "type",
    "parent",
    "content",
    "sender",
    "recipients",
    "intent",
    "attachments",
    "attributes",
)


@dataclass
class SendContext:
    session: AsyncSession
    tenant_id: str
    runtime: Runtime
    now: datetime
    # Signs the download URLs of uploaded attachments in callbacks.
    links: AssetLinks | None = None
    # No transaction (PostgreSQL): conversations are read without a lock and the message is
    # written by one statement guarded by the row's version (conversations/sending.py).
    guarded: bool = False

    def minutes(self, value: float) -> timedelta:
        return timedelta(seconds=value * self.runtime.settings.minute_seconds)

    def sign(self, asset_id: str) -> str:
        assert self.links is not None
        return self.links.callback_url(asset_id, self.now)


@dataclass
class Open:
    """A conversation being written to, with what routing needs to know about it."""

    conversation: Conversation
    workflow: Workflow
    account: dict[str, Any]
    channel: dict[str, Any]
    # Completed right after this message: a survey, or a deletion on a completed conversation
    # ("you can't submit further messages on new conversation that gets created").
    one_shot: bool = False
    # The version of the conversation's row as read without a lock (SendContext.guarded), and
    # the message stored earlier with the same messageId, read with it.
    version: str | None = None
    earlier_id: str | None = None


class NeedsTransaction(Exception):
    """A guarded send meets what one guarded statement cannot write; nothing was written."""


class Conflict(Exception):
    """A guarded send's conversation changed after it was read; nothing was written."""


async def send(ctx: SendContext, request: dict[str, Any]) -> list[dict[str, Any]]:
    metadata = request.get("metadata")
    return [
        await _accept(ctx, message, metadata=metadata, index=index)
        for index, message in enumerate(request["messages"]["message"])
    ]


async def _accept(
    ctx: SendContext, message: dict[str, Any], *, metadata: dict[str, Any] | None, index: int
) -> dict[str, Any]:
    kind, sender = message["type"]["value"], message["sender"]["type"]
    if not may_send(sender, kind):
        raise MessageTypeNotAllowed(f"messages.message[{index}].type.value", kind)
    if kind in CONVERSATION_LESS:
        return await _availability(ctx, message, index=index)
    conversation_in = message["conversation"]
    if "id" in conversation_in:
        opened = await _continue(ctx, conversation_in["id"], sender, message.get("messageId"))
        _update_attributes(opened.conversation, conversation_in)
        if "messageId" in message:
            earlier = (
                opened.earlier_id
                if opened.version is not None
                else await _earlier(ctx, opened, message)
            )
            if earlier is not None:  # a resend: the first answer again, nothing stored twice
                return _answer(message, opened.conversation.id, earlier)
    else:
        start = _start_survey if _is_survey(conversation_in) else _start
        started = await start(ctx, message, index=index)
        if isinstance(started, resends.Resent):  # a resent start: its first answer again
            return _answer(message, started.conversation_id, started.message_id)
        opened = started
    stored = await _route(ctx, opened, message, metadata=metadata, index=index)
    return _answer(message, opened.conversation.id, stored.id)


def _answer(message: dict[str, Any], conversation_id: str, message_id: str) -> dict[str, Any]:
    answer = {"id": message_id, "conversation": {"id": conversation_id}}
    if "messageId" in message:
        answer["messageId"] = message["messageId"]
    return answer


async def _availability(ctx: SendContext, message: dict[str, Any], *, index: int) -> dict[str, Any]:
    entry_point = message["conversation"].get("entryPoint", {}).get("id")
    if entry_point is None:
        raise RequiredAttributeMissing(f"messages.message[{index}].conversation.entryPoint")
    available = message["type"]["value"] == "agent.available"
    await availability.set_available(
        ctx.session, tenant_id=ctx.tenant_id, entry_point_id=entry_point, available=available
    )
    if available:
        await release_held(ctx, entry_point_id=entry_point)
    answer: dict[str, Any] = {"id": str(uuid.uuid4())}
    if "messageId" in message:
        answer["messageId"] = message["messageId"]
    return answer


async def _earlier(ctx: SendContext, opened: Open, message: dict[str, Any]) -> str | None:
    earlier = await repository.message_by_external_id(
        ctx.session, conversation_id=opened.conversation.id, message_id=message["messageId"]
    )
    return None if earlier is None else earlier.id


async def _continue(
    ctx: SendContext, conversation_id: str, sender: str, message_id: str | None = None
) -> Open:
    where = {"tenant_id": ctx.tenant_id, "conversation_id": conversation_id}
    row_version = earlier_id = None
    if ctx.guarded:
        read = await repository.conversation_as_read(ctx.session, **where, message_id=message_id)
        found = None if read is None else (read.conversation, read.config_version)
        if read is not None:
            row_version, earlier_id = read.row_version, read.earlier_id
    else:
        found = await repository.conversation_to_write(ctx.session, **where)
    if found is None or found[0].status != "in_progress":
        raise ConversationNotActive(conversation_id)
    conversation, version = found
    if conversation.expires_at <= ctx.now:
        raise ConversationNotActive(conversation_id)
    if not engine.participates(conversation.state, sender):
        raise SenderNotInConversation(conversation_id)
    key = ("opened", ctx.tenant_id, conversation.orchestration_id, conversation.account_id)
    cached = ctx.runtime.config.get(key, version=version)
    if cached is not None:
        workflow, account, channel = cached
        return Open(
            conversation, workflow, account, channel, version=row_version, earlier_id=earlier_id
        )
    opened = await _opened(ctx, conversation)
    ctx.runtime.config.put(key, (opened.workflow, opened.account, opened.channel), version=version)
    opened.version, opened.earlier_id = row_version, earlier_id
    return opened


async def _opened(ctx: SendContext, conversation: Conversation) -> Open:
    # Two queries for the six objects a conversation's routing reads: the orchestration and the
    # account, then what they name (applications, participant, channel). A continued
    # conversation reads them once per configuration version (_continue).
    first = await config.objects(
        ctx.session,
        tenant_id=ctx.tenant_id,
        ids=[conversation.orchestration_id, conversation.account_id],
    )
    orchestration = config.of_kind(first, conversation.orchestration_id, "orchestration")
    account = config.of_kind(first, conversation.account_id, "account")
    if orchestration is None or account is None:  # deleted meanwhile
        raise ConversationNotActive(conversation.id)
    channel_id = account.body["channel"]["id"]
    second = await config.objects(
        ctx.session,
        tenant_id=ctx.tenant_id,
        ids=[*workflows.references(orchestration.body), channel_id],
    )
    channel = config.of_kind(second, channel_id, "channel")
    if channel is None:
        raise ConversationNotActive(conversation.id)
    workflow = workflows.build(orchestration.body, second)
    return Open(conversation, workflow, account.body, channel.body)


async def _start(ctx: SendContext, message: dict[str, Any], *, index: int) -> Open | resends.Resent:
    kind, sender = message["type"]["value"], message["sender"]["type"]
    bot_escalating = sender in engine.BOT_SENDERS and kind == "escalation.transfer"
    if sender != "customer" and not bot_escalating:
        raise SenderMayNotStart()
    conversation_in = message["conversation"]
    where = f"messages.message[{index}].conversation.account"
    account_in = conversation_in.get("account")
    if account_in is None:
        raise RequiredAttributeMissing(where)
    channel_type, address = account_in["channel"]["type"], account_in["address"]
    found = await repository.active_account(
        ctx.session, tenant_id=ctx.tenant_id, channel_type=channel_type, address=address
    )
    if found is None:
        raise ReferenceNotFound(where, f"{channel_type} {address}")
    account, channel = found
    key = resends.start_key(ctx, message)
    if (resent := await resends.earlier(ctx, key, account_id=account.id)) is not None:
        return resent
    workflow = await workflows.load(
        ctx.session,
        tenant_id=ctx.tenant_id,
        orchestration_id=account.body["chatConfigurations"]["orchestration"]["id"],
    )
    if workflow is None:
        raise ReferenceNotFound(where, account.id)
    conversation = _new_conversation(ctx, conversation_in, account, channel, workflow)
    conversation.start_key = key
    if sender == "customer":
        await _maybe_bypass_bot(ctx, conversation, workflow)
    ctx.session.add(conversation)
    await ctx.session.flush()
    return Open(conversation, workflow, account.body, channel.body, one_shot=kind in _ONE_SHOT)


def _is_survey(conversation_in: dict[str, Any]) -> bool:
    return conversation_in.get("type") == "survey.form" and "parent" in conversation_in


async def _start_survey(
    ctx: SendContext, message: dict[str, Any], *, index: int
) -> Open | resends.Resent:
    """A survey names the conversation it is about (``conversation.parent.id``) instead of an
    account: it opens a one-message conversation on that conversation's account, delivered to
    whoever served the customer last (the agent if it was escalated, else the bot)."""
    if message["sender"]["type"] != "customer":
        raise SenderMayNotStart()
    parent_id = message["conversation"]["parent"]["id"]
    parent = await repository.conversation(
        ctx.session, tenant_id=ctx.tenant_id, conversation_id=parent_id
    )
    if parent is None:
        raise ReferenceNotFound(f"messages.message[{index}].conversation.parent.id", parent_id)
    key = resends.start_key(ctx, message)
    if (resent := await resends.earlier(ctx, key, account_id=parent.account_id)) is not None:
        return resent
    opened = await _opened(ctx, parent)
    survey = Conversation(
        id=str(uuid.uuid4()),
        tenant_id=ctx.tenant_id,
        account_id=parent.account_id,
        orchestration_id=parent.orchestration_id,
        entry_point_id=parent.entry_point_id,
        state=engine.AGENT if parent.escalated_at else engine.BOT,
        status="in_progress",
        language=parent.language,
        document={**parent.document, "type": "survey.form", "parent": {"id": parent.id}},
        contact_key=parent.contact_key,
        start_key=key,
        next_seq=1,
        created=ctx.now,
        last_message_at=ctx.now,
        expires_at=parent.expires_at,
    )
    ctx.session.add(survey)
    await ctx.session.flush()
    return Open(survey, opened.workflow, opened.account, opened.channel, one_shot=True)


def _update_attributes(conversation: Conversation, conversation_in: dict[str, Any]) -> None:
    """customer.info, an escalation to a preferred agent, ...: what a later message says about
    the customer or the conversation replaces what was known."""
    changes = {k: conversation_in[k] for k in _UPDATABLE if k in conversation_in}
    if changes:
        conversation.document = {**conversation.document, **changes}
        conversation.contact_key = _contact_key(conversation.document) or conversation.contact_key


def _new_conversation(
    ctx: SendContext,
    conversation_in: dict[str, Any],
    account: Any,
    channel: Any,
    workflow: Workflow,
) -> Conversation:
    chat = account.body["chatConfigurations"]
    document: dict[str, Any] = {
        "account": {
            "channel": {
                "type": channel.body["type"],
                "id": channel.id,
                "modified": format_timestamp(channel.modified),
            },
            "address": account.body["address"],
            "id": account.id,
            "modified": format_timestamp(account.modified),
        },
        "entryPoint": {"id": chat["entryPoint"]["id"]},
    }
    document.update({k: conversation_in[k] for k in _CONVERSATION_FIELDS if k in conversation_in})
    return Conversation(
        id=str(uuid.uuid4()),
        tenant_id=ctx.tenant_id,
        account_id=account.id,
        orchestration_id=chat["orchestration"]["id"],
        entry_point_id=chat["entryPoint"]["id"],
        state=engine.BOT if workflow.bot else engine.AGENT,
        status="in_progress",
        language=chat.get("defaultLanguage", "en-US"),
        document=document,
        contact_key=_contact_key(conversation_in),
        next_seq=1,
        created=ctx.now,
        last_message_at=ctx.now,
        expires_at=ctx.now + ctx.minutes(chat.get("timeout", 240)),
    )


def _contact_key(conversation_in: dict[str, Any]) -> str | None:
    """The customer's address for the contact point `conversationContact` names
    (``phone.mobile`` is the contact of type phone and subType mobile)."""
    wanted = conversation_in.get("conversationContact")
    contacts = conversation_in.get("customer", {}).get("contacts", {}).get("contact", [])
    if wanted is None:
        return None
    kind, _, sub = wanted.partition(".")
    for contact in contacts:
        if contact["type"] == kind and (not sub or contact.get("subType") == sub):
            return f"{wanted}:{contact['address']}"
    return None


async def _maybe_bypass_bot(
    ctx: SendContext, conversation: Conversation, workflow: Workflow
) -> None:
    """bypassVaDuration: a customer whose previous conversation was escalated recently goes
    straight to the agent."""
    minutes = workflow.bypass_va_minutes
    if not (minutes and conversation.contact_key and workflow.agent and workflow.bot):
        return
    previous = await repository.last_escalated(
        ctx.session,
        tenant_id=ctx.tenant_id,
        account_id=conversation.account_id,
        contact_key=conversation.contact_key,
        since=ctx.now - ctx.minutes(minutes),
    )
    if previous is not None:
        conversation.state, conversation.escalated_at = engine.AGENT, ctx.now


def _store(
    ctx: SendContext,
    conversation: Conversation,
    message: dict[str, Any],
    *,
    status: str | None = None,
    recipients: list[Party] | None = None,
) -> Message:
    document = {k: message[k] for k in _MESSAGE_FIELDS if k in message}
    external = message["conversation"].get("messages", {}).get("message")
    if external:  # a bot's transcript of what it said outside the hub, for the agent
        document["_transcript"] = external
    if recipients:
        document["recipients"] = _recipients(recipients)
    stored = Message(
        id=str(uuid.uuid4()),
        tenant_id=ctx.tenant_id,
        conversation_id=conversation.id,
        seq=conversation.next_seq,
        message_id=message.get("messageId"),
        type=message["type"]["value"],
        sender_type=message["sender"]["type"],
        document=document,
        status=status,
        created=ctx.now,
    )
    conversation.next_seq += 1
    return stored


async def _route(
    ctx: SendContext,
    opened: Open,
    message: dict[str, Any],
    *,
    metadata: dict[str, Any] | None,
    index: int,
) -> Message:
    conversation, workflow = opened.conversation, opened.workflow
    where = f"messages.message[{index}]"
    message = await attachments.resolve(
        ctx.session, tenant_id=ctx.tenant_id, message=message, where=where
    )
    restrictions.check_message(opened.channel, message, where=where, language=conversation.language)
    chat = opened.account["chatConfigurations"]
    state, sender_type = conversation.state, message["sender"]["type"]
    message_type = message["type"]["value"]
    # Only an escalation (or a customer of an agent-only workflow) asks whether agents are there.
    available = not engine.needs_availability(
        state=state, workflow=workflow, sender_type=sender_type, message_type=message_type
    ) or await availability.is_available(
        ctx.session, tenant_id=ctx.tenant_id, entry_point_id=conversation.entry_point_id
    )
    decision = engine.route(
        state=state,
        workflow=workflow,
        sender_type=sender_type,
        message_type=message_type,
        agent_available=available,
        on_unavailable=chat.get("onAgentUnavailability", "off_hours"),
    )
    if opened.one_shot:
        decision.complete = True
    # The conversation's changes, and the message's recipients and the status its deliveries
    # give it, before the flush that inserts the message: one UPDATE of the conversation and no
    # UPDATE of the message after its INSERT.
    _apply(ctx, conversation, decision, timeout=chat.get("timeout", 240))
    if decision.recipients:
        status = "retryInProgress"
    else:
        status = "retained" if decision.retained else "skipped"
    stored = _store(ctx, conversation, message, status=status, recipients=decision.recipients)
    plain = _plain(conversation, message, decision)
    if opened.version is not None and not (plain and len(decision.recipients) <= 1):
        raise NeedsTransaction()
    if plain:
        deliveries = _deliveries(
            ctx, conversation, stored, decision.recipients, metadata=metadata, history=None
        )
        written = await writes.write(
            ctx.session,
            conversation=conversation,
            message=stored,
            deliveries=deliveries,
            guard=opened.version,
        )
        if not written:
            raise Conflict()
        return stored
    ctx.session.add(stored)
    await ctx.session.flush()
    await attachments.mark_used(ctx.session, message=message, message_id=stored.id)
    await _deliver(
        ctx,
        conversation,
        stored,
        decision.recipients,
        metadata=metadata,
        with_transcript=decision.with_transcript,
    )
    if not decision.recipients and not decision.retained:
        await redact_when_done(ctx.session, stored)
    if decision.system_text:
        await _system_message(ctx, opened, decision.system_text)
    return stored


def _plain(conversation: Conversation, message: dict[str, Any], decision: engine.Route) -> bool:
    """Nearly every message: nothing but the conversation's changes, the message and its
    deliveries to write (writes.write: one statement on PostgreSQL). Not: a transcript (it
    reads the messages so far), uploaded attachments (marked used), a message with nobody to
    deliver to (redacted at once if asked), a system message after it."""
    return (
        inspect(conversation).persistent
        and not decision.with_transcript
        and not decision.system_text
        and bool(decision.recipients or decision.retained)
        and not attachments.uploaded_ids(message)
    )


def _apply(
    ctx: SendContext, conversation: Conversation, decision: engine.Route, *, timeout: float
) -> None:
    if decision.state:
        conversation.state = decision.state
    if decision.escalated:
        conversation.escalated_at = ctx.now
    if decision.complete:
        conversation.status, conversation.completed = "completed", ctx.now
    conversation.last_message_at = ctx.now
    conversation.expires_at = ctx.now + ctx.minutes(timeout)


async def _deliver(
    ctx: SendContext,
    conversation: Conversation,
    message: Message,
    recipients: list[Party],
    *,
    metadata: dict[str, Any] | None,
    with_transcript: bool,
) -> None:
    if recipients and message.document.get("recipients") != _recipients(recipients):
        message.document = {**message.document, "recipients": _recipients(recipients)}
    history = None
    if with_transcript:
        earlier = [
            m
            for m in await repository.messages(ctx.session, conversation_id=conversation.id)
            if m.seq < message.seq and m.status != "retained"
        ]
        history = transcript(
            earlier, message.document.get("_transcript", []), sign=ctx.sign if ctx.links else None
        )
    deliveries = _deliveries(
        ctx, conversation, message, recipients, metadata=metadata, history=history
    )
    ctx.session.add_all(deliveries)


def _deliveries(
    ctx: SendContext,
    conversation: Conversation,
    message: Message,
    recipients: list[Party],
    *,
    metadata: dict[str, Any] | None,
    history: dict[str, Any] | None,
) -> list[Delivery]:
    """The outbox rows of ``message``, one per recipient (not yet in the session)."""
    window = timedelta(seconds=ctx.runtime.settings.retry_window_seconds)
    return [
        outbox.new_delivery(
            conversation=conversation,
            message=message,
            recipient=party,
            body=callback_body(
                conversation=conversation,
                message=message,
                metadata=metadata,
                history=history,
                sign=ctx.sign if ctx.links else None,
            ),
            now=ctx.now,
            window=window,
        )
        for party in recipients
    ]


def _recipients(parties: list[Party]) -> dict[str, Any]:
    return {"recipient": [party.as_client() for party in parties]}


async def _system_message(ctx: SendContext, opened: Open, key: str) -> None:
    """A text from the hub to the customer (DECISIONS §7: off hours, retained)."""
    conversation, customer = opened.conversation, opened.workflow.customer
    text = system_messages.localized(opened.channel, key, conversation.language)
    message = {
        "type": {"value": "text"},
        "content": {"text": text},
        "sender": system_messages.SYSTEM_SENDER,
        "conversation": {"id": conversation.id},
    }
    recipients = [customer] if customer else []
    stored = _store(
        ctx,
        conversation,
        message,
        status="retryInProgress" if customer else None,
        recipients=recipients,
    )
    ctx.session.add(stored)
    await ctx.session.flush()
    await _deliver(
        ctx,
        conversation,
        stored,
        recipients,
        metadata=None,
        with_transcript=False,
    )


async def release_held(ctx: SendContext, *, entry_point_id: str) -> None:
    """Agents are back at ``entry_point_id``: transfer every held conversation to the agent,
    the escalation with the conversation so far, then each message retained meanwhile."""
    for conversation in await repository.held(
        ctx.session, tenant_id=ctx.tenant_id, entry_point_id=entry_point_id
    ):
        opened = await _opened(ctx, conversation)
        agent = opened.workflow.agent
        if agent is None:
            continue
        conversation.state, conversation.escalated_at = engine.AGENT, ctx.now
        history = await repository.messages(ctx.session, conversation_id=conversation.id)
        escalations = [m for m in history if m.type == "escalation.transfer"]
        retained = [
            m for m in history if m.status == "retained" and m.type != "escalation.transfer"
        ]
        if escalations:
            await _deliver(
                ctx, conversation, escalations[-1], [agent], metadata=None, with_transcript=True
            )
        for message in retained:
            await _deliver(
                ctx, conversation, message, [agent], metadata=None, with_transcript=False
            )
