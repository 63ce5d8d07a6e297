"""The installed ``convhub`` command, run as a subprocess against its own SQLite file.

These tests never use ``tests/databases.py``: each one gets a fresh SQLite database in its
``tmp_path``, whatever ``CONVHUB_TEST_DATABASE_URL`` says.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from convhub.core.migrations import is_current
from convhub.core.security import permissions as perms
from convhub.core.settings import Settings
from tests.server import running_server

# The command runs on a SQLite file of its own, whatever CONVHUB_TEST_DATABASE_URL says.
pytestmark = pytest.mark.database_free

CONVHUB = Path(sys.executable).parent / "convhub"
API_BASE = "/conversation/conversationmgr/v3"


@dataclass
class Cli:
    """Runs ``convhub`` in ``cwd`` (so no ``.env`` is read) on the database at ``url``."""

    cwd: Path
    url: str

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CONVHUB_DATABASE_URL": self.url}

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CONVHUB), *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def create(self, *args: str) -> dict[str, str]:
        done = self("clients", "create", "--name", "test", "--json", *args)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def listed(self) -> list[dict[str, Any]]:
        done = self("clients", "list", "--json")
        assert done.returncode == 0, done.stderr
        return list(json.loads(done.stdout))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(cwd=tmp_path, url=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")


@pytest.fixture
def cli_server(cli: Cli) -> Iterator[str]:
    """A server on the CLI's database (migrated first, as ``convhub serve`` would)."""
    assert cli("migrate").returncode == 0
    with running_server(Settings(database_url=cli.url, _env_file=None)) as url:
        yield url


