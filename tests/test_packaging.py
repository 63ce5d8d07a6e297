"""Packaging: the wheel gives a working ``convhub`` command, and the Dockerfile and compose.yaml
say what the README says. No Docker daemon here: what they run is checked instead."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from convhub import __version__
from convhub.cli import app

# The wheel and the container files: no database.
pytestmark = pytest.mark.database_free
MIGRATIONS = Path(__file__).resolve().parents[1] / "src" / "convhub" / "migrations" / "versions"

ROOT = Path(__file__).resolve().parents[1]


def _help(command: str) -> str:
    """``convhub COMMAND --help`` (in process: the command exists, with these options)."""
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def _run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install`` of the wheel built from what the Dockerfile copies, into a fresh venv (its
    dependencies borrowed from the test environment: the wheel itself installs offline)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp / "wheels"
    pip = [sys.executable, "-m", "pip"]
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, source)
    [wheel] = wheels.glob("convhub-*.whl")
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(*pip, "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)
    fresh = next((venv / "lib").glob("python3*/site-packages"))
    # The dependencies, after the venv's own packages (so this convhub, not the editable one).
    (fresh / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


class TestWheel:
    def test_the_command_shows_the_version(self, installed):
        done = _run(installed / "bin" / "convhub", "--version")
        assert done.stdout.strip() == f"convhub {__version__}"

    def test_the_installed_package_is_the_wheels_with_its_data(self, installed):
        probe = (
            "import convhub, convhub.ratelimits.plans as p;"
            "from convhub.core.migrations import alembic_config;"
            "from alembic.script import ScriptDirectory;"
            "print(convhub.__file__);"
            "print(p.plan_names());"
            "print(ScriptDirectory.from_config(alembic_config('sqlite://')).get_heads())"
        )
        done = _run(installed / "bin" / "python", "-c", probe)
        where, names, heads = done.stdout.splitlines()
        assert where.startswith(str(installed))
        assert names == "['developer', 'basic', 'enterprise', 'internal']"
        # Every migration of the source tree is in the wheel: its head is the newest one.
        newest = max(p.name[:4] for p in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
        assert heads == f"['{newest}']"

    def test_the_wheel_declares_the_convhub_command(self, installed):
        [entry_points] = installed.glob(
            "lib/python3*/site-packages/convhub-*.dist-info/entry_points.txt"
        )
        assert "convhub = convhub.cli:main" in entry_points.read_text()


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _instructions(name: str) -> list[str]:
    text = re.sub(r"\\\n\s*", " ", _dockerfile())
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(name + " ")]


class TestDockerfile:
    def test_slim_python_311_non_root(self):
        assert all(f.startswith("python:3.11-slim") for f in _instructions("FROM"))
        [user] = _instructions("USER")
        assert user not in {"root", "0"}
        assert "useradd" in _dockerfile()

    def test_healthcheck_asks_health_live(self):
        [check] = _instructions("HEALTHCHECK")
        assert "/health/live" in check
        assert "curl" not in check  # not in the slim image

    def test_its_command_is_a_working_convhub_command(self):
        [cmd] = _instructions("CMD")
        command = yaml.safe_load(cmd)  # the JSON form
        assert command[:2] == ["convhub", "serve"]
        assert "--host" in _help(command[1])
        assert "--host" in command

    def test_only_what_the_build_needs_is_sent(self):
        ignored = (ROOT / ".dockerignore").read_text().split()
        assert {".git", ".venv", ".env", "tests"} <= set(ignored)
        copied = " ".join(_instructions("COPY"))
        assert "pyproject.toml" in copied
        assert "src" in copied


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return compose


class TestCompose:
    def test_postgres_hub_and_worker(self):
        services = _compose()["services"]
        assert set(services) == {"postgres", "hub", "worker"}
        assert services["postgres"]["image"].startswith("postgres:")
        assert services["hub"]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services["worker"]["depends_on"]["hub"]["condition"] == "service_healthy"

    @pytest.mark.parametrize("service", ["hub", "worker"])
    def test_convhub_services_run_in_production_with_secrets_from_the_environment(self, service):
        environment = _compose()["services"][service]["environment"]
        assert environment["CONVHUB_ENV"] == "production"
        assert environment["CONVHUB_DATABASE_URL"].startswith("postgresql+asyncpg://")
        for secret in ("CONVHUB_TOKEN_SIGNING_KEY", "CONVHUB_ENCRYPTION_KEY"):
            assert environment[secret].startswith("${" + secret + ":?")
        assert environment["CONVHUB_RUN_WORKER"] == "false"

    @pytest.mark.parametrize("service", ["hub", "worker"])
    def test_healthchecks_ask_readiness_and_commands_exist(self, service):
        spec = _compose()["services"][service]
        assert "/health/ready" in " ".join(spec["healthcheck"]["test"])
        command = spec["command"]
        assert command[0] == "convhub"
        assert "--port" in _help(command[1])

    def test_the_readme_documents_it(self):
        readme = (ROOT / "README.md").read_text()
        section = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]
        for needle in (
            "docker compose",
            "compose.yaml",
            "CONVHUB_ENV",
            "/health/ready",
            "/metrics",
        ):
            assert needle in section
