"""What every sample application needs to work with convhub: its settings, a client for the
hub's API, and the callback endpoint that checks that a request really comes from the hub.

Copy this file next to the application you start from (bot.py, agent_app.py, customer_app.py).
It needs httpx, standardwebhooks, starlette and uvicorn, all installed with convhub
(elsewhere: ``pip install httpx standardwebhooks starlette uvicorn``).

An application talks to the hub in two directions:

- **to the hub**: ``POST /conversation/conversationmgr/v3/conversations/messages`` with a bearer
  token from ``POST /oauth2/token`` (OAuth 2.0 client credentials of an API client with the
  permission ``app.conversation.conversationmgr.interaction.manage``): :class:`HubClient`.
- **from the hub**: the hub POSTs each message for the application to the callback URL of its
  role, signed with the tenant's Standard Webhooks secret: :func:`callback_route`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import os
import sys
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

API_BASE = "/conversation/conversationmgr/v3"

Message = dict[str, Any]
OnMessage = Callable[[Message], Awaitable[None]]

log = logging.getLogger("hub")


@dataclass(frozen=True)
class HubSettings:
    """Where the hub is and the secrets to talk to it, from the environment (never from the
    command line: other users of the machine can read command lines)."""

    url: str  # HUB_URL: the hub's root, e.g. http://127.0.0.1:8000
    client_id: str  # HUB_CLIENT_ID: this application's API client (convhub clients create)
    client_secret: str  # HUB_CLIENT_SECRET
    signing_secret: str  # HUB_SIGNING_SECRET: whsec_..., from convhub signing-secret
    # HUB_CALLBACK_CREDENTIALS, optional: "username:password" of the basic authentication the
    # application's role has, if any. The signature already proves that a callback comes from
    # the hub; checking these too refuses callbacks meant for another application.
    callback_credentials: str | None = None

    @classmethod
    def from_environment(cls) -> HubSettings:
        names = ("HUB_URL", "HUB_CLIENT_ID", "HUB_CLIENT_SECRET", "HUB_SIGNING_SECRET")
        missing = [name for name in names if not os.environ.get(name)]
        if missing:
            sys.exit(f"error: set {', '.join(missing)} (see examples/README.md)")
        url, client_id, client_secret, signing_secret = (os.environ[name] for name in names)
        credentials = os.environ.get("HUB_CALLBACK_CREDENTIALS") or None
        return cls(url.rstrip("/"), client_id, client_secret, signing_secret, credentials)


class HubClient:
    """Sends messages to the hub with a token it fetches and renews itself."""

    def __init__(self, settings: HubSettings) -> None:
        self._settings = settings
        self._http = httpx.AsyncClient(base_url=settings.url, timeout=10)
        self._token: str | None = None
        self._renew_at = 0.0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _bearer(self) -> str:
        if self._token is None or time.monotonic() >= self._renew_at:
            answer = await self._http.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(self._settings.client_id, self._settings.client_secret),
            )
            answer.raise_for_status()
            token = answer.json()
            self._token = str(token["access_token"])
            # Renew a little before the hub would refuse it.
            self._renew_at = time.monotonic() + 0.9 * float(token["expires_in"])
        return self._token

    async def send(self, *messages: Message) -> list[dict[str, Any]]:
        """Send 1 to 10 messages in order; answers the hub's ids for each (``id``,
        ``messageId``, ``conversation.id``). Raises ``httpx.HTTPStatusError`` when the hub
        refuses them: its answer's body says why (an eGain error code)."""
        for _ in range(2):  # a revoked or expired token: fetch a new one, once
            answer = await self._http.post(
                f"{API_BASE}/conversations/messages",
                json={"messages": {"message": list(messages)}},
                headers={"Authorization": f"Bearer {await self._bearer()}"},
            )
            if answer.status_code != 401:
                break
            self._token = None
        if answer.is_error:
            log.error("the hub refused %s: %s", _kinds(messages), answer.text)
        answer.raise_for_status()
        return list(answer.json()["messages"]["message"])


def message(
    kind: str, *, sender: tuple[str, str], conversation: dict[str, Any], text: str | None = None
) -> Message:
    """A message for :meth:`HubClient.send`: ``sender`` is (type, name), e.g.
    ``("custom_bot", "eva")``; ``conversation`` is ``{"id": ...}`` to continue one.

    Each message gets a ``messageId`` of its own: should the same message be sent twice (a
    retry after a network error), the hub answers the first one's ids and stores it once."""
    sender_type, name = sender
    built: Message = {
        "messageId": str(uuid.uuid4()),
        "type": {"value": kind},
        "sender": {"type": sender_type, "participant": {"name": name}},
        "conversation": conversation,
    }
    if text is not None:
        built["content"] = {"text": text}
    return built


def text_of(message: Message) -> str:
    return str(message.get("content", {}).get("text", ""))


def callback_route(settings: HubSettings, on_message: OnMessage, *, app: str) -> Route:
    """``POST /callback``: where the hub delivers this application's messages.

    It refuses (401) a request whose Standard Webhooks signature does not verify with the
    tenant's secret (or without the role's basic credentials, when given), answers 202 at
    once, and only then hands each message to ``on_message``: the hub waits at most 5 seconds
    for an answer, and retries when there is none. A message
    the hub delivers twice (the same ``webhook-id``) is handled once, and messages are handled
    one at a time, in the order they arrived (the hub sends them in order)."""
    webhook = Webhook(settings.signing_secret)
    expected_authorization = b""
    if settings.callback_credentials:
        expected_authorization = b"Basic " + base64.b64encode(
            settings.callback_credentials.encode()
        )
    seen: OrderedDict[str, None] = OrderedDict()
    in_order = asyncio.Lock()  # first come, first served

    async def handle(messages: list[Message]) -> None:
        async with in_order:
            for item in messages:
                try:
                    await on_message(item)
                except Exception:  # one failed message must not stop the application
                    log.exception("%s: could not handle %s", app, item["type"]["value"])

    async def callback(request: Request) -> Response:
        given = request.headers.get("Authorization", "").encode("latin-1")
        if expected_authorization and not hmac.compare_digest(given, expected_authorization):
            log.warning("%s: refused a callback without this application's credentials", app)
            return Response(status_code=401)
        body = await request.body()
        try:
            document = webhook.verify(body, dict(request.headers))
        except (WebhookVerificationError, ValueError, binascii.Error):
            log.warning("%s: refused a callback that is not signed by the hub", app)
            return Response(status_code=401)
        webhook_id = request.headers["webhook-id"]
        if webhook_id in seen:
            return Response(status_code=202)
        seen[webhook_id] = None
        if len(seen) > 10_000:
            seen.popitem(last=False)
        task = BackgroundTask(handle, document["messages"]["message"])
        return Response(status_code=202, background=task)

    return Route("/callback", callback, methods=["POST"])


def _kinds(messages: tuple[Message, ...]) -> str:
    return ", ".join(m["type"]["value"] for m in messages)


def configure_logging(app: str) -> None:
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {app}: %(message)s", stream=sys.stdout
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
