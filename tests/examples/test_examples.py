"""The sample applications of examples/, in-process: the callback endpoint they share refuses what
the hub did not send, and handles each message once, in order; the customer application passes
the hub's refusals on to the chat. (tests/test_demo.py runs the three against a real hub.)"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from convhub.core.security import permissions as perms
from convhub.identity import service as identity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECRET = "whsec_" + base64.b64encode(b"a-tenant-signing-secret-32-bytes").decode()
CREDENTIALS = "assistant-1:87d0-0242ac130003"


def load(name: str) -> ModuleType:
    """An example as a module: ``hub`` under its own name, as the others import it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


hub = load("hub")
bot = load("bot")
agent_app = load("agent_app")
customer_app = load("customer_app")


def settings(url: str = "http://127.0.0.1:9", **overrides: Any) -> Any:
    values = {"client_id": "id", "client_secret": "secret", "signing_secret": SECRET}
    return hub.HubSettings(url=url, **{**values, **overrides})


def callback_body(*texts: str) -> bytes:
    messages = [
        {"id": str(uuid.uuid4()), "type": {"value": "text"}, "content": {"text": text}}
        for text in texts
    ]
    return json.dumps({"messages": {"message": messages}}).encode()


def signed(body: bytes, *, secret: str = SECRET, age: timedelta = timedelta(0)) -> dict[str, str]:
    webhook_id = str(uuid.uuid4())
    when = datetime.now(UTC) - age
    signature = Webhook(secret).sign(webhook_id, when, body.decode())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


def basic(credentials: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


class Callbacks:
    """A Starlette app with the shared ``POST /callback``, recording what it hands over."""

    def __init__(self, *, slow: bool = False, **overrides: Any) -> None:
        from starlette.applications import Starlette

        self.handled: list[str] = []

        async def on_message(message: dict[str, Any]) -> None:
            text = message["content"]["text"]
            if slow:  # "0" takes longest: handled at once, it would come last
                await asyncio.sleep(0.01 * (5 - int(text)))
            self.handled.append(text)

        route = hub.callback_route(settings(**overrides), on_message, app="test")
        self.app = Starlette(routes=[route])

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://app")


class TestCallbackRoute:
    async def test_a_signed_callback_is_accepted_and_handled(self):
        callbacks = Callbacks()
        body = callback_body("one", "two")
        async with callbacks.client() as http:
            answer = await http.post("/callback", content=body, headers=signed(body))
        assert answer.status_code == 202
        assert callbacks.handled == ["one", "two"]

    @pytest.mark.parametrize(
        "headers",
        [
            pytest.param(lambda _: {}, id="unsigned"),
            pytest.param(lambda body: signed(body, secret="whsec_" + "b" * 44), id="other-secret"),
            pytest.param(lambda _: signed(b'{"messages": {}}'), id="other-body"),
            pytest.param(lambda body: signed(body, age=timedelta(hours=1)), id="replayed-late"),
            pytest.param(lambda body: {**signed(body), "webhook-signature": "v1"}, id="garbled"),
        ],
    )
    async def test_what_the_hub_did_not_sign_is_refused(self, headers):
        callbacks = Callbacks()
        body = callback_body("forged")
        async with callbacks.client() as http:
            answer = await http.post("/callback", content=body, headers=headers(body))
        assert answer.status_code == 401
        assert callbacks.handled == []

    @pytest.mark.parametrize("given", [None, "assistant-1:wrong", "другой:пароль"])
    async def test_the_roles_credentials_are_required_when_given(self, given):
        callbacks = Callbacks(callback_credentials=CREDENTIALS)
        body = callback_body("hello")
        headers = {**signed(body), **(basic(given) if given else {})}
        async with callbacks.client() as http:
            answer = await http.post("/callback", content=body, headers=headers)
        assert answer.status_code == 401
        assert callbacks.handled == []

    async def test_with_the_roles_credentials_it_is_accepted(self):
        callbacks = Callbacks(callback_credentials=CREDENTIALS)
        body = callback_body("hello")
        async with callbacks.client() as http:
            headers = {**signed(body), **basic(CREDENTIALS)}
            answer = await http.post("/callback", content=body, headers=headers)
        assert answer.status_code == 202
        assert callbacks.handled == ["hello"]

    async def test_a_message_delivered_twice_is_handled_once(self):
        callbacks = Callbacks()
        body = callback_body("once")
        headers = signed(body)
        async with callbacks.client() as http:
            first = await http.post("/callback", content=body, headers=headers)
            again = await http.post("/callback", content=body, headers=headers)
        assert (first.status_code, again.status_code) == (202, 202)
        assert callbacks.handled == ["once"]

    async def test_messages_are_handled_one_at_a_time_in_the_order_they_arrived(self):
        callbacks = Callbacks(slow=True)
        bodies = [callback_body(str(n)) for n in range(5)]
        async with callbacks.client() as http:
            await asyncio.gather(
                *(http.post("/callback", content=b, headers=signed(b)) for b in bodies)
            )
        assert callbacks.handled == ["0", "1", "2", "3", "4"]


class TestBrains:
    @pytest.mark.parametrize(
        "text", ["Can I talk to a person?", "HUMAN please", "I want an agent", "get me someone"]
    )
    def test_the_bot_hears_a_request_for_a_person(self, text):
        assert bot.ASKS_FOR_A_PERSON.search(text)

    @pytest.mark.parametrize("text", ["Where is my order?", "personal details", "Hello"])
    def test_the_bot_answers_anything_else(self, text):
        assert not bot.ASKS_FOR_A_PERSON.search(text)

    def test_the_agent_answers_the_first_question_of_the_transcript(self):
        transcript = [
            {"sender": {"type": "customer"}, "content": {"text": "Where is my order?"}},
            {"sender": {"type": "custom_bot"}, "content": {"text": "Within three days."}},
            {"sender": {"type": "customer"}, "content": {"text": "A person, please"}},
        ]
        question = agent_app.first_question(transcript)
        assert question == "Where is my order?"
        assert agent_app.answer("John Smith", question, name="Ann").startswith(
            "Hello John, I am Ann. You asked: Where is my order?"
        )


class TestCustomerApp:
    @pytest.fixture
    async def app_settings(self, server_url, database, box) -> Any:
        async with database.session() as session:
            client = await identity.create_client(
                session,
                name="web-chat",
                tenant=f"examples-{uuid.uuid4().hex}",
                permissions=[perms.INTERACTION_MANAGE],
                box=box,
            )
        return settings(server_url, client_id=client.client_id, client_secret=client.client_secret)

    async def test_the_hubs_refusal_reaches_the_chat(self, app_settings):
        # No account custom.webchat 123456789 in this tenant: the hub refuses the first message.
        app = customer_app.create_app(
            app_settings, channel_type="custom.webchat", address="123456789"
        )
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://app") as chat,
        ):
            answer = await chat.post("/chat", json={"user": "John", "text": "Hello"})
            inbox = await chat.get("/chat/John")
        assert answer.status_code == 400
        assert answer.json()["code"] == "400-194"
        assert inbox.json() == []
