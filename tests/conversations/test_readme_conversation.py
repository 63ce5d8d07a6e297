"""The README's conversation (section "A conversation, end to end") runs as written against the
delivering hub, and the three applications receive the callbacks the README shows.

As the README tells its reader, the first walk-through runs first, in the same bash (it defines
``$API``, ``$TOKEN``, ``post`` and the account), with its three callbacks pointing at receivers on
loopback instead of ``example.com``. The README's ``verify`` function and ``receiver.py`` are run
too.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import pytest

from convhub.identity import service as identity
from convhub.identity.service import NewClient
from tests.conversations.conftest import only, received
from tests.receivers import Receiver
from tests.server import free_port
from tests.test_readme import README, walkthrough

# The walk-through's callbacks, and the receiver (customer, bot, agent) standing in for each.
CALLBACKS = {
    "customer": "https://chat.example.com/callback",
    "bot": "https://bot.example.com/callback",
    "agent": "https://desk.example.com/callback",
}
# The walk-through's basic authentication, on the customer's and the bot's roles.
BASIC = "Basic YXNzaXN0YW50LTE6ODdkMC0wMjQyYWMxMzAwMDM="


def block(name: str, language: str) -> str:
    found = re.search(
        rf"<!-- {name}:start -->\n```{language}\n(.*?)```\n<!-- {name}:end -->",
        README.read_text(),
        re.S,
    )
    assert found, f"the README lost its {name} markers"
    return found.group(1)


def script(receivers: dict[str, Receiver]) -> str:
    """The walk-through with its callbacks on the receivers, then the conversation."""
    first = walkthrough()
    for role, url in CALLBACKS.items():
        assert first.count(url) == 1, f"the walk-through no longer has {url}"
        first = first.replace(url, f"{receivers[role].url}/callback")
    return first + block("conversation", "sh")


async def run_bash(text: str, env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        text,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


def readme_verify() -> Any:
    """The README's ``verify(secret, headers, body)``."""
    namespace: dict[str, Any] = {}
    exec(block("verify", "python"), namespace)
    return namespace["verify"]


def message(body: dict[str, Any]) -> dict[str, Any]:
    """``only(body)`` without what the README leaves out: ``created`` (and ``sent``)."""
    shown = dict(only(body))
    shown.pop("created")
    return shown


@pytest.fixture
async def admin(database, box) -> NewClient:
    async with database.session() as session:
        return await identity.create_client(
            session, name="admin", tenant=f"readme-{uuid.uuid4().hex}", permissions=None, box=box
        )


@pytest.fixture
async def signing_secret(database, box, admin) -> str:
    async with database.session(write=False) as session:
        secret = await identity.signing_secret(session, tenant=admin.tenant, box=box)
    assert secret is not None
    return secret


