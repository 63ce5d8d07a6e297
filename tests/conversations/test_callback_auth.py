"""Callback authentication end to end (DECISIONS §8): an authentication created through the API,
attached to the bot's role, and what the bot's callback then receives from the delivering hub.

``oauth2``: the hub asks a token endpoint (a receiver here) as configured, reads the token at
``accessTokenPath``, sends it as ``Bearer``, keeps it for the next messages, and fetches a new one
once when the callback answers 401. ``basic``: ``Basic base64(user:password)``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator

import httpx
import pytest

from tests.conversations.conftest import received, say, send
from tests.factories import (
    account,
    basic_authentication,
    channel,
    client_application,
    create,
    oauth2_authentication,
    orchestration,
    participant,
    role,
)
from tests.receivers import Receiver, Reply, receiving

TOKEN_PAYLOAD = '{"clientId": "hub-at-bot", "clientSecret": "b0t-s3cret"}'


def token_answer(token: str) -> Reply:
    return Reply.json({"data": {"token": token}})


@pytest.fixture
def token_endpoint() -> Iterator[Receiver]:
    """The bot's token endpoint: ``{"data": {"token": "t-1"}}``, the token at ``$.data.token``."""
    with receiving() as endpoint:
        endpoint.default = token_answer("t-1")
        yield endpoint


def oauth2_for(endpoint: Receiver) -> dict:
    return oauth2_authentication(
        oauth2={
            "tokenRequestUrl": endpoint.url + "/oauth/token",
            "method": "POST",
            "headers": [
                {"name": "Content-Type", "value": "application/json"},
                {"name": "X-Requested-By", "value": "convhub"},
            ],
            "payload": TOKEN_PAYLOAD,
            "accessTokenPath": "$.data.token",
        }
    )


class Conversation:
    """A customer and a bot (whose role has ``authentication``) talking through the hub."""

    def __init__(self, hub: httpx.AsyncClient, address: str, channel_type: str) -> None:
        self.hub, self.address, self.channel_type = hub, address, channel_type
        self.id = ""

    async def customer_says(self, text: str) -> str:
        """Send a customer message (the first one starts the conversation); answers its id."""
        if self.id:
            answer = await send(self.hub, say(self.id, "customer", text))
        else:
            answer = await send(self.hub, self._start(text))
        [accepted] = answer["messages"]["message"]
        self.id = accepted["conversation"]["id"]
        return str(accepted["id"])

    def _start(self, text: str) -> dict:
        return {
            "type": {"value": "text"},
            "content": {"text": text},
            "sender": {"type": "customer", "participant": {"name": "John"}},
            "conversation": {
                "account": {"channel": {"type": self.channel_type}, "address": self.address}
            },
        }


async def bot_behind(
    hub: httpx.AsyncClient, receivers: tuple[Receiver, Receiver, Receiver], authentication: dict
) -> Conversation:
    """Configuration through the hub: the authentication, a bot app whose ``custom_bot`` role
    uses it, a customer app, an agent app, and the chain up to an account."""
    customer, bot, agent = receivers
    auth = await create(hub, "/authentications", authentication)
    bot_role = role("custom_bot", callback=bot.url + "/bot", authentication_id=auth)
    bot_app = await create(hub, "/clientapplications", client_application(bot_role))
    customer_role = role("customer", callback=customer.url + "/customer")
    customer_app = await create(hub, "/clientapplications", client_application(customer_role))
    agent_role = role("custom_agent", callback=agent.url + "/agent")
    agent_app = await create(hub, "/clientapplications", client_application(agent_role))
    bot_participant = await create(hub, "/participants", participant(bot_app))
    channel_body = channel()
    channel_id = await create(hub, "/channels", channel_body)
    workflow = orchestration(
        bot_app=bot_app,
        bot_participant=bot_participant,
        agent_app=agent_app,
        customer_app=customer_app,
    )
    orchestration_id = await create(hub, "/orchestrations", workflow)
    account_body = account(channel_id=channel_id, orchestration_id=orchestration_id)
    await create(hub, "/accounts", account_body)
    return Conversation(hub, account_body["address"], channel_body["type"])


def authorizations(receiver: Receiver) -> list[str | None]:
    return [request.header("Authorization") for request in receiver.requests]


async def status_of(hub: httpx.AsyncClient, conversation_id: str, index: int) -> str | None:
    view = (await hub.get(f"/conversations/{conversation_id}")).json()
    status: str | None = view["messages"]["message"][index].get("status")
    return status


async def eventually_sent(hub: httpx.AsyncClient, conversation_id: str, index: int) -> None:
    for _ in range(300):
        if await status_of(hub, conversation_id, index) == "sent":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"message {index}: {await status_of(hub, conversation_id, index)}")


class TestOAuth2:
    async def test_the_bot_receives_the_token_as_bearer(self, hub, receivers, token_endpoint):
        _, bot, _ = receivers
        talk = await bot_behind(hub, receivers, oauth2_for(token_endpoint))
        await talk.customer_says("Hello")
        await received(bot, 1)
        assert authorizations(bot) == ["Bearer t-1"]
        [token_request] = token_endpoint.requests
        assert (token_request.method, token_request.path) == ("POST", "/oauth/token")
        assert json.loads(token_request.body) == json.loads(TOKEN_PAYLOAD)
        assert token_request.header("Content-Type") == "application/json"
        assert token_request.header("X-Requested-By") == "convhub"

    async def test_one_token_request_for_several_messages(self, hub, receivers, token_endpoint):
        _, bot, _ = receivers
        talk = await bot_behind(hub, receivers, oauth2_for(token_endpoint))
        for text in ("one", "two", "three", "four"):
            await talk.customer_says(text)
        await received(bot, 4)
        assert authorizations(bot) == ["Bearer t-1"] * 4
        assert len(token_endpoint.requests) == 1

    async def test_a_401_fetches_a_new_token_and_delivers_with_it(
        self, hub, receivers, token_endpoint
    ):
        customer, bot, _ = receivers
        talk = await bot_behind(hub, receivers, oauth2_for(token_endpoint))
        await talk.customer_says("first")
        await received(bot, 1)
        # The bot no longer accepts t-1: it answers 401 once; the endpoint now issues t-2.
        token_endpoint.default = token_answer("t-2")
        bot.reply(Reply(status=401))
        await talk.customer_says("second")
        await received(bot, 3)
        await talk.customer_says("third")
        bodies = await received(bot, 4)
        assert authorizations(bot) == ["Bearer t-1", "Bearer t-1", "Bearer t-2", "Bearer t-2"]
        texts = [body["messages"]["message"][0]["content"]["text"] for body in bodies]
        assert texts == ["first", "second", "second", "third"]
        assert len(token_endpoint.requests) == 2
        await eventually_sent(hub, talk.id, 1)
        assert customer.requests == []  # no error message: the second message was delivered


class TestBasic:
    async def test_the_bot_receives_basic_credentials(self, hub, receivers):
        _, bot, _ = receivers
        authentication = basic_authentication(
            basicAuth={"username": "assistant-1", "password": "87d0-0242ac130003"}
        )
        talk = await bot_behind(hub, receivers, authentication)
        await talk.customer_says("Hello")
        await talk.customer_says("again")
        await received(bot, 2)
        expected = "Basic " + base64.b64encode(b"assistant-1:87d0-0242ac130003").decode()
        assert authorizations(bot) == [expected, expected]
        assert expected == "Basic YXNzaXN0YW50LTE6ODdkMC0wMjQyYWMxMzAwMDM="
