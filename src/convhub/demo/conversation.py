"""The demo's conversation: John writes in the web chat, the bot answers, John asks for a person,
the bot escalates, the agent answers and ends the conversation.

The demo plays John only (through the customer application's ``POST /chat``); everything else
is the sample applications answering the hub's callbacks. Each hop is printed once the hub has
delivered it, from the hub's own record of the conversation (``GET /conversations/{id}``):
who sent what, to which callback, and how long the hub took from accepting the message to the
callback's ``2xx``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from convhub.demo.processes import DemoError, SampleApp

Message = dict[str, Any]
Out = Callable[[str], None]

CUSTOMER = "John"
FIRST = "Where is my order?"
SECOND = "Can I talk to a person, please?"


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def party(client: dict[str, Any]) -> str:
    """``eva (custom_bot)``: a sender or recipient as messages name them."""
    return f"{client['participant']['name']} ({client['type']})"


def summary(message: Message) -> str:
    """``text "Where is my order?"``, or only the type for messages without text."""
    kind = message["type"]["value"]
    text = message.get("content", {}).get("text")
    return f'{kind} "{text}"' if text else kind


@dataclass
class Watcher:
    """Reads the conversation as the hub keeps it and prints each message once delivered."""

    api: httpx.AsyncClient
    conversation_id: str
    apps: dict[str, SampleApp]  # recipient type -> the sample application behind it
    timeout: float
    out: Out
    shown: int = 0
    start: datetime | None = None

    async def messages(self) -> list[Message]:
        answer = await self.api.get(f"/conversations/{self.conversation_id}")
        if answer.status_code != 200:
            raise DemoError(f"GET /conversations/{self.conversation_id}: {answer.text}")
        return list(answer.json()["messages"].get("message", []))

    async def until(self, wanted: Callable[[Message], bool], *, waiting_for: str) -> None:
        """Print the messages delivered since the last call, until one that is ``wanted``."""
        deadline = time.monotonic() + self.timeout
        while True:
            for message in (await self.messages())[self.shown :]:
                if message.get("status") == "failed":
                    refused = summary(message)
                    raise DemoError(f"the hub could not deliver {refused}: the recipient refused")
                if message.get("status") != "sent":
                    break  # on its way: the later ones wait for it, as the hub keeps order
                self.shown += 1
                self.hop(message)
                if wanted(message):
                    return
            if time.monotonic() > deadline:
                raise DemoError(f"nothing after {self.timeout:g} s: waiting for {waiting_for}")
            await asyncio.sleep(0.05)

    def hop(self, message: Message) -> None:
        created, sent = _when(message["created"]), _when(message["sent"])
        self.start = self.start or created
        [recipient] = message["recipients"]["recipient"]
        app = self.apps[recipient["type"]]
        took = (sent - created).total_seconds() * 1000
        at = (created - self.start).total_seconds()
        self.out(
            f"  +{at:.3f} s  {party(message['sender'])} -> {party(recipient)}: {summary(message)}"
        )
        if message["type"]["value"] == "escalation.transfer":
            self.out("            with the conversation so far, which the hub adds for the agent")
        self.out(f"            {app.title}'s callback {app.callback}: delivered in {took:.0f} ms")


async def chat(customer: SampleApp, text: str, out: Out) -> str:
    """John writes ``text`` in the web chat: the customer application sends it to the hub."""
    out(f'  {CUSTOMER} types "{text}": POST {customer.url}/chat ({customer.name})')
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(f"{customer.url}/chat", json={"user": CUSTOMER, "text": text})
    if answer.status_code != 202:
        raise DemoError(f"the customer app answered {answer.status_code}: {answer.text}")
    return str(answer.json()["conversation"]["id"])


def _is(kind: str, sender: str) -> Callable[[Message], bool]:
    return lambda m: m["type"]["value"] == kind and m["sender"]["type"] == sender


async def play(
    api: httpx.AsyncClient, *, apps: dict[str, SampleApp], wait_limit: float, out: Out
) -> str:
    """The conversation, hop by hop; answers its id."""
    customer, bot, agent = apps["customer"], apps["custom_bot"], apps["custom_agent"]
    conversation_id = await chat(customer, FIRST, out)
    watch = Watcher(api, conversation_id, apps, wait_limit, out)
    await watch.until(_is("text", "customer"), waiting_for=f"John's message to reach {bot.title}")
    await watch.until(_is("text", "custom_bot"), waiting_for=f"the answer of {bot.title}")
    await chat(customer, SECOND, out)
    await watch.until(_is("text", "customer"), waiting_for=f"John's question to {bot.title}")
    await watch.until(
        _is("escalation.transfer", "custom_bot"), waiting_for=f"the escalation by {bot.title}"
    )
    await watch.until(
        _is("conversation.end", "custom_agent"),
        waiting_for=f"the answer of {agent.title} and the end of the conversation",
    )
    return conversation_id


async def print_transcript(api: httpx.AsyncClient, conversation_id: str, out: Out) -> None:
    answer = await api.get(f"/conversations/{conversation_id}")
    answer.raise_for_status()
    view = answer.json()
    out(f"Transcript: GET /conversation/conversationmgr/v3/conversations/{view['id']}")
    for number, message in enumerate(view["messages"].get("message", []), start=1):
        clock = _when(message["created"]).strftime("%H:%M:%S.%f")[:-3]
        sender = party(message["sender"])
        out(f"  {number}. {clock}  {sender:<24} {summary(message)}  [{message.get('status')}]")