class TestConversationWalkthrough:
    async def test_the_three_apps_receive_what_the_readme_shows(
        self, hub_url, receivers, admin, signing_secret
    ):
        customer, bot, agent = receivers
        env = {"HUB": hub_url, "CLIENT_ID": admin.client_id, "CLIENT_SECRET": admin.client_secret}
        out = await run_bash(script({"customer": customer, "bot": bot, "agent": agent}), env)

        # The bot: the customer's message, with the custom header and basic authentication.
        [to_bot] = await received(bot, 1)
        first = message(to_bot)
        conversation = first.pop("conversation")
        assert first == {
            "id": first["id"],
            "messageId": "c-1",
            "type": {"value": "text"},
            "content": {"text": "Where is my order?"},
            "sender": {"type": "customer", "participant": {"name": "John"}},
            "recipients": {"recipient": [{"type": "custom_bot", "participant": {"name": "eva"}}]},
        }
        assert conversation["account"]["channel"]["type"] == "custom.webchat"
        assert conversation["account"]["address"] == "123456789"
        assert conversation["entryPoint"] == {"id": "1001"}
        assert conversation["customer"] == {"name": "John Smith", "type": "individual"}
        request = bot.requests[0]
        assert request.path == "/callback"
        assert request.header("X-custom-header") == "xyz"
        assert request.header("Authorization") == BASIC
        assert request.header("Content-Type") == "application/json"
        assert request.header("webhook-id") == first["id"]
        assert request.header("webhook-signature").startswith("v1,")

        # The agent desk: the escalation, the conversation so far, no authentication.
        [to_agent] = await received(agent, 1)
        escalation = message(to_agent)
        assert escalation["messageId"] == "b-2"
        assert escalation["type"] == {"value": "escalation.transfer"}
        assert escalation["sender"] == {"type": "custom_bot", "participant": {"name": "eva"}}
        assert escalation["recipients"] == {
            "recipient": [{"type": "custom_agent", "participant": {"name": "agent-desk"}}]
        }
        assert escalation["conversation"]["id"] == conversation["id"]
        assert escalation["conversation"]["customer"] == conversation["customer"]
        transcript = escalation["conversation"]["messages"]["message"]
        assert [(m["messageId"], m["content"]["text"]) for m in transcript] == [
            ("c-1", "Where is my order?"),
            ("b-1", "Let me find someone who can check."),
        ]
        assert agent.requests[0].header("Authorization") is None

        # The customer channel: the bot's answer, the agent's answer, the end.
        to_customer = [message(body) for body in await received(customer, 3)]
        assert [(m["messageId"], m["type"]["value"]) for m in to_customer] == [
            ("b-1", "text"),
            ("a-1", "text"),
            ("a-2", "conversation.end"),
        ]
        assert to_customer[0]["content"] == {"text": "Let me find someone who can check."}
        assert to_customer[0]["recipients"] == {
            "recipient": [{"type": "customer", "participant": {"name": "web-chat"}}]
        }
        assert to_customer[1]["content"] == {
            "text": "Hello John, I am Ann. Your parcel left today."
        }
        assert to_customer[1]["sender"] == {"type": "custom_agent", "participant": {"name": "Ann"}}
        assert [r.header("Authorization") for r in customer.requests] == [BASIC] * 3
        assert [r.path for r in customer.requests] == ["/callback"] * 3

        # Every callback verifies with the README's function and the tenant's secret.
        verify = readme_verify()
        for request in [*bot.requests, *agent.requests, *customer.requests]:
            assert verify(signing_secret, request.header_dict(), request.body)

        # The last command: the conversation, its five messages in order.
        view = json.loads(out.strip().splitlines()[-1])
        assert view["id"] == conversation["id"]
        assert [m["messageId"] for m in view["messages"]["message"]] == [
            "c-1",
            "b-1",
            "b-2",
            "a-1",
            "a-2",
        ]
        assert len(bot.requests) == 1  # nothing else reached the bot


def signed_headers(secret: str, body: bytes, *, timestamp: int) -> dict[str, str]:
    """Standard Webhooks headers for ``body``, signed with ``secret``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"msg-1.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": "msg-1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{base64.b64encode(digest).decode()}",
    }


class TestVerify:
    """The README's ``verify`` refuses what does not come from the hub, as it says."""

    def test_a_signed_callback_passes(self, signing_secret):
        headers = signed_headers(signing_secret, b'{"a": 1}', timestamp=int(time.time()))
        assert readme_verify()(signing_secret, headers, b'{"a": 1}')

    def test_a_changed_body_fails(self, signing_secret):
        headers = signed_headers(signing_secret, b'{"a": 1}', timestamp=int(time.time()))
        assert not readme_verify()(signing_secret, headers, b'{"a": 2}')

    def test_another_tenants_secret_fails(self, signing_secret):
        other = "whsec_" + base64.b64encode(b"another-tenant-signing-secret-32").decode()
        headers = signed_headers(other, b"{}", timestamp=int(time.time()))
        assert not readme_verify()(signing_secret, headers, b"{}")

    def test_an_old_callback_fails(self, signing_secret):
        headers = signed_headers(signing_secret, b"{}", timestamp=int(time.time()) - 3600)
        assert not readme_verify()(signing_secret, headers, b"{}")


class TestReceiver:
    def test_the_readme_receiver_prints_a_callback_and_answers_202(self, tmp_path):
        path = tmp_path / "receiver.py"
        path.write_text(block("receiver", "python"))
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, str(path), str(port)], stdout=subprocess.PIPE, text=True
        )
        try:
            answer = post_when_up(f"http://127.0.0.1:{port}/callback", {"messages": {}})
            assert answer.status_code == 202
        finally:
            process.terminate()
            out, _ = process.communicate(timeout=10)
        assert out.startswith("POST /callback HTTP/1.1\n")
        assert "webhook-id: w-1" in out
        assert '"messages": {}' in out


def post_when_up(url: str, document: Any) -> httpx.Response:
    deadline = time.monotonic() + 10
    while True:
        try:
            return httpx.post(url, json=document, headers={"webhook-id": "w-1"}, timeout=5)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
