"""The ``convhub`` command: serve the API, migrate the database, manage API clients.

Everything is built inside the command that needs it (settings, engines), never at import.
Where stdout is meant for scripts (``--json``, ``signing-secret``), messages for people go to
stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
import uvloop
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from convhub import __version__
from convhub.core.database import Database
from convhub.core.migrations import upgrade
from convhub.core.security import permissions as perms
from convhub.core.security.crypto import SecretBox
from convhub.core.settings import Settings, get_settings
from convhub.identity import repository
from convhub.identity import service as identity
from convhub.identity.service import DEFAULT_TENANT, NewClient
from convhub.models import ApiClient

T = TypeVar("T")

# Exit code for a bad command line, the same one click uses for usage errors.
USAGE_ERROR = 2
_PERMISSION_PREFIX = "app.conversation.conversationmgr."
# Loopback by default: exposing the API is a decision (--host 0.0.0.0), not an accident.
HOST = "127.0.0.1"
PORT = 8000

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    # Locals in a traceback may hold client secrets or database passwords.
    pretty_exceptions_show_locals=False,
)
clients_app = typer.Typer(help="Manage API clients (OAuth 2.0 client credentials).")
app.add_typer(clients_app, name="clients", no_args_is_help=True)


def main() -> None:
    app()


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"convhub {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """convhub: a self-hostable conversation hub speaking eGain's Conversation Manager API v3."""


# --- plumbing ------------------------------------------------------------------------------


def _masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@contextmanager
def _database_errors(settings: Settings) -> Iterator[None]:
    """A readable one-line error instead of a traceback when the database cannot be used."""
    try:
        yield
    except (SQLAlchemyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _fail(f"error: database {_masked(settings.database_url)}: {reason}") from exc


def _settings() -> Settings:
    """The settings, or a one-line error naming what to fix (production refuses unsafe ones)."""
    try:
        return get_settings()
    except ValidationError as exc:
        reasons = "; ".join(
            ("".join(f"CONVHUB_{str(part).upper()}: " for part in e["loc"][:1]))
            + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise _fail(f"error: settings: {reasons}") from exc


def _migrated() -> Settings:
    """The settings, with their database brought to the newest revision (prints nothing)."""
    settings = _settings()
    with _database_errors(settings):
        upgrade(settings.database_url)
    return settings


def _box(settings: Settings) -> SecretBox:
    return SecretBox(settings.encryption_key.get_secret_value())


def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction (committed at the end) on a short-lived engine."""

    async def run() -> T:
        db = Database(settings.database_url)
        try:
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    with _database_errors(settings):
        return asyncio.run(run())


# --- convhub migrate -------------------------------------------------------------------------


@app.command()
def migrate() -> None:
    """Bring the database (CONVHUB_DATABASE_URL) to the newest schema."""
    settings = _migrated()
    typer.echo(f"database {_masked(settings.database_url)}: up to date")


# --- convhub serve ---------------------------------------------------------------------------


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that says where to reach the API once it accepts connections."""

    def __init__(self, config: uvicorn.Config, *, root: str) -> None:
        super().__init__(config)
        self.root = root

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            # The process (not the app, which tests build again and again) is long-running.
            from convhub.core import collector, logging

            collector.settle()
            logging.settle()
            _announce(self.root)


def _announce(root: str) -> None:
    from convhub.core.urls import API_BASE

    typer.echo(f"convhub {__version__} is serving at {root}")
    typer.echo(f"  API docs:      {root}/docs")
    typer.echo(f"  token URL:     {root}/oauth2/token")
    typer.echo(f"  API base URL:  {root}{API_BASE}")


async def _create_admin_if_none(session: AsyncSession, *, box: SecretBox) -> NewClient | None:
    if await repository.count_clients(session) > 0:
        return None
    return await identity.create_client(
        session, name="admin", tenant=DEFAULT_TENANT, permissions=None, box=box
    )


def _print_admin(admin: NewClient) -> None:
    typer.echo(f'Created the first API client, "admin", in tenant "{admin.tenant}":')
    typer.echo(f"  client id:     {admin.client_id}")
    typer.echo(f"  client secret: {admin.client_secret}")
    typer.echo("Store both now: the secret is shown only this once (convhub keeps only a hash).")


def _root_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="CONVHUB_HOST", help="Address to listen on.")] = HOST,
    port: Annotated[int, typer.Option(envvar="CONVHUB_PORT", help="Port to listen on.")] = PORT,
) -> None:
    """Migrate the database, create an admin client if there is none, and serve the API."""
    from convhub.app import create_app  # the whole API: only this command needs it

    settings = _migrated()
    typer.echo(f"database {_masked(settings.database_url)}: up to date")
    box = _box(settings)
    admin = _in_session(settings, lambda s: _create_admin_if_none(s, box=box))
    if admin is not None:
        _print_admin(admin)
    config = uvicorn.Config(
        create_app(settings), host=host, port=port, log_level=settings.log_level.lower()
    )
    _AnnouncingServer(config, root=_root_url(host, port)).run()


