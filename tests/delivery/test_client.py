"""CallbackClient.deliver against real loopback receivers: headers, authentication, signature,
and how each kind of answer (or its absence) is judged (DECISIONS §8)."""

from __future__ import annotations

import base64
import socket
import time
from email.utils import formatdate

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from convhub.delivery.client import CallbackClient
from tests.delivery.conftest import BODY, SECRET, deliver, target
from tests.receivers import Receiver, Reply

# The delivery client and its parts against loopback servers: no database.
pytestmark = pytest.mark.database_free

BASIC = {"type": "basic", "basicAuth": {"username": "assistant-1", "password": "pä55:word"}}


class TestRequest:
    async def test_posts_the_body_as_json(self, client: CallbackClient, receiver: Receiver) -> None:
        outcome = await deliver(client, target(receiver.url + "/hook?tenant=a%20b"))

        assert outcome.result == "delivered"
        [request] = receiver.requests
        assert (request.method, request.path, request.body) == ("POST", "/hook?tenant=a%20b", BODY)
        assert request.header("Content-Type") == "application/json"
        assert request.header("Authorization") is None

    async def test_a_receivers_cookie_is_never_sent_back(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        # One client serves every tenant: a cookie kept from one receiver would reach the others
        # on the same host.
        receiver.reply(Reply(202, {"Set-Cookie": "session=tenant-a; Path=/"}), Reply(202))
        for path in ("/a", "/b"):
            assert (await deliver(client, target(receiver.url + path))).result == "delivered"

        assert [r.header("Cookie") for r in receiver.requests] == [None, None]

    async def test_custom_headers_sent(self, client: CallbackClient, receiver: Receiver) -> None:
        headers = [("X-Api-Key", "k-123"), ("X-Tenant", "acme"), ("Accept", "application/json")]

        await deliver(client, target(receiver.url, headers=headers))

        sent = receiver.requests[0].header_dict()
        assert sent["x-api-key"] == "k-123"
        assert sent["x-tenant"] == "acme"
        assert sent["accept"] == "application/json"

    async def test_custom_headers_cannot_replace_framing_or_signature(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        headers = [("Content-Type", "text/plain"), ("webhook-id", "forged"), ("Host", "evil")]

        await deliver(client, target(receiver.url, headers=headers), webhook_id="msg-7")

        [request] = receiver.requests
        assert request.header("Content-Type") == "application/json"
        assert request.header("webhook-id") == "msg-7"
        assert request.header("Host") == receiver.root.removeprefix("http://")

    async def test_basic_authentication(self, client: CallbackClient, receiver: Receiver) -> None:
        custom = [("Authorization", "Token replaced-by-the-authentication")]

        outcome = await deliver(client, target(receiver.url, headers=custom, authentication=BASIC))

        assert outcome.result == "delivered"
        expected = base64.b64encode("assistant-1:pä55:word".encode()).decode()
        [request] = receiver.requests
        assert [v for n, v in request.headers if n.lower() == "authorization"] == [
            f"Basic {expected}"
        ]

    async def test_custom_authorization_kept_without_authentication(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        await deliver(client, target(receiver.url, headers=[("Authorization", "Token abc")]))

        assert receiver.requests[0].header("Authorization") == "Token abc"

    async def test_non_ascii_header_fails_without_quoting_it(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        outcome = await deliver(client, target(receiver.url, headers=[("X-Key", "sécret")]))

        assert outcome.result == "failed"
        assert outcome.error is not None
        assert "sécret" not in outcome.error
        assert receiver.requests == []


class TestSignature:
    async def test_verifiable_with_standardwebhooks(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        await deliver(client, target(receiver.url), webhook_id="msg_2hBvx1")

        [request] = receiver.requests
        verified = Webhook(SECRET).verify(request.body, request.header_dict())
        assert verified == {"message": {"id": "m-1", "text": "hello é"}}
        assert request.header("webhook-id") == "msg_2hBvx1"
        assert (request.header("webhook-signature") or "").startswith("v1,")

    async def test_same_webhook_id_on_a_second_call(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        receiver.reply(Reply(status=503))

        first = await deliver(client, target(receiver.url), webhook_id="msg-9")
        second = await deliver(client, target(receiver.url), webhook_id="msg-9")

        assert (first.result, second.result) == ("retry", "delivered")
        ids = [request.header("webhook-id") for request in receiver.requests]
        assert ids == ["msg-9", "msg-9"]
        for request in receiver.requests:
            Webhook(SECRET).verify(request.body, request.header_dict())

    async def test_given_timestamp_is_signed(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        stamp = int(time.time()) - 60

        await client.deliver(
            target(receiver.url), body=BODY, webhook_id="m", signing_secret=SECRET, timestamp=stamp
        )

        [request] = receiver.requests
        assert request.header("webhook-timestamp") == str(stamp)
        Webhook(SECRET).verify(request.body, request.header_dict())

    async def test_other_secret_does_not_verify(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        await deliver(client, target(receiver.url))

        other = "whsec_" + base64.b64encode(b"another-key").decode()
        request = receiver.requests[0]
        with pytest.raises(WebhookVerificationError):
            Webhook(other).verify(request.body, request.header_dict())

    async def test_invalid_signing_secret_is_retried(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        outcome = await client.deliver(
            target(receiver.url), body=BODY, webhook_id="m", signing_secret="whsec_"
        )

        assert (outcome.result, outcome.error) == (
            "retry",
            "the tenant's signing secret is not valid",
        )
        assert receiver.requests == []


class TestAnswers:
    @pytest.mark.parametrize("status", [200, 202, 204])
    async def test_2xx_delivered(
        self, client: CallbackClient, receiver: Receiver, status: int
    ) -> None:
        receiver.default = Reply(status=status)

        outcome = await deliver(client, target(receiver.url))

        assert (outcome.result, outcome.status_code, outcome.error) == ("delivered", status, None)
        assert outcome.elapsed > 0

    @pytest.mark.parametrize("status", [408, 429, 500, 503])
    async def test_retried_with_retry_after_in_seconds(
        self, client: CallbackClient, receiver: Receiver, status: int
    ) -> None:
        receiver.default = Reply(status=status, headers={"Retry-After": "120"})

        outcome = await deliver(client, target(receiver.url))

        assert (outcome.result, outcome.status_code, outcome.retry_after) == ("retry", status, 120)
        assert outcome.error == f"the callback answered {status}"

    async def test_retry_after_as_http_date(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        later = formatdate(time.time() + 300, usegmt=True)
        receiver.default = Reply(status=503, headers={"Retry-After": later})

        outcome = await deliver(client, target(receiver.url))

        assert outcome.result == "retry"
        assert outcome.retry_after is not None
        assert 290 <= outcome.retry_after <= 300

    @pytest.mark.parametrize("value", ["", "soon", "-5"])
    async def test_unreadable_retry_after_ignored(
        self, client: CallbackClient, receiver: Receiver, value: str
    ) -> None:
        receiver.default = Reply(status=429, headers={"Retry-After": value})

        outcome = await deliver(client, target(receiver.url))

        assert (outcome.result, outcome.retry_after) == ("retry", None)

    async def test_retry_without_retry_after(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        receiver.default = Reply(status=502)

        outcome = await deliver(client, target(receiver.url))

        assert (outcome.result, outcome.retry_after) == ("retry", None)

    @pytest.mark.parametrize("status", [400, 401, 404, 410])
    async def test_other_4xx_failed(
        self, client: CallbackClient, receiver: Receiver, status: int
    ) -> None:
        receiver.default = Reply(status=status, headers={"Retry-After": "5"})

        outcome = await deliver(client, target(receiver.url, authentication=BASIC))

        assert (outcome.result, outcome.status_code) == ("failed", status)
        assert outcome.error == f"the callback answered {status}"
        assert len(receiver.requests) == 1

    async def test_redirect_not_followed(self, client: CallbackClient, receiver: Receiver) -> None:
        receiver.default = Reply(status=302, headers={"Location": receiver.url + "/elsewhere"})

        outcome = await deliver(client, target(receiver.url + "/hook"))

        assert (outcome.result, outcome.status_code) == ("failed", 302)
        assert [request.path for request in receiver.requests] == ["/hook"]

    async def test_large_answer_body_is_not_a_problem(
        self, client: CallbackClient, receiver: Receiver
    ) -> None:
        receiver.default = Reply(status=200, body=b"x" * 1_000_000)

        outcome = await deliver(client, target(receiver.url))

        assert outcome.result == "delivered"


class TestNoAnswer:
    async def test_slow_receiver_retried_after_the_timeout(self, receiver: Receiver) -> None:
        receiver.default = Reply(status=202, delay=3.0)
        client = CallbackClient(allow_private=True, timeout=0.5)
        try:
            outcome = await deliver(client, target(receiver.url))
        finally:
            await client.aclose()

        assert (outcome.result, outcome.status_code) == ("retry", None)
        assert outcome.error == "callback: no answer within 0.5 s"
        assert outcome.elapsed < 3.0  # it gave up before the answer came
        assert len(receiver.requests) == 1

    async def test_connection_refused_retried(self, client: CallbackClient) -> None:
        with socket.socket() as sock:  # a port that nothing listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]

        outcome = await deliver(client, target(f"http://127.0.0.1:{port}/hook"))

        assert (outcome.result, outcome.status_code) == ("retry", None)
        assert outcome.error is not None
        assert outcome.error.startswith("callback: ConnectError")

    async def test_unknown_host_retried(self, client: CallbackClient) -> None:
        outcome = await deliver(client, target("http://no-such-host.invalid/hook"))

        assert outcome.result == "retry"
        assert outcome.error is not None
        assert "cannot resolve no-such-host.invalid" in outcome.error

    @pytest.mark.parametrize(
        "url", ["ftp://example.com/hook", "file:///etc/passwd", "example.com/hook", "https://"]
    )
    async def test_not_an_http_url_failed(self, client: CallbackClient, url: str) -> None:
        outcome = await deliver(client, target(url))

        assert (outcome.result, outcome.status_code) == ("failed", None)
        assert outcome.error is not None
        assert outcome.error.startswith("callback refused: ")
