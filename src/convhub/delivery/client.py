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
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from convhub.core.errors import InvalidValue
from convhub.core.urls import check_callback_url
from convhub.delivery.guard import AddressRefused, guarded_transport
from convhub.delivery.oauth2 import Token, TokenCache, TokenError, TokenRequest, read_token

# Connection pools, taken in turn: httpcore matches queued requests to connections by scanning
# both at every request's start and end (and polls each connection's socket as it goes), so
# one pool of 64 busy connections cost more CPU than the callbacks; 8 small pools cost 64 times
# less. Together: 256 connections, enough for any worker_concurrency.
POOLS = 8
LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=30)
# Answers are read (so that the connection can be reused) up to this size, never kept whole.
MAX_ANSWER = 64 * 1024
# Framing and signature headers are the client's; a custom header never replaces them.
_OWN_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-type"}
    | {"webhook-id", "webhook-timestamp", "webhook-signature"}
)

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
        self._timeout = timeout
        self._tokens = TokenCache()
        self._pools = [
            httpx.AsyncClient(
                transport=guarded_transport(allow_private=allow_private, limits=LIMITS),
                timeout=timeout,
                follow_redirects=False,
                # No proxies from the environment: a proxy would resolve names past the guard.
                trust_env=False,
            )
            for _ in range(POOLS)
        ]
        self._turn = itertools.cycle(self._pools)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()

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
                answer, _ = await self._exchange(
                    "callback", "POST", target.url, body, _authorized(headers, f"Bearer {token}")
                )
            except _Unsent as exc:
                return exc.outcome
            if answer.status_code != 401:
                return _classify(answer)
            if not refreshed:
                self._tokens.discard(key, token)  # and fetch a new one, once
        return _outcome(
            "failed", "the callback answered 401 to a freshly fetched token", status_code=401
        )

    async def _fetch_token(self, request: TokenRequest) -> Token:
        answer, content = await self._exchange(
            "token request",
            request.method,
            request.request_url(),
            request.content(),
            request.all_headers(),
            max_answer=MAX_ANSWER,
        )
        if not answer.is_success:
            raise TokenError(
                f"the token endpoint answered {answer.status_code}",
                retry_after=_retry_after(answer.headers),
            )
        return read_token(content, request.access_token_path)

    async def _post(self, url: str, body: bytes, headers: list[tuple[str, str]]) -> Outcome:
        try:
            answer, _ = await self._exchange("callback", "POST", url, body, headers)
            return _classify(answer)
        except _Unsent as exc:
            return exc.outcome

    async def _exchange(
        self,
        what: str,
        method: str,
        url: str,
        content: bytes | None,
        headers: list[tuple[str, str]],
        *,
        max_answer: int = 0,
    ) -> tuple[httpx.Response, bytes]:
        """One request, its answer and the answer's body (up to ``max_answer`` bytes), within
        ``timeout`` seconds in all (httpx's own timeouts are per phase). Raises :class:`_Unsent`
        when there is no answer to judge."""
        http = next(self._turn)
        try:
            request = http.build_request(
                method,
                url,
                content=content,
                headers=headers,
            )
        except (httpx.InvalidURL, ValueError, TypeError):
            # Do not show the exception: its text can quote a header value, i.e. a secret.
            raise _Unsent(_outcome("failed", f"{what}: the URL or a header is invalid")) from None
        try:
            async with asyncio.timeout(self._timeout):
                response = await http.send(request, stream=True)
                try:
                    content = await _read_capped(response, max_answer)
                finally:
                    await response.aclose()
        except AddressRefused as exc:
            raise _Unsent(_outcome("failed", f"{what} refused: {exc}"), refused=True) from exc
        except (TimeoutError, httpx.TimeoutException) as exc:
            outcome = _outcome("retry", f"{what}: no answer within {self._timeout:g} s")
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
            too_long = f"{what}: the answer is longer than {max_answer} bytes"
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


async def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    """The answer's body if it is at most ``limit`` bytes long, else ``None``. A longer body is
    drained (so that the connection can be reused) only up to :data:`MAX_ANSWER`."""
    chunks: list[bytes] = []
    size = 0
    # Undecoded when nothing is kept: a callback's answer body is never looked at.
    stream = response.aiter_bytes() if limit else response.aiter_raw()
    async for chunk in stream:
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif size > MAX_ANSWER:
            break
    if size > limit:
        return None if limit else b""
    return b"".join(chunks)


def _classify(response: httpx.Response) -> Outcome:
    status = response.status_code
    if response.is_success:
        return _outcome("delivered", status_code=status)
    if status in (408, 429) or status >= 500:
        retry_after = _retry_after(response.headers)
        return _outcome(
            "retry", f"the callback answered {status}", status_code=status, retry_after=retry_after
        )
    reason = f"the callback answered {status}"
    if response.is_redirect:
        reason += " (redirects are not followed)"
    return _outcome("failed", reason, status_code=status)


def _retry_after(headers: httpx.Headers) -> float | None:
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
