"""A customer application (a channel connector) for convhub: it carries a web chat's messages
to the hub, and the hub's answers back to the chat.

Run it against a running hub (examples/README.md says how to configure the hub for it):

    export HUB_URL=http://127.0.0.1:8000 HUB_CLIENT_ID=<id> HUB_CLIENT_SECRET=<secret>
    export HUB_SIGNING_SECRET=$(.venv/bin/convhub signing-secret --tenant default)
    .venv/bin/python examples/customer_app.py --port 9001 \\
        --channel-type custom.webchat --address 123456789

Then chat as John, with curl standing in for the chat window of a web page:

    curl -s -d '{"user": "John", "text": "Where is my order?"}' http://127.0.0.1:9001/chat
    curl -s http://127.0.0.1:9001/chat/John      # what John has received so far

It has two sides:

- the chat's side: ``POST /chat`` with ``{"user", "text"}`` sends the user's message to the
  hub. The user's first message starts a conversation on the account that ``--channel-type``
  and ``--address`` name; the next ones continue it, until it ends. ``GET /chat/{user}``
  answers what the user has received (a real chat would push it over a WebSocket).
- the hub's side: ``POST /callback``, the callback of the customer application's ``customer``
  role, receives what the bot and the agent send the user.

A connector for another channel (SMS, a messenger) has the same two sides: copy this file and
hub.py, and replace the chat's side with your channel's API.
"""

from __future__ import annotations

import argparse
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub import HubClient, HubSettings, Message, callback_route, configure_logging, message, text_of

log = logging.getLogger("customer_app")


class Chats:
    """Who talks in which conversation, and what each user has received."""

    def __init__(self) -> None:
        self.conversation_of: dict[str, str] = {}  # user -> their open conversation
        self.user_of: dict[str, str] = {}  # conversation -> its user
        self.received: defaultdict[str, list[dict[str, str]]] = defaultdict(list)

    def started(self, user: str, conversation_id: str) -> None:
        self.conversation_of[user] = conversation_id
        self.user_of[conversation_id] = user

    def ended(self, conversation_id: str) -> None:
        user = self.user_of.pop(conversation_id, None)
        if user is not None:
            self.conversation_of.pop(user, None)  # the user's next message starts a new one


def first_message(user: str, text: str, *, channel_type: str, address: str) -> Message:
    """A customer's message that starts a conversation: instead of a conversation id, it names
    the account (the channel's type and the account's address) and says who the customer is."""
    return message(
        "text",
        sender=("customer", user),
        text=text,
        conversation={
            "account": {"channel": {"type": channel_type}, "address": address},
            "customer": {"name": user, "type": "individual"},
        },
    )


def create_app(settings: HubSettings, *, channel_type: str, address: str) -> Starlette:
    hub = HubClient(settings)
    chats = Chats()

    async def chat(request: Request) -> JSONResponse:
        """The chat's side: a user wrote something."""
        said: dict[str, Any] = await request.json()
        user, text = str(said["user"]), str(said["text"])
        conversation_id = chats.conversation_of.get(user)
        if conversation_id is None:
            sent = first_message(user, text, channel_type=channel_type, address=address)
        else:
            ours = {"id": conversation_id}
            sent = message("text", sender=("customer", user), text=text, conversation=ours)
        try:
            [accepted] = await hub.send(sent)
        except httpx.HTTPStatusError as refused:  # pass the hub's eGain error on to the chat
            return JSONResponse(refused.response.json(), status_code=refused.response.status_code)
        chats.started(user, accepted["conversation"]["id"])
        log.info("-> text from %s: %r", user, text)
        return JSONResponse({"conversation": accepted["conversation"]}, status_code=202)

    async def inbox(request: Request) -> JSONResponse:
        return JSONResponse(chats.received[request.path_params["user"]])

    async def on_message(received: Message) -> None:
        """The hub's side: a message for one of our users (from the bot, an agent or the hub)."""
        kind, sender = received["type"]["value"], received["sender"]
        conversation_id = received["conversation"]["id"]
        user = chats.user_of.get(conversation_id, "?")
        log.info("<- %s for %s from %s: %r", kind, user, sender["type"], text_of(received))
        if kind in ("text", "conversation.end"):
            shown = {"from": sender["participant"]["name"], "type": kind, "text": text_of(received)}
            chats.received[user].append(shown)
        if kind == "conversation.end":
            chats.ended(conversation_id)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await hub.aclose()

    routes = [
        callback_route(settings, on_message, app="customer_app"),
        Route("/chat", chat, methods=["POST"]),
        Route("/chat/{user}", inbox, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9001, help="where the hub calls back")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--channel-type", default="custom.webchat", help="the channel's type")
    parser.add_argument("--address", default="123456789", help="the account's address")
    args = parser.parse_args()
    configure_logging("customer_app")
    settings = HubSettings.from_environment()
    app = create_app(settings, channel_type=args.channel_type, address=args.address)
    log.info("listening on http://%s:%d (/chat, /callback)", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
