"""All SQL for conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import String, bindparam, func, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from convhub.configuration import repository as config
from convhub.core.pagination import Page
from convhub.models import ConfigObject, Conversation, Message, Tenant


async def conversation(
    session: AsyncSession, *, tenant_id: str, conversation_id: str
) -> Conversation | None:
    """The conversation, unlocked (to read it; :func:`conversation_to_write` to write to it)."""
    query = select(Conversation).where(
        Conversation.id == conversation_id, Conversation.tenant_id == tenant_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def conversation_to_write(
    session: AsyncSession, *, tenant_id: str, conversation_id: str
) -> tuple[Conversation, int] | None:
    """The conversation, locked, with its tenant's configuration version (configuration/cache)."""
    parameters = {"conversation_id": conversation_id, "tenant_id": tenant_id}
    row = (await session.execute(_TO_WRITE, parameters)).one_or_none()
    return None if row is None else (row[0], row[1])


# Built once: every sendMessage runs it, and building a statement (and its cache key) costs more
# than running a cached one.
_TO_WRITE = (
    select(Conversation, Tenant.config_version)
    .join(Tenant, Tenant.id == Conversation.tenant_id)
    .where(
        Conversation.id == bindparam("conversation_id"),
        Conversation.tenant_id == bindparam("tenant_id"),
    )
    .with_for_update(of=Conversation)
)


class AsRead(NamedTuple):
    conversation: Conversation
    config_version: int
    row_version: str
    # The message stored earlier with the messageId asked about, if any (a resend).
    earlier_id: str | None


async def conversation_as_read(
    session: AsyncSession, *, tenant_id: str, conversation_id: str, message_id: str | None = None
) -> AsRead | None:
    """PostgreSQL: the conversation, unlocked, with its tenant's configuration version, the
    version of its row (:data:`ROW_VERSION`), for a write guarded by that version
    (conversations/sending.py), and the message stored earlier with ``message_id``: one round
    trip."""
    parameters = {
        "conversation_id": conversation_id,
        "tenant_id": tenant_id,
        "message_id": message_id,
    }
    row = (await session.execute(_AS_READ, parameters)).one_or_none()
    return None if row is None else AsRead(*row)


# PostgreSQL: the id of the transaction that wrote the row as it is; any UPDATE, by any code
# path, changes it. A write guarded by it (WHERE xmin = the one read) finds no row if anything
# wrote the conversation since it was read.
ROW_VERSION = literal_column("conversations.xmin::text", String)

_EARLIER = (
    select(Message.id)
    .where(
        Message.conversation_id == Conversation.id, Message.message_id == bindparam("message_id")
    )
    .scalar_subquery()
)

_AS_READ = (
    select(Conversation, Tenant.config_version, ROW_VERSION, _EARLIER)
    .join(Tenant, Tenant.id == Conversation.tenant_id)
    .where(
        Conversation.id == bindparam("conversation_id"),
        Conversation.tenant_id == bindparam("tenant_id"),
    )
)


async def message_by_external_id(
    session: AsyncSession, *, conversation_id: str, message_id: str
) -> Message | None:
    query = select(Message).where(
        Message.conversation_id == conversation_id, Message.message_id == message_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def started_by(
    session: AsyncSession, *, tenant_id: str, account_id: str, start_key: str, since: datetime
) -> tuple[str, str] | None:
    """The latest conversation of the account started since ``since`` by the message whose digest
    is ``start_key``, and that first message: (conversation id, message id)."""
    query = (
        select(Conversation.id, Message.id)
        .join(Message, (Message.conversation_id == Conversation.id) & (Message.seq == 1))
        .where(
            Conversation.tenant_id == tenant_id,
            Conversation.account_id == account_id,
            Conversation.start_key == start_key,
            Conversation.created >= since,
        )
        .order_by(Conversation.created.desc())
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def lock_for_transaction(session: AsyncSession, lock_id: int) -> None:
    """PostgreSQL: wait for, then hold until commit or rollback, the advisory lock ``lock_id``."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


async def messages(session: AsyncSession, *, conversation_id: str) -> list[Message]:
    query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
    return list((await session.execute(query)).scalars())


async def messages_page(
    session: AsyncSession, *, conversation_id: str, page: Page
) -> tuple[int, list[Message]]:
    where = Message.conversation_id == conversation_id
    total = await session.scalar(select(func.count()).select_from(Message).where(where))
    rows = await session.execute(
        select(Message).where(where).order_by(Message.seq).offset(page.offset).limit(page.size)
    )
    return int(total or 0), list(rows.scalars())


async def active_account(
    session: AsyncSession, *, tenant_id: str, channel_type: str, address: str
) -> tuple[ConfigObject, ConfigObject] | None:
    """The active account at (channel type, address), with its channel (DECISIONS §6)."""
    channel = (
        await session.execute(
            select(ConfigObject).where(
                ConfigObject.tenant_id == tenant_id,
                ConfigObject.kind == "channel",
                ConfigObject.name_hash == config.name_hash(channel_type),
            )
        )
    ).scalar_one_or_none()
    if channel is None or not channel.body.get("active", True):
        return None
    for account in await config.referrers(session, target_id=channel.id, kind="account"):
        body = account.body
        if body.get("active", True) and body["address"] == address:
            return account, channel
    return None


async def last_escalated(
    session: AsyncSession, *, tenant_id: str, account_id: str, contact_key: str, since: datetime
) -> Conversation | None:
    """The customer's latest conversation on this account escalated after ``since``."""
    query = (
        select(Conversation)
        .where(
            Conversation.tenant_id == tenant_id,
            Conversation.account_id == account_id,
            Conversation.contact_key == contact_key,
            Conversation.escalated_at >= since,
        )
        .order_by(Conversation.escalated_at.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def complete_expired(session: AsyncSession, *, now: datetime) -> int:
    """Complete the conversations whose timeout has passed; how many."""
    result = await session.execute(
        update(Conversation)
        .where(Conversation.status == "in_progress", Conversation.expires_at <= now)
        .values(status="completed", completed=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def held(session: AsyncSession, *, tenant_id: str, entry_point_id: str) -> list[Conversation]:
    query = (
        select(Conversation)
        .where(
            Conversation.tenant_id == tenant_id,
            Conversation.entry_point_id == entry_point_id,
            Conversation.state == "held",
            Conversation.status == "in_progress",
        )
        .order_by(Conversation.created)
        .with_for_update()
    )
    return list((await session.execute(query)).scalars())
