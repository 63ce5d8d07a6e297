"""Access tokens: JWTs we sign (HS256) and, optionally, JWTs of an external identity provider
verified against its JWKS (DECISIONS §1)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from convhub.core.settings import Settings

_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the API client, its tenant and the permissions its token carries."""

    client_id: str
    tenant_id: str
    permissions: frozenset[str]


@dataclass(frozen=True, slots=True)
class ExternalClaims:
    subject: str
    tenant_name: str
    permissions: frozenset[str]


class InvalidTokenError(Exception):
    pass


def issue(
    *, settings: Settings, client_id: str, tenant_id: str, permissions: list[str]
) -> tuple[str, int]:
    """A signed token and its lifetime in seconds."""
    now = datetime.now(UTC)
    ttl = settings.token_ttl_seconds
    claims = {
        "iss": settings.token_issuer,
        "sub": client_id,
        "tid": tenant_id,
        "perm": permissions,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
    }
    key = settings.token_signing_key.get_secret_value()
    return jwt.encode(claims, key, algorithm=_ALGORITHM), ttl


def verify_local(token: str, *, settings: Settings) -> Caller:
    return _verify_local(token, settings=settings)[0]


def _verify_local(token: str, *, settings: Settings) -> tuple[Caller, float]:
    """The caller and the token's expiry (Unix seconds)."""
    try:
        claims = jwt.decode(
            token,
            settings.token_signing_key.get_secret_value(),
            algorithms=[_ALGORITHM],
            issuer=settings.token_issuer,
            options={"require": ["exp", "iss", "sub", "tid"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    caller = Caller(
        client_id=str(claims["sub"]),
        tenant_id=str(claims["tid"]),
        permissions=frozenset(_as_list(claims.get("perm"))),
    )
    return caller, float(claims["exp"])


class VerifiedTokens:
    """Our own tokens this process has verified, each kept until it expires.

    A client sends the same token with every request for its lifetime; decoding and checking it
    (PyJWT checks each character of each segment in Python) cost more than the rest of the
    authentication. Only a token that passed :func:`verify_local` is kept, with its ``exp``:
    an expired one is verified again, and so refused. Revocation is checked per request apart
    from this (core/dependencies.py)."""

    _MAX = 10_000

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._entries: dict[str, tuple[float, Caller]] = {}

    def caller(self, token: str) -> Caller | None:
        """The caller of a valid token of ours; None for a token of another issuer's kind.
        Raises :class:`InvalidTokenError` for one of ours that does not verify."""
        entry = self._entries.get(token)
        if entry is not None and time.time() < entry[0]:
            return entry[1]
        if not is_local(token):
            return None
        caller, expires = _verify_local(token, settings=self._settings)
        if len(self._entries) >= self._MAX:
            self._entries.clear()
        self._entries[token] = (expires, caller)
        return caller


def is_local(token: str) -> bool:
    try:
        return jwt.get_unverified_header(token).get("alg") == _ALGORITHM
    except jwt.PyJWTError:
        return False


class ExternalVerifier:
    """Verifies tokens of an external identity provider; its keys are cached by PyJWKClient."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_jwks_url is not None
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True, lifespan=300)

    async def verify(self, token: str) -> ExternalClaims:
        # PyJWKClient fetches keys with blocking urllib: keep it off the event loop.
        return await asyncio.to_thread(self._verify, token)

    def _verify(self, token: str) -> ExternalClaims:
        settings = self._settings
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"],
                issuer=settings.oidc_issuer,
                audience=settings.oidc_audience,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": settings.oidc_audience is not None,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        return ExternalClaims(
            subject=str(claims["sub"]),
            tenant_name=str(claims.get(settings.oidc_tenant_claim) or settings.oidc_default_tenant),
            permissions=frozenset(_as_list(claims.get(settings.oidc_permissions_claim))),
        )


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return []
