"""The callback client: one POST to a role's callback, and what became of it (DECISIONS §8).

:meth:`CallbackClient.deliver` never raises for anything the network, the receiver or the stored
configuration does; it answers an :class:`Outcome`:

- ``delivered``: any 2xx.
- ``retry``: network errors, no complete answer within ``timeout`` seconds, 408, 429, 5xx (with
  ``retry_after`` from ``Retry-After``), an invalid signing secret, and every failure to get an
  OAuth2 token (``status_code`` is then ``None``: the callback was not called).
- ``failed``: any 3xx (redirects are not followed) and other 4xx (for OAuth2, a 401 after the
  one token refresh), a URL that is not http(s), an address the SSRF guard refuses, callback or
  token URL alike (:mod:`convhub.delivery.guard`), headers that cannot be sent, a body that is
  not UTF-8.

Only cancellation (``asyncio.CancelledError``) and programming errors propagate.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import aiohttp
import httpx
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from convhub.core.errors import InvalidValue
from convhub.core.urls import check_callback_url
from convhub.delivery.guard import AddressRefused, GuardedResolver, guarded_transport
from convhub.delivery.oauth2 import Token, TokenCache, TokenError, TokenRequest, read_token

# Callbacks go through aiohttp (C HTTP parser, one pool without a per-request scan): about a
# third of the CPU httpx, httpcore, anyio and h11 took per callback. OAuth2 token requests, rare
# (tokens are cached), stay on httpx.
CONNECTIONS = 0  # no limit of aiohttp's own: worker_concurrency bounds the callbacks under way
KEEPALIVE_SECONDS = 30
TOKEN_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=30)
# Answers are read (so that the connection can be reused) up to this size, never kept whole.
MAX_ANSWER = 64 * 1024
# Framing and signature headers are the client's; a custom header never replaces them.
_OWN_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-type"}
    | {"webhook-id", "webhook-timestamp", "webhook-signature"}
)
# What HTTP/1.1 can carry (RFC 9110 §5.1, §5.5), in ASCII as httpx and h11 send: a header that
# does not match fails the delivery before anything is sent (aiohttp would send UTF-8).
_HEADER_NAME = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[ \t]+[\x21-\x7e])?)*")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

Result = Literal["delivered", "retry", "failed"]


@dataclass(frozen=True)
class CallbackTarget:
    url: str  # the role's callback
    headers: list[tuple[str, str]]  # the role's custom headers (Attribute name/value)
    # The stored authentication body with its secret opened: type "basic" with
    # basicAuth{username, password}, or type "oauth2" with oauth2{tokenRequestUrl, method,
    # headers, payload, accessTokenPath}.
    authentication: dict[str, Any] | None
    authentication_id: str | None  # cache key for OAuth2 tokens


@dataclass(frozen=True)
class Outcome:
    result: Result
    status_code: int | None
    retry_after: float | None  # seconds, from a Retry-After header (delta-seconds or HTTP date)
    error: str | None  # short human-readable reason, never containing secrets
    elapsed: float  # seconds


def _outcome(
    result: Result,
    error: str | None = None,
    *,
    status_code: int | None = None,
    retry_after: float | None = None,
) -> Outcome:
    return Outcome(result, status_code, retry_after, error, elapsed=0.0)


class CallbackClient:
    """One per process: a pooled HTTP client behind the SSRF guard, and the OAuth2 token cache."""

    def __init__(self, *, allow_private: bool, timeout: float = 5.0) -> None:
        self._allow_private = allow_private
        self.timeout = timeout
        self._tokens = TokenCache()
        self._session: aiohttp.ClientSession | None = None  # made in the running loop
        self._token_http = httpx.AsyncClient(
            transport=guarded_transport(allow_private=allow_private, limits=TOKEN_LIMITS),
            timeout=timeout,
            follow_redirects=False,
            # No proxies from the environment: a proxy would resolve names past the guard.
            trust_env=False,
        )

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(allow_private=self._allow_private),
                limit=CONNECTIONS,
                keepalive_timeout=KEEPALIVE_SECONDS,
                # httpx's TLS settings (certifi's CA bundle): the same receivers are trusted.
                ssl=httpx.create_ssl_context(trust_env=False),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # The whole exchange is bounded by asyncio.timeout in _exchange.
                timeout=aiohttp.ClientTimeout(total=None),
                # A callback's answer body is never looked at: read undecoded.
                auto_decompress=False,
                # No proxies from the environment (past the guard), no cookies (a receiver's
                # cookie would go to other tenants' receivers on the same host).
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self._token_http.aclose()

    async def deliver(
        self,
        target: CallbackTarget,
        *,
        body: bytes,
        webhook_id: str,
        signing_secret: str,
        timestamp: int | None = None,
    ) -> Outcome:
        """POST ``body`` (encoded JSON) to ``target``, signed, authenticated; never raises for
        what the outside does (see the module docstring)."""
        started = time.monotonic()
        outcome = await self._deliver(target, body, webhook_id, signing_secret, timestamp)
        return replace(outcome, elapsed=time.monotonic() - started)

    async def _deliver(
        self,
        target: CallbackTarget,
        body: bytes,
        webhook_id: str,
        signing_secret: str,
        timestamp: int | None,
    ) -> Outcome:
        refused = self._refused_url(target.url, "callback")
        if refused is not None:
            return refused
        headers = [(n, v) for n, v in target.headers if n.lower() not in _OWN_HEADERS]
        headers.append(("Content-Type", "application/json"))
        signed = _signature_headers(webhook_id, timestamp, body, signing_secret)
        if isinstance(signed, Outcome):
            return signed
        headers += signed
        auth = target.authentication
        if auth is None:
            return await self._post(target.url, body, headers)
        if auth.get("type") == "basic":
            return await self._post(target.url, body, _authorized(headers, _basic(auth)))
        if auth.get("type") == "oauth2":
            return await self._deliver_oauth2(target, body, headers)
        return _outcome("failed", "the role's authentication has an unknown type")

    async def _deliver_oauth2(
        self, target: CallbackTarget, body: bytes, headers: list[tuple[str, str]]
    ) -> Outcome:
        assert target.authentication is not None
        try:
            request = TokenRequest.from_settings(target.authentication.get("oauth2") or {})
        except TokenError as exc:
            return _outcome("retry", f"no OAuth2 token: {exc}")
        refused = self._refused_url(request.url, "token request")
        if refused is not None:
            return refused
        fingerprint = request.fingerprint()
        key = target.authentication_id or fingerprint
        for refreshed in (False, True):
            try:
                token = await self._tokens.get(
                    key, fingerprint=fingerprint, fetch=lambda: self._fetch_token(request)
                )
            except _Unsent as exc:
                if exc.refused:
                    return exc.outcome
                return replace(exc.outcome, result="retry", status_code=None)
            except TokenError as exc:
                # Every failure to get a token is worth retrying, a 4xx from the token endpoint
                # too: the customer can fix the authentication (or their endpoint) within the
                # 24-hour retry window, and the next attempt fetches with the edited settings.
                return _outcome("retry", f"no OAuth2 token: {exc}", retry_after=exc.retry_after)
            try:
                status, answered = await self._exchange(
                    "callback", target.url, body, _authorized(headers, f"Bearer {token}")
                )
            except _Unsent as exc:
                return exc.outcome
            if status != 401:
                return _classify(status, answered)
            if not refreshed:
                self._tokens.discard(key, token)  # and fetch a new one, once
        return _outcome(
            "failed", "the callback answered 401 to a freshly fetched token", status_code=401
        )

    async def _fetch_token(self, request: TokenRequest) -> Token:
        answer, content = await self._token_exchange(request)
        if not answer.is_success:
            raise TokenError(
                f"the token endpoint answered {answer.status_code}",
                retry_after=_retry_after(answer.headers),
            )
        return read_token(content, request.access_token_path)

    async def _post(self, url: str, body: bytes, headers: list[tuple[str, str]]) -> Outcome:
        try:
            status, answered = await self._exchange("callback", url, body, headers)
            return _classify(status, answered)
        except _Unsent as exc:
            return exc.outcome

    async def _exchange(
        self, what: str, url: str, body: bytes, headers: list[tuple[str, str]]
    ) -> tuple[int, Mapping[str, str]]:
        """POST a callback: the answer's status and headers (its body is read, up to
        :data:`MAX_ANSWER` bytes, so that the connection can be reused, and dropped), within
        ``timeout`` seconds in all. Raises :class:`_Unsent` when there is no answer to judge."""
        if not all(_HEADER_NAME.fullmatch(n) and _HEADER_VALUE.fullmatch(v) for n, v in headers):
            # Do not show the header: its value can be a secret.
            raise _Unsent(_outcome("failed", f"{what}: the URL or a header is invalid"))
        try:
            async with (
                asyncio.timeout(self.timeout),
                self._http().post(url, data=body, headers=headers, allow_redirects=False) as answer,
            ):
                await _drain(answer)
                return answer.status, answer.headers
        except AddressRefused as exc:
            raise _Unsent(_outcome("failed", f"{what} refused: {exc}"), refused=True) from exc
        except TimeoutError as exc:  # aiohttp's own timeouts are TimeoutErrors too
            outcome = _outcome("retry", f"{what}: no answer within {self.timeout:g} s")
            raise _Unsent(outcome) from exc
        except (aiohttp.InvalidURL, ValueError) as exc:
            outcome = _outcome("failed", f"{what}: the request could not be sent")
            raise _Unsent(outcome) from exc
        except aiohttp.ClientConnectorError as exc:  # resolving and connecting
            reason = f"{what}: ConnectError: {exc}"[:300]
            raise _Unsent(_outcome("retry", reason)) from exc
        except aiohttp.ClientResponseError as exc:  # an answer that is not HTTP
            # Not str(exc): it quotes the URL, whose query can hold a secret.
            reason = f"{what}: {type(exc).__name__}: {exc.message}"[:300]
            raise _Unsent(_outcome("retry", reason)) from exc
        except aiohttp.ClientError as exc:  # disconnected, reset, a truncated answer...
            reason = f"{what}: {type(exc).__name__}: {exc}"[:300]
            raise _Unsent(_outcome("retry", reason)) from exc

    async def _token_exchange(self, request: TokenRequest) -> tuple[httpx.Response, bytes]:
        """The token request and its answer's body (up to :data:`MAX_ANSWER` bytes), within
        ``timeout`` seconds in all (httpx's own timeouts are per phase). Raises
        :class:`_Unsent` when there is no answer to judge."""
        what = "token request"
        try:
            built = self._token_http.build_request(
                request.method,
                request.request_url(),
                content=request.content(),
                headers=request.all_headers(),
            )
        except (httpx.InvalidURL, ValueError, TypeError):
            # Do not show the exception: its text can quote a header value, i.e. a secret.
            raise _Unsent(_outcome("failed", f"{what}: the URL or a header is invalid")) from None
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._token_http.send(built, stream=True)
                try:
                    content = await _read_capped(response, MAX_ANSWER)
                finally:
                    await response.aclose()
        except AddressRefused as exc:
            raise _Unsent(_outcome("failed", f"{what} refused: {exc}"), refused=True) from exc
        except (TimeoutError, httpx.TimeoutException) as exc:
            outcome = _outcome("retry", f"{what}: no answer within {self.timeout:g} s")
            raise _Unsent(outcome) from exc
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            outcome = _outcome("failed", f"{what}: the request could not be sent")
            raise _Unsent(outcome) from exc
        except httpx.TransportError as exc:  # connect, read, write, remote protocol errors
            reason = f"{what}: {type(exc).__name__}: {exc}"[:300]
            raise _Unsent(_outcome("retry", reason)) from exc
        except httpx.RequestError as exc:  # an answer body that cannot be decoded (gzip...)
            raise _Unsent(_outcome("retry", f"{what}: {type(exc).__name__}")) from exc
        if content is None:
            too_long = f"{what}: the answer is longer than {MAX_ANSWER} bytes"
            raise _Unsent(_outcome("retry", too_long))
        return response, content

    def _refused_url(self, url: str, what: str) -> Outcome | None:
        """The configuration-time URL check again: scheme, host, IP literals, ``localhost``."""
        try:
            check_callback_url(url, attribute=what, allow_private=self._allow_private)
        except InvalidValue as exc:
            reason = dict(exc.details).get("reason", "not a valid URL")
            return _outcome("failed", f"{what} refused: {reason}")
        return None


class _Unsent(Exception):
    """A request that got no answer to judge, and the outcome to report for it."""

    def __init__(self, outcome: Outcome, *, refused: bool = False) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome
        self.refused = refused


async def _drain(answer: aiohttp.ClientResponse) -> None:
    """Read a callback's answer up to :data:`MAX_ANSWER` bytes, undecoded, and drop it: a
    connection is reused only once its answer was read (a longer one closes it)."""
    size = 0
    while size <= MAX_ANSWER:
        chunk = await answer.content.readany()
        if not chunk:
            return
        size += len(chunk)


async def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    """The (token) answer's body if it is at most ``limit`` bytes long, else ``None``; a
    longer body is read no further."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _classify(status: int, headers: Mapping[str, str]) -> Outcome:
    if 200 <= status < 300:
        return _outcome("delivered", status_code=status)
    if status in (408, 429) or status >= 500:
        retry_after = _retry_after(headers)
        return _outcome(
            "retry", f"the callback answered {status}", status_code=status, retry_after=retry_after
        )
    reason = f"the callback answered {status}"
    if status in _REDIRECTS and "location" in headers:
        reason += " (redirects are not followed)"
    return _outcome("failed", reason, status_code=status)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _signature_headers(
    webhook_id: str, timestamp: int | None, body: bytes, secret: str
) -> list[tuple[str, str]] | Outcome:
    """Standard Webhooks headers (https://www.standardwebhooks.com), signed by the reference
    ``standardwebhooks`` package: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``."""
    when = int(time.time()) if timestamp is None else timestamp
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return _outcome("failed", "the message body is not UTF-8")
    try:
        webhook = Webhook(secret)
    except (ValueError, EmptyWebhookSecretError, RuntimeError):
        # The tenant's secret is ours, not the customer's: an operator can repair it in time.
        return _outcome("retry", "the tenant's signing secret is not valid")
    signature = webhook.sign(webhook_id, datetime.fromtimestamp(when, UTC), text)
    return [
        ("webhook-id", webhook_id),
        ("webhook-timestamp", str(when)),
        ("webhook-signature", signature),
    ]


def _basic(auth: Mapping[str, Any]) -> str:
    basic = auth.get("basicAuth") or {}
    pair = f"{basic.get('username', '')}:{basic.get('password', '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _authorized(headers: list[tuple[str, str]], authorization: str) -> list[tuple[str, str]]:
    """``headers`` with this ``Authorization`` instead of any custom one."""
    kept = [(n, v) for n, v in headers if n.lower() != "authorization"]
    return [*kept, ("Authorization", authorization)]
