"""The log: one line per request and per delivery attempt, with the ids to follow a message;
never a secret, never content at info level, and never redacted content at all."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from convhub.core.security.crypto import SecretBox
from convhub.identity import service as identity
from tests.apiclients import api_client, new_client
from tests.conversations.conftest import build_apps, received, say
from tests.factories import basic_authentication, create, oauth2_authentication


def _lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


async def _until_logged(log: Path, event: str, **fields: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        for line in _lines(log):
            if line.get("event") == event and all(line.get(k) == v for k, v in fields.items()):
                return line
        assert time.monotonic() < deadline, f"no {event} line with {fields}"
        await asyncio.sleep(0.05)


async def _post(api: httpx.AsyncClient, request_id: str, *messages: Any) -> dict[str, Any]:
    answer = await api.post(
        "/conversations/messages",
        json={"messages": {"message": list(messages)}},
        headers={"X-Request-Id": request_id},
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["x-request-id"] == request_id
    return answer.json()["messages"]["message"][0]


class TestLog:
    async def test_requests_and_attempts_carry_ids_and_never_secrets_or_hidden_content(
        self, observed, observed_db, receivers
    ):
        tenant = f"logs-{uuid.uuid4().hex}"
        client_id, client_secret, signed = await new_client(
            observed_db, observed.settings, tenant=tenant
        )
        async with httpx.AsyncClient(base_url=observed.url) as http:
            got = await http.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, client_secret),
            )
        token = got.json()["access_token"]
        basic, oauth = basic_authentication(), oauth2_authentication()
        plain, hidden = f"plain-{uuid.uuid4().hex}", f"hidden-{uuid.uuid4().hex}"
        async with api_client(observed.url, token) as api:
            await create(api, "/authentications", basic)
            await create(api, "/authentications", oauth)
            apps = await build_apps(api, receivers)
            first = await _post(api, "req-start-1", apps.start(plain))
            conversation_id = first["conversation"]["id"]
            await received(apps.bot, 1)
            second = await _post(
                api,
                "req-redact-2",
                say(conversation_id, "custom_bot", content={"text": hidden, "redact": True}),
            )
            await received(apps.customer, 1)
        for message in (first, second):
            attempt = await _until_logged(
                observed.log, "delivery_attempt", message=message["id"], result="delivered"
            )
            assert attempt["conversation"] == conversation_id
            assert attempt["status"] == 202
            assert attempt["delivery"]
            assert attempt["tenant"]
        request = await _until_logged(observed.log, "request", request_id="req-start-1")
        assert request["operation"] == "sendMessage"
        assert request["status"] == 202
        assert request["messages"] == [first["id"]]
        assert request["conversations"] == [conversation_id]
        assert request["tenant"] == attempt["tenant"]
        assert request["client"] == client_id
        async with observed_db.session(write=False) as session:
            box = SecretBox(observed.settings.encryption_key.get_secret_value())
            signing_secret = await identity.signing_secret(session, tenant=tenant, box=box)
        text = observed.log.read_text()
        secrets = [
            client_secret,
            signed,
            token,
            basic["basicAuth"]["password"],
            "nv1GRtTAL1OcKdqKZrQB",  # the clientSecret in the oauth2 authentication's payload
            signing_secret,
            hidden,  # asked for redact: not even at debug level
        ]
        assert [s for s in secrets if s in text] == []
        # At debug level the content is there, and only in debug lines.
        with_plain = [line for line in _lines(observed.log) if plain in json.dumps(line)]
        assert with_plain
        assert {line["level"] for line in with_plain} == {"debug"}

    async def test_a_request_id_is_made_when_none_or_a_bad_one_is_given(self, observed):
        async with httpx.AsyncClient(base_url=observed.url) as http:
            made = await http.get("/health/live")
            bad = await http.get("/health/live", headers={"X-Request-Id": "a b\tc"})
        assert len(made.headers["x-request-id"]) == 32
        assert bad.headers["x-request-id"] not in {"a b\tc", made.headers["x-request-id"]}


_LOG_ONE_LINE = (
    "from convhub.core import logging; logging.configure('INFO');"
    "import structlog; structlog.get_logger().info('hello', request_id='r-1')"
)


class TestFormat:
    def test_json_lines_when_not_on_a_terminal(self):
        done = subprocess.run(
            [sys.executable, "-c", _LOG_ONE_LINE],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        line = json.loads(done.stderr)
        assert (line["event"], line["request_id"], line["level"]) == ("hello", "r-1", "info")

    def test_readable_lines_on_a_terminal(self):
        leader, follower = os.openpty()
        try:
            subprocess.run(
                [sys.executable, "-c", _LOG_ONE_LINE],
                stderr=follower,
                timeout=60,
                check=True,
            )
            written = os.read(leader, 65536).decode()
        finally:
            os.close(follower)
            os.close(leader)
        assert "hello" in written
        assert "r-1" in written
        assert not written.lstrip().startswith("{")
