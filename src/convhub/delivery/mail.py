"""Notification mail: a role's ``notificationEmail`` is told when a message to it finally fails
(DECISIONS §8). Only the sending is here; who is mailed, and at most once an hour per role, is the
worker's business.

The standard library's ``smtplib`` in a thread: one short-lived connection per mail, and mails
are rare (one per role and hour at most), so an async SMTP client would buy nothing.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

from convhub.core.settings import Settings

# Seconds for each SMTP network operation.
SMTP_TIMEOUT = 10.0


async def send_mail(settings: Settings, *, to: str, subject: str, text: str) -> None:
    """Send a plain-text mail through ``settings.smtp_host``; nothing when it is not set.

    Raises ``OSError`` (no connection, timeout) or ``smtplib.SMTPException`` (refused, login
    failed) when the mail could not be handed to the server.
    """
    if not settings.smtp_host:
        return
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    # A header cannot hold a line break (the email package refuses it): flatten the subject.
    message["Subject"] = " ".join(subject.split())
    message.set_content(text)
    await asyncio.to_thread(_send, settings, message)


def _send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)
