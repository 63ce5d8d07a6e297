"""The SSRF guard (DECISIONS §8): with private addresses refused, no request leaves for a callback
or token URL whose host is, or resolves to, a loopback, private, link-local, shared, reserved,
multicast or unspecified address; and the connection goes to the address that was checked."""

from __future__ import annotations

import pytest

from convhub.delivery.client import CallbackClient
from convhub.delivery.guard import AddressRefused, GuardedBackend
from tests.delivery.conftest import deliver, target
from tests.delivery.test_oauth2 import oauth2
from tests.receivers import Receiver

# The delivery client and its parts against loopback servers: no database.
pytestmark = pytest.mark.database_free

LITERAL_REFUSED = "the URL's host is a loopback, private, link-local or reserved address"


class TestCallbackRefused:
    @pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.1", "[::ffff:127.0.0.1]"])
    async def test_private_host_in_the_url(
        self, guarded_client: CallbackClient, receiver: Receiver, host: str
    ) -> None:
        port = receiver.root.rsplit(":", 1)[1]

        outcome = await deliver(
            guarded_client, target(f"http://{host}:{port}{receiver.prefix}/hook")
        )

        assert (outcome.result, outcome.status_code) == ("failed", None)
        assert outcome.error == f"callback refused: {LITERAL_REFUSED}"
        assert receiver.requests == []

    async def test_name_resolving_to_loopback(
        self, guarded_client: CallbackClient, receiver: Receiver, fake_dns: dict[str, list[str]]
    ) -> None:
        fake_dns["callback.example.test"] = ["127.0.0.1"]
        port = receiver.root.rsplit(":", 1)[1]

        outcome = await deliver(
            guarded_client, target(f"http://callback.example.test:{port}{receiver.prefix}/")
        )

        assert (outcome.result, outcome.status_code) == ("failed", None)
        assert outcome.error == (
            "callback refused: callback.example.test resolves to 127.0.0.1, a loopback address"
        )
        assert receiver.requests == []

    async def test_name_resolving_to_public_and_private(
        self, guarded_client: CallbackClient, receiver: Receiver, fake_dns: dict[str, list[str]]
    ) -> None:
        fake_dns["mixed.example.test"] = ["8.8.8.8", "127.0.0.1"]
        port = receiver.root.rsplit(":", 1)[1]

        outcome = await deliver(
            guarded_client, target(f"http://mixed.example.test:{port}{receiver.prefix}/")
        )

        assert outcome.result == "failed"
        assert outcome.error is not None
        assert "127.0.0.1, a loopback address" in outcome.error
        assert receiver.requests == []

    async def test_token_url_resolving_to_loopback(
        self,
        guarded_client: CallbackClient,
        token_endpoint: Receiver,
        fake_dns: dict[str, list[str]],
    ) -> None:
        fake_dns["token.example.test"] = ["127.0.0.1"]
        port = token_endpoint.root.rsplit(":", 1)[1]
        auth = oauth2(f"http://token.example.test:{port}{token_endpoint.prefix}/token")

        outcome = await deliver(
            guarded_client, target("https://callback.example.com/", authentication=auth)
        )

        assert (outcome.result, outcome.status_code) == ("failed", None)
        assert outcome.error == (
            "token request refused: token.example.test resolves to 127.0.0.1, a loopback address"
        )
        assert token_endpoint.requests == []

    async def test_token_url_on_loopback_literal(
        self, guarded_client: CallbackClient, token_endpoint: Receiver
    ) -> None:
        auth = oauth2(token_endpoint.url + "/token")

        outcome = await deliver(
            guarded_client, target("https://callback.example.com/", authentication=auth)
        )

        assert outcome.result == "failed"
        assert outcome.error is not None
        assert outcome.error.startswith("token request refused: ")
        assert token_endpoint.requests == []


class TestCheckedAddressUsed:
    async def test_connects_to_the_resolved_address_with_the_name_as_host(
        self, client: CallbackClient, receiver: Receiver, fake_dns: dict[str, list[str]]
    ) -> None:
        # The name exists only in the patched resolver, and it is looked up once: the connection
        # went to the address the guard saw, with no second lookup that could answer otherwise.
        fake_dns["allowed.example.test"] = ["127.0.0.1"]
        port = receiver.root.rsplit(":", 1)[1]

        outcome = await deliver(
            client, target(f"http://allowed.example.test:{port}{receiver.prefix}/hook")
        )

        assert outcome.result == "delivered"
        assert receiver.requests[0].header("Host") == f"allowed.example.test:{port}"
        assert fake_dns["lookups"] == ["allowed.example.test"]

    async def test_next_address_tried_when_the_first_refuses(
        self, client: CallbackClient, receiver: Receiver, fake_dns: dict[str, list[str]]
    ) -> None:
        fake_dns["two.example.test"] = ["127.0.0.2", "127.0.0.1"]  # nothing listens on .2
        port = receiver.root.rsplit(":", 1)[1]

        outcome = await deliver(client, target(f"http://two.example.test:{port}{receiver.prefix}/"))

        assert outcome.result == "delivered"


class TestGuardedBackend:
    @pytest.mark.parametrize(
        ("address", "kind"),
        [
            ("127.0.0.1", "loopback"),
            ("::1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.0.1", "private"),
            ("fd00:ec2::254", "private"),
            ("100.64.0.1", "not globally routable (such as shared 100.64.0.0/10)"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("224.0.0.1", "multicast"),
            ("240.0.0.1", "reserved"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
        ],
    )
    async def test_refused_addresses(
        self, fake_dns: dict[str, list[str]], address: str, kind: str
    ) -> None:
        fake_dns["target.example.test"] = [address]
        backend = GuardedBackend(allow_private=False)

        with pytest.raises(AddressRefused) as refused:
            await backend.connect_tcp("target.example.test", 80, timeout=1)

        assert str(refused.value).endswith(f", a {kind} address")
