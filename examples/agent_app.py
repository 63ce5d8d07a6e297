"""An agent application for convhub: it takes the conversations a bot escalates, answers the
customer, and ends the conversation.

Run it against a running hub (examples/README.md says how to configure the hub for it):

    export HUB_URL=http://127.0.0.1:8000 HUB_CLIENT_ID=<id> HUB_CLIENT_SECRET=<secret>
    export HUB_SIGNING_SECRET=$(.venv/bin/convhub signing-secret --tenant default)
    .venv/bin/python examples/agent_app.py --port 9003 --name Ann

It listens on http://127.0.0.1:9003/callback, the callback of the agent application's
``custom_agent`` role; ``--name`` is the agent's name, as the customer sees it.

A real agent desk would show the escalated conversation to a person and send what they type.
This one stands in for that person, Ann: she reads the transcript the hub attaches to the
escalation, answers the customer's first question, and ends the conversation (the hub then
completes it, and the customer application receives the ``conversation.end``). To connect your
own desk, copy this file and hub.py, and replace :func:`answer`.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette

from hub import HubClient, HubSettings, Message, callback_route, configure_logging, message, text_of

log = logging.getLogger("agent_app")


def first_question(transcript: list[Message]) -> str | None:
    """The first thing the customer wrote, in the transcript of an escalation."""
    said = (text_of(m) for m in transcript if m["sender"]["type"] == "customer")
    return next((text for text in said if text), None)


def answer(customer: str, question: str | None, *, name: str) -> str:
    """What Ann says. Replace it with what your agents type."""
    first_name = customer.split()[0] if customer else "there"
    asked = f"You asked: {question} " if question else ""
    return f"Hello {first_name}, I am {name}. {asked}Your parcel left today, it arrives tomorrow."


def create_app(settings: HubSettings, *, name: str) -> Starlette:
    hub = HubClient(settings)

    async def on_message(received: Message) -> None:
        kind, sender = received["type"]["value"], received["sender"]["type"]
        log.info("<- %s from %s: %r", kind, sender, text_of(received))
        if kind != "escalation.transfer":
            return  # the customer's later messages, typing events...: a person would see them
        conversation = received["conversation"]
        # The conversation so far: the customer's and the bot's messages, oldest first.
        transcript = conversation.get("messages", {}).get("message", [])
        log.info("   with the conversation so far: %d messages", len(transcript))
        customer = conversation.get("customer", {}).get("name", "")
        reply = answer(customer, first_question(transcript), name=name)
        me = ("custom_agent", name)
        ours = {"id": conversation["id"]}
        # In one request: the hub keeps their order, the answer first, then the end.
        await hub.send(
            message("text", sender=me, conversation=ours, text=reply),
            message("conversation.end", sender=me, conversation=ours),
        )
        log.info("-> text: %r", reply)
        log.info("-> conversation.end")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await hub.aclose()

    routes = [callback_route(settings, on_message, app="agent_app")]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9003, help="where the hub calls back")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--name", default="Ann", help="the agent's name")
    args = parser.parse_args()
    configure_logging("agent_app")
    app = create_app(HubSettings.from_environment(), name=args.name)
    log.info("listening on http://%s:%d/callback", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