# --- convhub demo ---------------------------------------------------------------------------


@app.command()
def demo(
    database: Annotated[
        str | None,
        typer.Option(help="Database URL (default: a fresh SQLite file, deleted afterwards)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds each hop may take before the demo fails.")
    ] = 10.0,
    keep_running: Annotated[
        bool, typer.Option(help="Keep the hub and the applications running until Ctrl-C.")
    ] = False,
    examples: Annotated[
        Path | None, typer.Option(help="Directory of the sample applications (examples/).")
    ] = None,
) -> None:
    """Start the hub and the sample applications of examples/ on loopback, configure them
    through the API and play a conversation, printing each hop, then its transcript."""
    from convhub.demo import runner  # only this command needs it

    options = runner.Options(database, examples or runner.EXAMPLES, timeout, keep_running)
    raise typer.Exit(runner.run(options))


# --- convhub worker -------------------------------------------------------------------------


@app.command()
def worker(
    host: Annotated[
        str, typer.Option(envvar="CONVHUB_WORKER_HOST", help="Address of --port.")
    ] = HOST,
    port: Annotated[
        int | None,
        typer.Option(
            envvar="CONVHUB_WORKER_PORT", help="Serve /health/* and /metrics on this port."
        ),
    ] = None,
) -> None:
    """Run the delivery worker alone (no API): any number may run beside `convhub serve`
    processes on PostgreSQL. Stops cleanly on SIGINT/SIGTERM."""
    settings = _migrated()
    typer.echo(f"database {_masked(settings.database_url)}: up to date")
    # uvloop, as uvicorn uses for `convhub serve`: the worker is a loop of sockets and callbacks.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_run_worker(settings, probes=(host, port) if port is not None else None))


