"""All configuration, read from ``CONVHUB_*`` environment variables (and a ``.env`` file).

Settings are built on first use through :func:`get_settings`, never at import, so tests and the
command line can build their own :class:`Settings` and hand it to ``create_app``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development defaults: good enough to try convhub on a laptop, refused in production (see README).
DEV_TOKEN_SIGNING_KEY = "convhub-development-signing-key-change-me-0123456789"
DEV_ENCRYPTION_KEY = "Y29udmh1Yi1kZXZlbG9wbWVudC1lbmNyeXB0aW9uLWs="


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONVHUB_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./convhub.db"
    database_pool_size: int = Field(default=10, ge=1)

    token_signing_key: SecretStr = SecretStr(DEV_TOKEN_SIGNING_KEY)
    token_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    token_issuer: str = "convhub"

    # Comma-separated Fernet keys; the first encrypts, all decrypt (key rotation).
    encryption_key: SecretStr = SecretStr(DEV_ENCRYPTION_KEY)
    mask_secrets: bool = True

    # External identity provider (extension, DECISIONS §1): tokens signed by keys at this JWKS URL.
    oidc_jwks_url: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_permissions_claim: str = "permissions"
    oidc_tenant_claim: str = "tenant"
    oidc_default_tenant: str = "default"

    allow_private_callbacks: bool = False

    # Conversations and delivery. Durations the contract gives in minutes (timeout,
    # bypassVaDuration) use this many seconds per minute: tests shorten it, production keeps 60.
    minute_seconds: float = Field(default=60.0, gt=0)
    worker_concurrency: int = Field(default=64, ge=1, le=1000)
    # Multiplies every retry delay (tests compress the 24-hour retry window with it).
    retry_scale: float = Field(default=1.0, gt=0)
    # Run the delivery worker inside `convhub serve` (`convhub worker` runs it alone).
    run_worker: bool = True
    # How long a worker owns a delivery it took: one that dies leaves the delivery to others
    # after this long. Longer than the 5 s callback timeout, with room to spare.
    delivery_lease_seconds: float = Field(default=60.0, ge=1)

    # Notification mail when a message finally fails (DECISIONS §8); no host, no mail.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "convhub@localhost"

    # Admission control (core/admission.py): requests in flight per process beyond which the
    # excess is shed with 503-100 and Retry-After (0: no limit). 64 keeps a saturated process's
    # answers well under a second on two cores while the database pool stays busy.
    max_in_flight: int = Field(default=64, ge=0)
    busy_retry_after_seconds: int = Field(default=1, ge=1, le=3600)

    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
