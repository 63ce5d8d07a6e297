"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) from the ``cryptography`` package.

``CONVHUB_ENCRYPTION_KEY`` holds one or more comma-separated keys: the first encrypts, every key
decrypts, so a key can be rotated without re-encrypting everything at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

MASK = "********"


class SecretBox:
    def __init__(self, keys: str) -> None:
        self._fernet = MultiFernet([Fernet(k.strip()) for k in keys.split(",") if k.strip()])

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # wrong key configured: say so instead of failing deep inside
            raise RuntimeError(
                "cannot decrypt a stored secret: check CONVHUB_ENCRYPTION_KEY"
            ) from exc


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_client_secret(secret: str) -> str:
    # Client secrets are 256-bit random strings, so a plain SHA-256 is as strong as a slow KDF
    # here and keeps the token endpoint fast (the same reasoning as GitHub's token storage).
    return hashlib.sha256(secret.encode()).hexdigest()


def client_secret_matches(secret: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_client_secret(secret), expected_hash)


def new_signing_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
