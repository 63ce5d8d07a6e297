"""send_mail against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from convhub.core.settings import Settings
from convhub.delivery.mail import send_mail

# The delivery client and its parts against loopback servers: no database.
pytestmark = pytest.mark.database_free


@dataclass
class Mailbox:
    port: int
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def authenticate(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login = (auth_data.login.decode(), auth_data.password.decode())
        self.logins.append(login)
        return AuthResult(success=login == ("convhub", "mail-pw"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server on loopback that accepts any mail (and the login convhub/mail-pw)."""
    box = Mailbox(_free_port())
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def mail_settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


class TestSendMail:
    async def test_delivered_with_to_and_subject(self, mailbox: Mailbox) -> None:
        settings = mail_settings(
            smtp_host="127.0.0.1", smtp_port=mailbox.port, mail_from="hub@example.com"
        )

        await send_mail(
            settings,
            to="ops@example.com",
            subject="Delivery to role customer failed",
            text="Message m-1 could not be delivered: the callback answered 404.",
        )

        [message] = mailbox.messages
        assert message["To"] == "ops@example.com"
        assert message["From"] == "hub@example.com"
        assert message["Subject"] == "Delivery to role customer failed"
        assert "the callback answered 404" in message.get_payload()
        assert mailbox.recipients == [["ops@example.com"]]

    async def test_line_breaks_in_the_subject_are_flattened(self, mailbox: Mailbox) -> None:
        settings = mail_settings(smtp_host="127.0.0.1", smtp_port=mailbox.port)

        await send_mail(settings, to="a@example.com", subject="one\r\nBcc: x@evil", text="t")

        [message] = mailbox.messages
        assert message["Subject"] == "one Bcc: x@evil"
        assert message["Bcc"] is None
        assert mailbox.recipients == [["a@example.com"]]

    async def test_login_when_a_username_is_set(self, mailbox: Mailbox) -> None:
        settings = mail_settings(
            smtp_host="127.0.0.1",
            smtp_port=mailbox.port,
            smtp_username="convhub",
            smtp_password=SecretStr("mail-pw"),
        )

        await send_mail(settings, to="a@example.com", subject="s", text="t")

        assert mailbox.logins == [("convhub", "mail-pw")]
        assert len(mailbox.messages) == 1

    async def test_nothing_sent_without_an_smtp_host(self, mailbox: Mailbox) -> None:
        settings = mail_settings(smtp_port=mailbox.port)

        await send_mail(settings, to="a@example.com", subject="s", text="t")

        assert mailbox.messages == []

    async def test_unreachable_server_raises(self) -> None:
        settings = mail_settings(smtp_host="127.0.0.1", smtp_port=_free_port())

        with pytest.raises(OSError):  # noqa: PT011 - ConnectionRefusedError, or a timeout
            await send_mail(settings, to="a@example.com", subject="s", text="t")
