"""OAuth2 tokens for callbacks: the token request, the token in its answer, and the cache.

An ``oauth2`` authentication (contract: ``Oauth2Authentication``) says how to ask for a token —
``tokenRequestUrl``, ``method``, ``headers``, ``payload`` — and where the token is in the JSON
answer: ``accessTokenPath``, a JSONPath read with ``jsonpath-ng``.

- **POST** sends ``payload`` as the body, with the configured headers. Without a configured
  ``Content-Type``, it is ``application/json`` when the payload is JSON, and
  ``application/x-www-form-urlencoded`` otherwise.
- **GET** has no body. A payload that is a form-encoded query (``a=b&c=d``) is added to the URL's
  query string, the usual way a GET token endpoint takes its parameters; any other payload (JSON)
  cannot travel with a GET and is not sent.

A token is cached per authentication until the callback answers 401, until the authentication is
edited (the cache entry carries a fingerprint of the settings it was fetched with), or, when the
answer has the standard ``expires_in`` (RFC 6749 §5.1), until 90% of that lifetime has passed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.jsonpath import JSONPath
from jsonpath_ng.parser import parse as parse_jsonpath

Method = Literal["GET", "POST"]


class TokenError(Exception):
    """No token could be had. The message is safe to show: it never holds a secret (no URL, no
    payload, no answer body)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class TokenRequest:
    url: str
    method: Method
    headers: tuple[tuple[str, str], ...]
    payload: str
    access_token_path: str

    @classmethod
    def from_settings(cls, oauth2: Mapping[str, Any]) -> TokenRequest:
        """From the stored ``oauth2`` object, its ``payload`` opened."""
        try:
            method = oauth2["method"]
            if method not in ("GET", "POST"):
                raise ValueError(method)
            return cls(
                url=str(oauth2["tokenRequestUrl"]),
                method=method,
                headers=tuple((str(h["name"]), str(h["value"])) for h in oauth2["headers"]),
                payload=str(oauth2["payload"]),
                access_token_path=str(oauth2["accessTokenPath"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TokenError("the oauth2 settings are incomplete") from exc

    def fingerprint(self) -> str:
        """Changes whenever any setting changes, so an edited authentication fetches anew."""
        settings = [self.url, self.method, self.headers, self.payload, self.access_token_path]
        return hashlib.sha256(json.dumps(settings).encode()).hexdigest()

    def request_url(self) -> str:
        """The URL, with a GET's form payload added to its query (see the module docstring)."""
        if self.method != "GET" or _is_json(self.payload):
            return self.url
        try:
            parse_qsl(self.payload, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            return self.url
        parts = urlsplit(self.url)
        query = f"{parts.query}&{self.payload}" if parts.query else self.payload
        return urlunsplit(parts._replace(query=query))

    def content(self) -> bytes | None:
        return self.payload.encode() if self.method == "POST" else None

    def all_headers(self) -> list[tuple[str, str]]:
        headers = list(self.headers)
        if self.method == "POST" and not any(n.lower() == "content-type" for n, _ in headers):
            kind = (
                "application/json"
                if _is_json(self.payload)
                else "application/x-www-form-urlencoded"
            )
            headers.append(("Content-Type", kind))
        return headers


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Token:
    value: str
    expires_in: float | None = None


def read_token(answer: bytes, path: str) -> Token:
    """The token at JSONPath ``path`` in the JSON ``answer`` (the first match)."""
    try:
        expression = _compiled(path)
    except (JSONPathError, ValueError) as exc:
        raise TokenError(f"the accessTokenPath {path!r} is not a valid JSONPath") from exc
    try:
        document = json.loads(answer)
    except ValueError as exc:
        raise TokenError("the token endpoint's answer is not JSON") from exc
    matches = [match.value for match in expression.find(document)]
    value = matches[0] if matches else None
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise TokenError(f"the token endpoint's answer has no token at {path}")
    return Token(str(value), _expires_in(document))


@lru_cache(maxsize=256)
def _compiled(path: str) -> JSONPath:
    return parse_jsonpath(path)


def _expires_in(document: Any) -> float | None:
    lifetime = document.get("expires_in") if isinstance(document, dict) else None
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        return None
    return float(lifetime)


@dataclass(frozen=True)
class _Cached:
    fingerprint: str
    token: str
    expires_at: float | None  # time.monotonic()


class TokenCache:
    """One token per authentication; deliveries that need the same missing token wait for one
    fetch (an ``asyncio.Lock`` per authentication) instead of each fetching their own."""

    def __init__(self) -> None:
        # Keyed by authentication id, each entry valid only for the settings it was fetched with:
        # the key "authentication id + settings hash", with room for one entry per authentication.
        self._tokens: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self, key: str, *, fingerprint: str, fetch: Callable[[], Awaitable[Token]]
    ) -> str:
        """The cached token, or the one ``fetch`` brings (which may raise :class:`TokenError`)."""
        cached = self._fresh(key, fingerprint)
        if cached is not None:
            return cached
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._fresh(key, fingerprint)
            if cached is not None:
                return cached
            token = await fetch()
            expires_at = None if token.expires_in is None else _now() + 0.9 * token.expires_in
            self._tokens[key] = _Cached(fingerprint, token.value, expires_at)
            return token.value

    def discard(self, key: str, token: str) -> None:
        """Forget ``token`` (refused by a callback), unless another delivery already replaced it."""
        cached = self._tokens.get(key)
        if cached is not None and cached.token == token:
            del self._tokens[key]

    def _fresh(self, key: str, fingerprint: str) -> str | None:
        cached = self._tokens.get(key)
        if cached is None or cached.fingerprint != fingerprint:
            return None
        if cached.expires_at is not None and _now() >= cached.expires_at:
            return None
        return cached.token


def _now() -> float:
    return time.monotonic()