async def _run_worker(settings: Settings, *, probes: tuple[str, int] | None = None) -> None:
    from convhub.assets import cleanup as asset_cleanup
    from convhub.core import collector, logging
    from convhub.core.runtime import Runtime
    from convhub.delivery.worker import DeliveryWorker

    logging.configure(settings.log_level)
    runtime = Runtime.build(settings)
    delivery = DeliveryWorker(runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    task = asyncio.create_task(delivery.run())
    collector.settle()
    logging.settle()
    typer.echo(f"convhub worker {delivery.owner} is delivering")
    probe = _probe_server(runtime, task, probes) if probes else None
    probe_task = asyncio.create_task(probe.serve()) if probe else None
    async with asset_cleanup.running(runtime):
        await stop.wait()
    if probe is not None and probe_task is not None:
        probe.should_exit = True
        await probe_task
    await delivery.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await runtime.db.dispose()


def _probe_server(runtime: Any, task: asyncio.Task[None], where: tuple[str, int]) -> uvicorn.Server:
    from convhub.observability.probes import ProbeServer, probe_app

    host, port = where
    typer.echo(f"  health and metrics: {_root_url(host, port)}/health/ready, /metrics")
    config = uvicorn.Config(
        probe_app(runtime, task),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    return ProbeServer(config)


# --- convhub clients ... ---------------------------------------------------------------------


def _check_permissions(given: Sequence[str]) -> None:
    unknown = sorted(set(given) - set(perms.ALL))
    if unknown:
        valid = "\n".join(f"  {p}" for p in perms.ALL)
        raise _fail(
            f"error: unknown permission: {', '.join(unknown)}\nvalid permissions:\n{valid}",
            USAGE_ERROR,
        )


def _print_new_client(created: NewClient, *, as_json: bool) -> None:
    if as_json:
        body = {
            "client_id": created.client_id,
            "client_secret": created.client_secret,
            "tenant": created.tenant,
        }
        typer.echo(json.dumps(body))
        return
    typer.echo(f'Created an API client in tenant "{created.tenant}":')
    typer.echo(f"  client id:     {created.client_id}")
    typer.echo(f"  client secret: {created.client_secret}")
    typer.echo(f"  permissions:   {', '.join(created.permissions)}")
    typer.echo("Store the secret now: it is shown only this once.")


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="A label for the client.")],
    tenant: Annotated[str, typer.Option(help="Tenant (created if new).")] = DEFAULT_TENANT,
    permission: Annotated[
        list[str] | None,
        typer.Option("--permission", "-p", help="A permission to grant (repeat; none: all)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create an API client and print its id and secret (shown only this once)."""
    _check_permissions(permission or [])
    settings = _migrated()
    box = _box(settings)
    created = _in_session(
        settings,
        lambda s: identity.create_client(
            s, name=name, tenant=tenant, permissions=permission, box=box
        ),
    )
    _print_new_client(created, as_json=as_json)


def _client_json(client: ApiClient, tenant: str) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "tenant": tenant,
        "permissions": list(client.permissions),
        "created": client.created.isoformat(),
        "revoked": client.revoked.isoformat() if client.revoked else None,
    }


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def _client_cells(client: ApiClient, tenant: str) -> list[str]:
    # Every permission shares this prefix: the table shows the rest, --json the full names.
    short = [p.removeprefix(_PERMISSION_PREFIX) for p in client.permissions]
    return [
        client.id,
        client.name,
        tenant,
        ",".join(short),
        _when(client.created),
        _when(client.revoked),
    ]


def _print_table(rows: list[list[str]]) -> None:
    header = ["id", "name", "tenant", "permissions", "created", "revoked"]
    widths = [max(len(x) for x in column) for column in zip(header, *rows, strict=True)]
    for line in [header, *rows]:
        typer.echo("  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)).rstrip())


@clients_app.command("list")
def clients_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List every API client, revoked ones included (the table shortens permission names)."""
    settings = _migrated()
    clients = _in_session(settings, repository.list_clients)
    if as_json:
        typer.echo(json.dumps([_client_json(c, t) for c, t in clients]))
    else:
        _print_table([_client_cells(c, t) for c, t in clients])


@clients_app.command("revoke")
def clients_revoke(client_id: Annotated[str, typer.Argument(help="The client's id.")]) -> None:
    """Revoke an API client: it can no longer get tokens."""
    settings = _migrated()
    if not _in_session(settings, lambda s: identity.revoke_client(s, client_id)):
        raise _fail(f"error: no active API client {client_id} (unknown or already revoked)")
    typer.echo(f"revoked API client {client_id}")


# --- convhub signing-secret ------------------------------------------------------------------


@app.command("signing-secret")
def signing_secret(
    tenant: Annotated[str, typer.Option(help="The tenant.")] = DEFAULT_TENANT,
) -> None:
    """Print the tenant's Standard Webhooks signing secret (whsec_...), to verify callbacks."""
    settings = _migrated()
    box = _box(settings)
    secret = _in_session(settings, lambda s: identity.signing_secret(s, tenant=tenant, box=box))
    if secret is None:
        raise _fail(f'error: no tenant "{tenant}"')
    typer.echo(secret)


if __name__ == "__main__":
    main()
