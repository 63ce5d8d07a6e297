"""OAuth2-authenticated callbacks: the token request as configured, the token read by JSONPath,
cached, refreshed once on 401, and every token failure retried (DECISIONS §8)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest

from convhub.delivery.client import CallbackClient
from tests.delivery.conftest import deliver, target
from tests.receivers import Receiver, Reply

# The delivery client and its parts against loopback servers: no database.
pytestmark = pytest.mark.database_free

PAYLOAD = '{"clientId": "c987cbfc", "clientSecret": "s3cr3t-payload"}'
NO_TOKEN = "the token endpoint's answer has no token at $.accessToken"


def oauth2(
    token_url: str,
    *,
    method: str = "POST",
    payload: str = PAYLOAD,
    path: str = "$.accessToken",
    headers: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    default_headers = [
        {"name": "Content-Type", "value": "application/json"},
        {"name": "X-Client", "value": "convhub"},
    ]
    return {
        "type": "oauth2",
        "oauth2": {
            "tokenRequestUrl": token_url,
            "method": method,
            "headers": default_headers if headers is None else headers,
            "payload": payload,
            "accessTokenPath": path,
        },
    }


def tokens_seen(receiver: Receiver) -> list[str | None]:
    return [request.header("Authorization") for request in receiver.requests]


class TestTokenRequest:
    async def test_post_with_configured_headers_and_payload(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        auth = oauth2(token_endpoint.url + "/accesstoken")

        outcome = await deliver(client, target(receiver.url, authentication=auth))

        assert outcome.result == "delivered"
        [token_request] = token_endpoint.requests
        assert (token_request.method, token_request.path) == ("POST", "/accesstoken")
        assert token_request.body == PAYLOAD.encode()
        assert token_request.header("Content-Type") == "application/json"
        assert token_request.header("X-Client") == "convhub"
        assert tokens_seen(receiver) == ["Bearer token-1"]

    async def test_post_without_content_type_guesses_form(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        auth = oauth2(
            token_endpoint.url,
            payload="grant_type=client_credentials&client_id=a",
            headers=[{"name": "Accept", "value": "application/json"}],
        )

        await deliver(client, target(receiver.url, authentication=auth))

        [token_request] = token_endpoint.requests
        assert token_request.header("Content-Type") == "application/x-www-form-urlencoded"
        assert token_request.body == b"grant_type=client_credentials&client_id=a"

    async def test_get_sends_a_form_payload_as_query(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        auth = oauth2(
            token_endpoint.url + "/token?v=2", method="GET", payload="client_id=a&secret=b%20c"
        )

        outcome = await deliver(client, target(receiver.url, authentication=auth))

        assert outcome.result == "delivered"
        [token_request] = token_endpoint.requests
        assert token_request.method == "GET"
        assert token_request.path == "/token?v=2&client_id=a&secret=b%20c"
        assert token_request.body == b""

    async def test_get_with_a_json_payload_sends_no_payload(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        auth = oauth2(token_endpoint.url + "/token", method="GET")

        await deliver(client, target(receiver.url, authentication=auth))

        [token_request] = token_endpoint.requests
        assert (token_request.path, token_request.body) == ("/token", b"")

    @pytest.mark.parametrize(
        ("path", "answer"),
        [
            ("$.accessToken", {"accessToken": "tok-A", "token": "wrong"}),
            ("$.data.token", {"data": {"token": "tok-A"}, "token": "wrong"}),
            ("$['access_token']", {"access_token": "tok-A"}),
            ("$.tokens[1].value", {"tokens": [{"value": "wrong"}, {"value": "tok-A"}]}),
        ],
    )
    async def test_token_read_with_jsonpath(
        self,
        client: CallbackClient,
        receiver: Receiver,
        token_endpoint: Receiver,
        path: str,
        answer: dict[str, Any],
    ) -> None:
        token_endpoint.default = Reply.json(answer)

        outcome = await deliver(
            client, target(receiver.url, authentication=oauth2(token_endpoint.url, path=path))
        )

        assert outcome.result == "delivered"
        assert tokens_seen(receiver) == ["Bearer tok-A"]


class TestTokenCache:
    async def test_token_fetched_once_for_three_deliveries(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        to = target(receiver.url, authentication=oauth2(token_endpoint.url), authentication_id="a1")

        results = [(await deliver(client, to)).result for _ in range(3)]

        assert results == ["delivered"] * 3
        assert len(token_endpoint.requests) == 1
        assert tokens_seen(receiver) == ["Bearer token-1"] * 3

    async def test_concurrent_deliveries_share_one_fetch(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        token_endpoint.default = Reply(
            200, {"Content-Type": "application/json"}, b'{"accessToken": "slow"}', delay=0.2
        )
        to = target(receiver.url, authentication=oauth2(token_endpoint.url), authentication_id="a2")

        outcomes = await asyncio.gather(*(deliver(client, to) for _ in range(10)))

        assert {outcome.result for outcome in outcomes} == {"delivered"}
        assert len(token_endpoint.requests) == 1
        assert tokens_seen(receiver) == ["Bearer slow"] * 10

    async def test_edited_authentication_fetches_anew(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        token_endpoint.reply(Reply.json({"accessToken": "old"}), Reply.json({"accessToken": "new"}))
        before = oauth2(token_endpoint.url)
        after = oauth2(token_endpoint.url, payload='{"clientSecret": "rotated"}')

        await deliver(client, target(receiver.url, authentication=before, authentication_id="a3"))
        await deliver(client, target(receiver.url, authentication=after, authentication_id="a3"))

        assert len(token_endpoint.requests) == 2
        assert tokens_seen(receiver) == ["Bearer old", "Bearer new"]

    async def test_authentications_have_tokens_of_their_own(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        token_endpoint.reply(Reply.json({"accessToken": "one"}), Reply.json({"accessToken": "two"}))
        auth = oauth2(token_endpoint.url)

        await deliver(client, target(receiver.url, authentication=auth, authentication_id="b1"))
        await deliver(client, target(receiver.url, authentication=auth, authentication_id="b2"))
        await deliver(client, target(receiver.url, authentication=auth, authentication_id="b1"))

        assert tokens_seen(receiver) == ["Bearer one", "Bearer two", "Bearer one"]

    async def test_expired_token_fetched_anew(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        token_endpoint.reply(
            Reply.json({"accessToken": "short", "expires_in": 0.1}),
            Reply.json({"accessToken": "next", "expires_in": 3600}),
        )
        to = target(receiver.url, authentication=oauth2(token_endpoint.url), authentication_id="c")

        await deliver(client, to)
        await asyncio.sleep(0.15)
        await deliver(client, to)
        await deliver(client, to)

        assert tokens_seen(receiver) == ["Bearer short", "Bearer next", "Bearer next"]


class TestRefusedToken:
    async def test_401_fetches_a_new_token_once_and_delivers(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        token_endpoint.reply(
            Reply.json({"accessToken": "stale"}), Reply.json({"accessToken": "new"})
        )
        receiver.reply(Reply(status=401))
        to = target(receiver.url, authentication=oauth2(token_endpoint.url), authentication_id="d")

        outcome = await deliver(client, to)

        assert (outcome.result, outcome.status_code) == ("delivered", 202)
        assert len(token_endpoint.requests) == 2
        assert tokens_seen(receiver) == ["Bearer stale", "Bearer new"]
        ids = {request.header("webhook-id") for request in receiver.requests}
        assert ids == {"msg-1"}

    async def test_401_twice_fails(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        token_endpoint.reply(Reply.json({"accessToken": "t1"}), Reply.json({"accessToken": "t2"}))
        receiver.default = Reply(status=401)
        to = target(receiver.url, authentication=oauth2(token_endpoint.url), authentication_id="e")

        outcome = await deliver(client, to)

        assert (outcome.result, outcome.status_code) == ("failed", 401)
        assert tokens_seen(receiver) == ["Bearer t1", "Bearer t2"]
        assert len(token_endpoint.requests) == 2

    async def test_other_4xx_does_not_refresh(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        receiver.default = Reply(status=403)
        to = target(receiver.url, authentication=oauth2(token_endpoint.url), authentication_id="f")

        outcome = await deliver(client, to)

        assert (outcome.result, outcome.status_code) == ("failed", 403)
        assert len(token_endpoint.requests) == 1


class TestTokenFailures:
    async def test_token_endpoint_down_is_retried(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            down = f"http://127.0.0.1:{sock.getsockname()[1]}/token"

        outcome = await deliver(client, target(receiver.url, authentication=oauth2(down)))

        assert (outcome.result, outcome.status_code) == ("retry", None)
        assert outcome.error is not None
        assert outcome.error.startswith("token request: ConnectError")
        assert receiver.requests == []

    @pytest.mark.parametrize("status", [400, 401, 404, 500])
    async def test_token_endpoint_error_is_retried(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver, status: int
    ) -> None:
        token_endpoint.default = Reply.json({"error": "invalid_client"}, status=status)

        outcome = await deliver(
            client, target(receiver.url, authentication=oauth2(token_endpoint.url))
        )

        assert (outcome.result, outcome.status_code) == ("retry", None)
        assert outcome.error == f"no OAuth2 token: the token endpoint answered {status}"
        assert receiver.requests == []

    async def test_token_endpoint_retry_after_passed_on(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        token_endpoint.default = Reply(status=429, headers={"Retry-After": "30"})

        outcome = await deliver(
            client, target(receiver.url, authentication=oauth2(token_endpoint.url))
        )

        assert (outcome.result, outcome.retry_after) == ("retry", 30)

    @pytest.mark.parametrize(
        ("answer", "reason"),
        [
            (b'{"token": "x"}', "the token endpoint's answer has no token at $.accessToken"),
            (b'{"accessToken": ""}', "the token endpoint's answer has no token at $.accessToken"),
            (
                b'{"accessToken": {"v": 1}}',
                "the token endpoint's answer has no token at $.accessToken",
            ),
            (b"<html>s3cr3t</html>", "the token endpoint's answer is not JSON"),
        ],
    )
    async def test_no_token_in_the_answer_is_retried(
        self,
        client: CallbackClient,
        receiver: Receiver,
        token_endpoint: Receiver,
        answer: bytes,
        reason: str,
    ) -> None:
        token_endpoint.default = Reply(200, {"Content-Type": "application/json"}, answer)

        outcome = await deliver(
            client, target(receiver.url, authentication=oauth2(token_endpoint.url))
        )

        assert (outcome.result, outcome.error) == ("retry", f"no OAuth2 token: {reason}")
        assert receiver.requests == []

    async def test_invalid_jsonpath_is_retried(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        auth = oauth2(token_endpoint.url, path="$.[")

        outcome = await deliver(client, target(receiver.url, authentication=auth))

        assert outcome.result == "retry"
        assert outcome.error == "no OAuth2 token: the accessTokenPath '$.[' is not a valid JSONPath"

    async def test_incomplete_settings_are_retried(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        auth = {"type": "oauth2", "oauth2": {"method": "POST"}}

        outcome = await deliver(client, target(receiver.url, authentication=auth))

        assert (outcome.result, outcome.error) == (
            "retry",
            "no OAuth2 token: the oauth2 settings are incomplete",
        )

    async def test_errors_never_show_secrets(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        token_endpoint.default = Reply(400, {}, json.dumps({"echo": PAYLOAD}).encode())
        auth = oauth2(token_endpoint.url + "/t?key=url-secret", payload=PAYLOAD)

        outcome = await deliver(client, target(receiver.url, authentication=auth))

        assert outcome.error is not None
        for secret in ("s3cr3t-payload", "url-secret", "c987cbfc"):
            assert secret not in outcome.error

    async def test_overlong_token_answer_is_retried(
        self, client: CallbackClient, receiver: Receiver, token_endpoint: Receiver
    ) -> None:
        padding = "x" * 100_000
        token_endpoint.default = Reply.json({"accessToken": "t", "padding": padding})

        outcome = await deliver(
            client, target(receiver.url, authentication=oauth2(token_endpoint.url))
        )

        assert (outcome.result, outcome.status_code) == ("retry", None)
        assert outcome.error == "token request: the answer is longer than 65536 bytes"
        assert receiver.requests == []
