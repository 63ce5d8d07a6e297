"""Signed asset URLs: ``<base>/assets/<id>/<purpose>?expires=<unix>&signature=<mac>``.

The signature is an HMAC-SHA256 over purpose (``upload`` or ``download``), asset id and expiry,
with a key derived (HKDF) from the token signing key: it is the only credential these URLs need,
it is bound to one asset and one purpose, and it cannot be stretched past its expiry. Tokens and
URLs never share a key, so neither can be forged from the other.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from convhub.assets.errors import InvalidSignature
from convhub.core.settings import Settings
from convhub.core.urls import API_BASE

Purpose = Literal["upload", "download"]


def url_key(settings: Settings) -> bytes:
    return _derive(settings.token_signing_key.get_secret_value())


@functools.lru_cache(maxsize=8)
def _derive(signing_key: str) -> bytes:
    # Derived once per key, not per request: HKDF is the costliest step of building the links.
    secret = signing_key.encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"convhub asset URLs").derive(
        secret
    )


def signature(key: bytes, *, asset_id: str, purpose: Purpose, expires: int) -> str:
    mac = hmac.new(key, f"{purpose}\n{asset_id}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def verify(
    key: bytes, *, asset_id: str, purpose: Purpose, expires: str, given: str, now: datetime
) -> None:
    """Raise :class:`InvalidSignature` unless ``given`` signs this asset and purpose and
    ``expires`` (Unix seconds) is still ahead."""
    if not expires.isdigit() or len(expires) > 12:
        raise InvalidSignature()
    expected = signature(key, asset_id=asset_id, purpose=purpose, expires=int(expires))
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise InvalidSignature()
    if int(expires) <= now.timestamp():
        raise InvalidSignature()


@dataclass(frozen=True)
class AssetLinks:
    """Builds the signed URLs of one request's answers, on ``base`` (the public URL, or the
    request's base URL, followed by the API base path)."""

    key: bytes
    base: str
    settings: Settings

    def url(
        self, asset_id: str, purpose: Purpose, *, seconds: int, now: datetime
    ) -> tuple[str, datetime]:
        """The signed URL and its expiry (whole seconds, UTC)."""
        expiry = (now + timedelta(seconds=seconds)).replace(microsecond=0)
        expires = int(expiry.timestamp())
        query = urlencode(
            {
                "expires": expires,
                "signature": signature(
                    self.key, asset_id=asset_id, purpose=purpose, expires=expires
                ),
            }
        )
        return f"{self.base}/assets/{asset_id}/{purpose}?{query}", expiry.astimezone(UTC)

    def callback_url(self, asset_id: str, now: datetime) -> str:
        """A download URL for a callback: valid through every delivery retry and after."""
        seconds = self.settings.asset_callback_url_seconds
        return self.url(asset_id, "download", seconds=seconds, now=now)[0]

    def download_url(self, asset_id: str, now: datetime) -> tuple[str, datetime]:
        seconds = self.settings.asset_download_url_seconds
        return self.url(asset_id, "download", seconds=seconds, now=now)


def links_for(settings: Settings, *, request_base: str) -> AssetLinks:
    origin = (settings.public_url or request_base).rstrip("/")
    return AssetLinks(key=url_key(settings), base=origin + API_BASE, settings=settings)
