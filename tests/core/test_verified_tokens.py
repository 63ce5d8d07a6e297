"""The process's cache of verified tokens (core/security/tokens.VerifiedTokens): a token is
trusted from the cache only until its ``exp``, and only once it verified."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from convhub.core.security.tokens import InvalidTokenError, VerifiedTokens, issue
from convhub.core.settings import Settings

pytestmark = pytest.mark.database_free


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def _token(settings: Settings, *, expires_in: float) -> str:
    claims = {
        "iss": settings.token_issuer,
        "sub": "client-1",
        "tid": "tenant-1",
        "perm": ["app.interaction.manage"],
        "exp": datetime.now(UTC) + timedelta(seconds=expires_in),
    }
    return jwt.encode(claims, settings.token_signing_key.get_secret_value(), algorithm="HS256")


def test_a_valid_token_gives_its_caller_each_time(settings):
    tokens = VerifiedTokens(settings)
    token, _ = issue(settings=settings, client_id="c", tenant_id="t", permissions=["p"])
    first, second = tokens.caller(token), tokens.caller(token)
    assert first == second
    assert first is not None
    assert (first.client_id, first.tenant_id, first.permissions) == ("c", "t", frozenset({"p"}))


def test_a_kept_token_is_refused_once_it_expires(settings):
    tokens = VerifiedTokens(settings)
    token = _token(settings, expires_in=1.0)
    assert tokens.caller(token) is not None
    time.sleep(1.2)
    with pytest.raises(InvalidTokenError):
        tokens.caller(token)


def test_an_expired_token_is_never_kept(settings):
    tokens = VerifiedTokens(settings)
    token = _token(settings, expires_in=-5)
    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            tokens.caller(token)


def test_a_tampered_token_is_refused_and_the_real_one_still_works(settings):
    tokens = VerifiedTokens(settings)
    token = _token(settings, expires_in=60)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}AA"
    with pytest.raises(InvalidTokenError):
        tokens.caller(forged)
    assert tokens.caller(token) is not None


def test_a_token_signed_with_another_key_is_refused(settings):
    tokens = VerifiedTokens(settings)
    other = Settings(_env_file=None, token_signing_key="another-key-" + "x" * 40)  # type: ignore[call-arg]
    token, _ = issue(settings=other, client_id="c", tenant_id="t", permissions=[])
    with pytest.raises(InvalidTokenError):
        tokens.caller(token)


def test_a_token_of_another_algorithm_is_not_ours(settings):
    tokens = VerifiedTokens(settings)
    token = jwt.encode({"sub": "x"}, "k" * 64, algorithm="HS384")
    assert tokens.caller(token) is None
