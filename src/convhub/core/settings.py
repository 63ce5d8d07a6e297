"""All configuration, read from ``CONVHUB_*`` environment variables (and a ``.env`` file).

Settings are built on first use through :func:`get_settings`, never at import, so tests and the
command line can build their own :class:`Settings` and hand it to ``create_app``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development defaults: good enough to try convhub on a laptop, refused in production (see README).
DEV_TOKEN_SIGNING_KEY = "convhub-development-signing-key-change-me-0123456789"
DEV_ENCRYPTION_KEY = "Y29udmh1Yi1kZXZlbG9wbWVudC1lbmNyeXB0aW9uLWs="


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting's error must not echo the secrets beside it.
    model_config = SettingsConfigDict(
        env_prefix="CONVHUB_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./convhub.db"
    database_pool_size: int = Field(default=20, ge=1)

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
    # A start (a message without conversation.id) resent with the same messageId within this many
    # seconds answers the conversation it opened instead of opening another (0: never).
    start_resend_window_seconds: float = Field(default=600.0, ge=0)
    # Callbacks one worker makes at once: to a receiver taking 100 ms, at most 10 per slot a
    # second. A callback costs the worker ~1 ms of CPU, so 128 keep one core busy at ~130 ms.
    worker_concurrency: int = Field(default=128, ge=1, le=1000)
    # PostgreSQL: with the first due message of a conversation for an application, a claim takes
    # up to this many in all, which one slot posts one after the other (delivery/outbox.py).
    # 1: one message per conversation per claim. A follower goes out only while the lease has
    # more than two callback timeouts left (10 s).
    delivery_lane_run: int = Field(default=8, ge=1, le=100)
    # Multiplies every retry delay (tests compress the 24-hour retry window with it).
    retry_scale: float = Field(default=1.0, gt=0)
    # Run the delivery worker inside `convhub serve` (`convhub worker` runs it alone).
    run_worker: bool = True
    # How long a worker owns a delivery it took: one that dies leaves the delivery to others
    # after this long. Longer than the 5 s callback timeout, with room to spare.
    delivery_lease_seconds: float = Field(default=60.0, ge=1)
    # How long a message is retried before it is dead-lettered (DECISIONS §8: 24 hours).
    retry_window_seconds: float = Field(default=86400.0, gt=0)
    # Circuit breaker per callback (a role of a client application): this many consecutive
    # failed attempts open it; while open, one probe every breaker_probe_seconds.
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_probe_seconds: float = Field(default=30.0, gt=0)

    # Notification mail when a message finally fails (DECISIONS §8); no host, no mail.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "convhub@localhost"

    # Assets (DECISIONS §9). Signed upload/download URLs are built on this base (scheme, host
    # and any path before the API base); unset, on the base URL of the request that asks.
    public_url: str | None = None
    # Where the bytes live: "local" (a directory) or "s3" (any S3-compatible store).
    asset_store: Literal["local", "s3"] = "local"
    asset_dir: str = "./convhub-assets"
    asset_s3_bucket: str | None = None
    asset_s3_endpoint_url: str | None = None
    asset_s3_region: str = "us-east-1"
    asset_s3_access_key_id: str | None = None
    asset_s3_secret_access_key: SecretStr | None = None
    asset_s3_prefix: str = ""
    # How long signed URLs are valid: the upload URL (30 minutes, DECISIONS §9), the download URL
    # GET /assets/{id} and GET /conversations/{id} answer, and the one a callback carries, which
    # must outlive the 24-hour retry window with a day left for the recipient to fetch it.
    asset_upload_url_seconds: int = Field(default=1800, ge=1)
    asset_download_url_seconds: int = Field(default=1800, ge=1)
    asset_callback_url_seconds: int = Field(default=172800, ge=1)
    # How often unfinished uploads past their expiry are removed (with the delivery worker).
    asset_cleanup_interval_seconds: float = Field(default=60.0, gt=0)
    # Admission control (core/admission.py): requests in flight per process beyond which the
    # excess is shed with 503-100 and Retry-After (0: no limit). 64 keeps a saturated process's
    # answers well under a second on two cores while the database pool stays busy.
    max_in_flight: int = Field(default=32, ge=0)
    busy_retry_after_seconds: int = Field(default=1, ge=1, le=3600)

    log_level: str = "INFO"

    # Observability and limits: a bearer token /metrics asks for (none: open), and the rate plan
    # of the SLA (developer, basic, enterprise, internal) every API client is held to (none: no
    # limit, DECISIONS §10).
    metrics_token: SecretStr | None = None
    rate_plan: Literal["developer", "basic", "enterprise", "internal"] | None = None

    @model_validator(mode="after")
    def _safe_in_production(self) -> Settings:
        problems = production_problems(self) if self.env == "production" else []
        if problems:
            raise ValueError("CONVHUB_ENV=production refuses to start: " + "; ".join(problems))
        return self


def production_problems(settings: Settings) -> list[str]:
    """What must change before ``settings`` may run in production, each naming its setting."""
    problems = []
    for name, default in (
        ("token_signing_key", DEV_TOKEN_SIGNING_KEY),
        ("encryption_key", DEV_ENCRYPTION_KEY),
    ):
        keys = [k.strip() for k in getattr(settings, name).get_secret_value().split(",")]
        if not any(keys) or default in keys:
            problems.append(
                f"set CONVHUB_{name.upper()} (it is missing or the development default)"
            )
    if settings.database_url.startswith("sqlite"):
        problems.append(
            "set CONVHUB_DATABASE_URL to a PostgreSQL database (SQLite is for development)"
        )
    if settings.allow_private_callbacks:
        problems.append(
            "set CONVHUB_ALLOW_PRIVATE_CALLBACKS=false (callbacks to private addresses)"
        )
    return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
