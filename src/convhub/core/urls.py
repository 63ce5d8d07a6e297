"""Checks on URLs this service will call: role callbacks, OAuth2 token endpoints (DECISIONS §8).

Only what the URL itself says is checked, at configuration time: no DNS lookup here (a name can
resolve differently at delivery time, so the delivery client must check the address it connects
to as well). A host written as an IP address that is not globally routable (loopback, private,
shared, link-local such as the cloud metadata 169.254.169.254, reserved, multicast, unspecified)
is refused, and so is ``localhost`` (and ``*.localhost``, RFC 6761 §6.3), unless the deployment
allows private callbacks (``allow_private_callbacks``).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from convhub.core.errors import InvalidValue

# Where eGain's Conversation Manager API v3 lives: every contract operation is below it.
API_BASE = "/conversation/conversationmgr/v3"

_SCHEMES = frozenset({"http", "https"})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _literal_ip(host: str) -> IPAddress | None:
    """The address ``host`` denotes when it is an IP literal, in any form a resolver accepts."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # inet_aton reads the short and numeric forms getaddrinfo accepts without any DNS:
        # "127.1", "2130706433", "0x7f.0.0.1" all mean 127.0.0.1.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def private_address_kind(address: IPAddress) -> str | None:
    """What makes ``address`` one this service must not call ("loopback", "private", ...), or
    ``None`` for a globally routable address. Shared with the delivery client, which checks the
    address it connects to (:mod:`convhub.delivery.client`)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    kinds = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        # `is_global` is also false for shared address space (100.64.0.0/10, carrier-grade NAT).
        ("not globally routable (such as shared 100.64.0.0/10)", not address.is_global),
    )
    return next((kind for kind, matches in kinds if matches), None)


def _is_local_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def check_callback_url(url: str, *, attribute: str, allow_private: bool) -> None:
    """Raise :class:`InvalidValue` (400-152) naming ``attribute`` unless ``url`` is an http(s)
    URL with a host this service may call."""
    if any(char.isspace() or ord(char) < 0x20 for char in url):
        raise InvalidValue(attribute, "the URL must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise InvalidValue(attribute, "not a valid URL") from exc
    if parts.scheme.lower() not in _SCHEMES:
        raise InvalidValue(attribute, "the URL must start with http:// or https://")
    host = parts.hostname
    if not host:
        raise InvalidValue(attribute, "the URL must name a host")
    if allow_private:
        return
    address = _literal_ip(host)
    if _is_local_name(host) or (address is not None and private_address_kind(address)):
        raise InvalidValue(
            attribute, "the URL's host is a loopback, private, link-local or reserved address"
        )
