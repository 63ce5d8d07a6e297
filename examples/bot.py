"""A bot for convhub: it answers the customer, and hands the conversation over to an agent
when the customer asks for a person.

Run it against a running hub (examples/README.md says how to configure the hub for it):

    export HUB_URL=http://127.0.0.1:8000 HUB_CLIENT_ID=<id> HUB_CLIENT_SECRET=<secret>
    export HUB_SIGNING_SECRET=$(.venv/bin/convhub signing-secret --tenant default)
    .venv/bin/python examples/bot.py --port 9002 --name eva

It listens on http://127.0.0.1:9002/callback, the callback of the bot application's
``custom_bot`` role; ``--name`` is the bot's participant name. To start your own bot, copy this
file and hub.py, and replace :func:`answer` with your bot's brain.

What it does with each message the hub delivers:

- a customer's ``text`` asking for a person ("person", "human", "agent", ...): it says so, then
  sends ``escalation.transfer``. The hub takes the conversation away from the bot and gives it
  to the orchestration's agent application, with everything said so far (the transcript, in
  ``conversation.messages`` of the agent's callback). The bot is then out of the conversation.
- any other customer ``text``: it answers (:func:`answer`).
- anything else (``typing.start``, ``customer.info``, ``conversation.end``, ...): nothing. The
  contract asks applications to ignore the message types they do not support.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette

from hub import HubClient, HubSettings, Message, callback_route, configure_logging, message, text_of

log = logging.getLogger("bot")

ASKS_FOR_A_PERSON = re.compile(r"\b(person|human|agent|someone|somebody|operator)\b", re.I)


def answer(text: str, *, name: str) -> str:
    """The bot's brain: two canned answers. Replace it with yours (an NLU service, an LLM...)."""
    if "order" in text.lower():
        return f"I am {name}. Orders arrive within three days. Or would you like a person?"
    return f"I am {name}, the order assistant: ask me about your order, or ask for a person."


def create_app(settings: HubSettings, *, name: str) -> Starlette:
    hub = HubClient(settings)

    async def on_message(received: Message) -> None:
        kind, sender = received["type"]["value"], received["sender"]["type"]
        log.info("<- %s from %s: %r", kind, sender, text_of(received))
        if kind != "text" or sender != "customer":
            return
        conversation = {"id": received["conversation"]["id"]}
        me = ("custom_bot", name)
        if ASKS_FOR_A_PERSON.search(text_of(received)):
            reply = "Of course. Let me find someone who can help you."
            await hub.send(message("text", sender=me, conversation=conversation, text=reply))
            log.info("-> text: %r", reply)
            # No transcript to attach: the hub hands the agent every message of the
            # conversation so far. (A bot that talked to the customer outside the hub would
            # add its own in conversation.messages.)
            await hub.send(message("escalation.transfer", sender=me, conversation=conversation))
            log.info("-> escalation.transfer")
        else:
            reply = answer(text_of(received), name=name)
            await hub.send(message("text", sender=me, conversation=conversation, text=reply))
            log.info("-> text: %r", reply)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await hub.aclose()

    return Starlette(routes=[callback_route(settings, on_message, app="bot")], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9002, help="where the hub calls back")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--name", default="eva", help="the bot's participant name")
    args = parser.parse_args()
    configure_logging("bot")
    app = create_app(HubSettings.from_environment(), name=args.name)
    log.info("listening on http://%s:%d/callback", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
