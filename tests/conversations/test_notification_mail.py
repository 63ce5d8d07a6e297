"""A message that finally fails mails a notice to the recipient role's ``notificationEmail``, at
most once an hour per role (DECISIONS §8), through a real SMTP server (aiosmtpd) on loopback.

The hub here is a server process of this module's own, with SMTP configured, on a database of
its own: the session's delivering hub (``hub_url``) runs a worker too, and on a shared database
it could take the failing delivery and record its notice without mailing it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from convhub.core.database import Database
from convhub.core.security.crypto import SecretBox
from convhub.core.settings import Settings
from convhub.identity import service as identity
from tests.conftest import API_BASE, token_for
from tests.conversations.conftest import Apps, build_apps, only, received, say, send
from tests.databases import fresh_database
from tests.receivers import Reply
from tests.server import free_port, server_process

MAIL_FROM = "convhub@hub.test"
NOTIFICATION_EMAIL = "client_app_admin@example.com"  # tests.factories.role's
# After the second failure's error message reached the customer, this long for a (wrong) second
# mail: the worker mails right after recording the failure, SMTP on loopback takes milliseconds.
GRACE = 1.0


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.messages.append(mail)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def about(self, conversation_id: str) -> list[EmailMessage]:
        """The mails naming this conversation."""
        return [m for m in self.messages if conversation_id in m.get_content()]

    async def wait_about(self, conversation_id: str, count: int, *, within: float = 15) -> None:
        deadline = time.monotonic() + within
        while len(self.about(conversation_id)) < count:
            assert time.monotonic() < deadline, f"{len(self.about(conversation_id))} mails"
            await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def mail_hub_settings(
    hub_settings: Settings, mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    with fresh_database(tmp_path_factory.mktemp("mail-db")) as url:
        yield hub_settings.model_copy(
            update={
                "database_url": url,
                "smtp_host": "127.0.0.1",
                "smtp_port": mailbox.port,
                "mail_from": MAIL_FROM,
            }
        )


@pytest.fixture(scope="module")
def mail_hub_url(
    mail_hub_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("mail-hub") / "hub.log"
    with server_process(mail_hub_settings, log_path=log) as url:
        yield url


@pytest.fixture
async def mail_hub(
    mail_hub_url: str, mail_hub_settings: Settings, box: SecretBox
) -> AsyncIterator[httpx.AsyncClient]:
    """The API of this module's hub, as a client of a new tenant in its database."""
    database = Database(mail_hub_settings.database_url)
    try:
        async with database.session() as session:
            created = await identity.create_client(
                session, name="mail", tenant=f"t-{uuid.uuid4().hex}", permissions=None, box=box
            )
    finally:
        await database.dispose()
    token = await token_for(mail_hub_url, created.client_id, created.client_secret)
    async with httpx.AsyncClient(
        base_url=mail_hub_url + API_BASE, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
async def refusing_bot(mail_hub: httpx.AsyncClient, receivers) -> Apps:
    """Customer, bot and agent apps on the mail hub; the bot answers every callback 400."""
    apps = await build_apps(mail_hub, receivers)
    apps.bot.default = Reply(status=400)
    return apps


async def failed_start(hub: httpx.AsyncClient, apps: Apps, text: str) -> tuple[str, str]:
    """A conversation whose first message the bot refuses: (message id, conversation id)."""
    answer = await send(hub, apps.start(text))
    [accepted] = answer["messages"]["message"]
    return accepted["id"], accepted["conversation"]["id"]


class TestNotice:
    async def test_a_failure_mails_the_roles_notification_email(
        self, mail_hub, refusing_bot, mailbox
    ):
        message_id, conversation_id = await failed_start(mail_hub, refusing_bot, "refused")
        [error] = await received(refusing_bot.customer, 1)
        assert only(error)["parent"]["id"] == message_id
        await mailbox.wait_about(conversation_id, 1)
        [mail] = mailbox.about(conversation_id)
        assert mail["To"] == NOTIFICATION_EMAIL
        assert mail["From"] == MAIL_FROM
        assert "(custom_bot)" in mail["Subject"]
        text = mail.get_content()
        assert f"message {message_id} of conversation {conversation_id}" in text
        assert f"{refusing_bot.bot.url}/custom_bot" in text
        assert "answered 400" in text
        assert [NOTIFICATION_EMAIL] in mailbox.recipients

    async def test_a_second_failure_within_the_hour_mails_nothing(
        self, mail_hub, refusing_bot, mailbox
    ):
        _, conversation_id = await failed_start(mail_hub, refusing_bot, "refused")
        await received(refusing_bot.customer, 1)
        await mailbox.wait_about(conversation_id, 1)
        answer = await send(mail_hub, say(conversation_id, "customer", "refused again"))
        second = answer["messages"]["message"][0]["id"]
        errors = await received(refusing_bot.customer, 2)
        assert only(errors[1])["parent"]["id"] == second  # the second failure is recorded
        await asyncio.sleep(GRACE)
        assert len(mailbox.about(conversation_id)) == 1
        assert len(refusing_bot.bot.requests) == 2

    async def test_each_role_has_its_own_hour(self, mail_hub, refusing_bot, mailbox):
        # The customer app refuses too: the error message about the bot's refusal fails as well.
        refusing_bot.customer.default = Reply(status=400)
        _, conversation_id = await failed_start(mail_hub, refusing_bot, "refused")
        await mailbox.wait_about(conversation_id, 2)
        roles = {mail["Subject"].rsplit("(", 1)[1] for mail in mailbox.about(conversation_id)}
        assert roles == {"custom_bot) fail", "customer) fail"}
