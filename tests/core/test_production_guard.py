"""CONVHUB_ENV=production refuses unsafe settings, each named, before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from typer.testing import CliRunner

from convhub.cli import app
from convhub.core.settings import (
    DEV_ENCRYPTION_KEY,
    DEV_TOKEN_SIGNING_KEY,
    Settings,
    get_settings,
)

CONVHUB = Path(sys.executable).parent / "convhub"
SIGNING_KEY = "a-production-signing-key-of-enough-length-0123456789"
ENCRYPTION_KEY = Fernet.generate_key().decode()
SAFE: dict[str, Any] = {
    "env": "production",
    "token_signing_key": SIGNING_KEY,
    "encryption_key": ENCRYPTION_KEY,
    "database_url": "postgresql+asyncpg://convhub:db-password@db.internal/convhub",
    "allow_private_callbacks": False,
}


def _build(**changes: Any) -> Settings:
    return Settings(**{**SAFE, **changes}, _env_file=None)  # type: ignore[arg-type]


def test_safe_production_settings_are_accepted():
    assert _build().env == "production"


def test_development_keeps_its_defaults():
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.token_signing_key.get_secret_value() == DEV_TOKEN_SIGNING_KEY


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"token_signing_key": DEV_TOKEN_SIGNING_KEY}, "CONVHUB_TOKEN_SIGNING_KEY"),
        ({"token_signing_key": ""}, "CONVHUB_TOKEN_SIGNING_KEY"),
        ({"encryption_key": DEV_ENCRYPTION_KEY}, "CONVHUB_ENCRYPTION_KEY"),
        ({"encryption_key": ""}, "CONVHUB_ENCRYPTION_KEY"),
        # The development key kept for decryption only is still a published key.
        ({"encryption_key": f"{ENCRYPTION_KEY},{DEV_ENCRYPTION_KEY}"}, "CONVHUB_ENCRYPTION_KEY"),
        ({"database_url": "sqlite+aiosqlite:///./convhub.db"}, "CONVHUB_DATABASE_URL"),
        ({"allow_private_callbacks": True}, "CONVHUB_ALLOW_PRIVATE_CALLBACKS"),
    ],
)
def test_each_unsafe_setting_is_refused_by_name(changes, named):
    with pytest.raises(ValidationError) as refused:
        _build(**changes)
    message = str(refused.value)
    assert "CONVHUB_ENV=production refuses to start" in message
    assert named in message
    # The error names what to fix and shows no secret beside it.
    assert SIGNING_KEY not in message
    assert "db-password" not in message


def test_every_problem_is_named_at_once():
    with pytest.raises(ValidationError) as refused:
        Settings(env="production", _env_file=None)  # type: ignore[call-arg]
    message = str(refused.value)
    for name in ("TOKEN_SIGNING_KEY", "ENCRYPTION_KEY", "DATABASE_URL"):
        assert f"CONVHUB_{name}" in message


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_commands_refuse_to_start_and_say_what_to_fix(command, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
    env.update(
        CONVHUB_ENV="production",
        CONVHUB_TOKEN_SIGNING_KEY=SIGNING_KEY,
        CONVHUB_ENCRYPTION_KEY=ENCRYPTION_KEY,
        CONVHUB_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'convhub.db'}",
    )
    done = subprocess.run(
        [str(CONVHUB), command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: settings: CONVHUB_ENV=production refuses to start")
    assert "CONVHUB_DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr
    assert SIGNING_KEY not in done.stderr + done.stdout
    assert not (tmp_path / "convhub.db").exists()


def test_an_invalid_setting_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["migrate"], env={"CONVHUB_RATE_PLAN": "gold", "CONVHUB_ENV": "development"}
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.output.startswith("error: settings: CONVHUB_RATE_PLAN: ")