def request_token(root: str, client_id: str, secret: str) -> httpx.Response:
    return httpx.post(
        f"{root}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    )


class TestVersion:
    def test_prints_the_package_version(self, cli: Cli) -> None:
        done = cli("--version")

        assert done.returncode == 0
        assert done.stdout == f"convhub {version('convhub')}\n"


class TestMigrate:
    def test_builds_the_schema_and_says_up_to_date(self, cli: Cli, tmp_path: Path) -> None:
        done = cli("migrate")

        assert done.returncode == 0, done.stderr
        assert "up to date" in done.stdout
        assert str(tmp_path / "cli.db") in done.stdout
        assert asyncio.run(is_current(cli.url))

    def test_runs_again_on_a_current_database(self, cli: Cli) -> None:
        cli("migrate")

        done = cli("migrate")

        assert done.returncode == 0, done.stderr
        assert "up to date" in done.stdout

    def test_unreachable_database_fails_without_showing_the_password(self, cli: Cli) -> None:
        cli.url = "postgresql+asyncpg://convhub:hunter2@127.0.0.1:1/convhub"

        done = cli("migrate")

        assert done.returncode == 1
        assert "127.0.0.1:1" in done.stderr
        assert "hunter2" not in done.stdout + done.stderr


class TestClientsCreate:
    def test_json_is_one_object_whose_credentials_get_a_token(
        self, cli: Cli, cli_server: str
    ) -> None:
        done = cli("clients", "create", "--name", "robot", "--json")

        assert done.returncode == 0, done.stderr
        created = json.loads(done.stdout)
        assert set(created) == {"client_id", "client_secret", "tenant"}
        assert created["tenant"] == "default"
        answer = request_token(cli_server, created["client_id"], created["client_secret"])
        assert answer.status_code == 200, answer.text
        assert set(answer.json()["scope"].split()) == set(perms.ALL)

    def test_works_on_an_empty_database(self, cli: Cli, tmp_path: Path) -> None:
        created = cli.create()

        assert created["client_id"]
        assert (tmp_path / "cli.db").exists()

    def test_given_permissions_are_the_token_scope(self, cli: Cli, cli_server: str) -> None:
        created = cli.create("--tenant", "acme", "-p", perms.READ, "-p", perms.INTERACTION_READ)

        answer = request_token(cli_server, created["client_id"], created["client_secret"])

        assert created["tenant"] == "acme"
        assert answer.status_code == 200, answer.text
        assert sorted(answer.json()["scope"].split()) == sorted(
            [perms.READ, perms.INTERACTION_READ]
        )

    def test_unknown_permission_exits_2_listing_the_valid_ones(self, cli: Cli) -> None:
        done = cli("clients", "create", "--name", "x", "--permission", "everything", "--json")

        assert done.returncode == 2
        assert done.stdout == ""
        assert "everything" in done.stderr
        for permission in perms.ALL:
            assert permission in done.stderr
        assert cli.listed() == []

    def test_human_output_shows_the_id_and_secret(self, cli: Cli) -> None:
        done = cli("clients", "create", "--name", "person")

        assert done.returncode == 0, done.stderr
        [listed] = cli.listed()
        assert f"client id:     {listed['id']}" in done.stdout
        assert re.search(r"client secret: \S{20,}", done.stdout)


class TestClientsList:
    def test_json_shows_the_created_client(self, cli: Cli) -> None:
        created = cli.create("--tenant", "acme", "-p", perms.MANAGE)

        [listed] = cli.listed()

        assert listed["id"] == created["client_id"]
        assert listed["name"] == "test"
        assert listed["tenant"] == "acme"
        assert listed["permissions"] == [perms.MANAGE]
        assert listed["created"]
        assert listed["revoked"] is None
        assert created["client_secret"] not in json.dumps(listed)

    def test_table_has_a_header_and_a_row_per_client(self, cli: Cli) -> None:
        first, second = cli.create(), cli.create("--tenant", "acme")

        done = cli("clients", "list")

        assert done.returncode == 0, done.stderr
        header, *rows = done.stdout.splitlines()
        assert header.split() == ["id", "name", "tenant", "permissions", "created", "revoked"]
        assert [row.split()[0] for row in rows] == [first["client_id"], second["client_id"]]
        assert rows[1].split()[2] == "acme"

    def test_empty_database_gives_an_empty_array(self, cli: Cli) -> None:
        assert cli.listed() == []


class TestClientsRevoke:
    def test_revoked_client_gets_no_token(self, cli: Cli, cli_server: str) -> None:
        created = cli.create()

        done = cli("clients", "revoke", created["client_id"])

        assert done.returncode == 0, done.stderr
        answer = request_token(cli_server, created["client_id"], created["client_secret"])
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        assert cli.listed()[0]["revoked"] is not None

    def test_already_revoked_client_exits_1(self, cli: Cli) -> None:
        created = cli.create()
        cli("clients", "revoke", created["client_id"])

        done = cli("clients", "revoke", created["client_id"])

        assert done.returncode == 1
        assert created["client_id"] in done.stderr

    def test_unknown_client_exits_1(self, cli: Cli) -> None:
        done = cli("clients", "revoke", "no-such-client")

        assert done.returncode == 1
        assert "no-such-client" in done.stderr


class TestSigningSecret:
    def test_prints_the_default_tenants_secret(self, cli: Cli) -> None:
        cli.create()

        done = cli("signing-secret", "--tenant", "default")

        assert done.returncode == 0, done.stderr
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=\n", done.stdout)
        assert cli("signing-secret").stdout == done.stdout

    def test_each_tenant_has_its_own(self, cli: Cli) -> None:
        cli.create()
        cli.create("--tenant", "acme")

        default = cli("signing-secret", "--tenant", "default").stdout
        acme = cli("signing-secret", "--tenant", "acme").stdout

        assert acme.startswith("whsec_")
        assert acme != default

    def test_unknown_tenant_exits_1(self, cli: Cli) -> None:
        done = cli("signing-secret", "--tenant", "nobody")

        assert done.returncode == 1
        assert done.stdout == ""
        assert "nobody" in done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(cli: Cli) -> Iterator[tuple[str, str]]:
    """Start ``convhub serve`` and yield (its stdout up to the base URL line, its root URL)."""
    root = f"http://127.0.0.1:{free_port()}"
    lines: queue.Queue[str | None] = queue.Queue()
    with (
        (cli.cwd / "serve.err").open("a") as err,
        subprocess.Popen(
            [str(CONVHUB), "serve", "--port", root.rsplit(":", 1)[1]],
            cwd=cli.cwd,
            env=cli.env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        ) as process,
    ):
        assert process.stdout is not None
        reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            yield _read_until(lines, root + API_BASE, cli.cwd / "serve.err"), root
        finally:
            process.terminate()
            process.wait(timeout=30)
            reader.join(timeout=30)


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _read_until(lines: queue.Queue[str | None], wanted: str, err: Path) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while not any(wanted in line for line in seen):
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            pytest.fail(f"convhub serve did not start:\n{''.join(seen)}\n{err.read_text()}")
        seen.append(line)
    return "".join(seen)


def printed_credentials(output: str) -> tuple[str, str] | None:
    client_id = re.search(r"client id:\s+(\S+)", output)
    secret = re.search(r"client secret:\s+(\S+)", output)
    if client_id is None or secret is None:
        return None
    return client_id.group(1), secret.group(1)


class TestServe:
    def test_empty_database_prints_admin_credentials_that_get_a_token(self, cli: Cli) -> None:
        with serving(cli) as (output, root):
            credentials = printed_credentials(output)
            assert credentials is not None, output
            answer = request_token(root, *credentials)

        assert answer.status_code == 200, answer.text
        assert set(answer.json()["scope"].split()) == set(perms.ALL)
        assert output.count("client secret") == 1
        assert f"{root}/oauth2/token" in output
        assert f"{root}/docs" in output
        [admin] = cli.listed()
        assert (admin["name"], admin["tenant"]) == ("admin", "default")

    def test_second_start_prints_no_new_secret(self, cli: Cli) -> None:
        with serving(cli) as (first, _):
            assert printed_credentials(first) is not None

        with serving(cli) as (second, root):
            assert root + API_BASE in second

        assert printed_credentials(second) is None
        assert "secret" not in second
        assert len(cli.listed()) == 1

    def test_database_with_clients_gets_no_admin(self, cli: Cli) -> None:
        cli.create()

        with serving(cli) as (output, _):
            assert printed_credentials(output) is None

        assert [c["name"] for c in cli.listed()] == ["test"]
