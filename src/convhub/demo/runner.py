"""``convhub demo``: the hub and the three sample applications of ``examples/`` on loopback, on a
fresh SQLite database; the whole configuration through the public API; one conversation played
hop by hop; its transcript; then everything stopped."""

from __future__ import annotations

import asyncio
import functools
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from convhub.core.migrations import upgrade
from convhub.core.settings import Settings
from convhub.demo import configuration, conversation
from convhub.demo.configuration import ADDRESS, AGENT_NAME, BOT_NAME, CHANNEL_TYPE, Clients
from convhub.demo.processes import (
    DemoError,
    Hub,
    Program,
    SampleApp,
    environment,
    settings_environment,
)

# examples/ of a source checkout: src/convhub/demo/runner.py -> the repository's root.
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

# Seconds the hub and each application may take to start listening (a loaded machine is slow).
STARTUP = 30
# The shell's code for a command ended by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130

out = functools.partial(print, flush=True)


@dataclass(frozen=True)
class Options:
    database_url: str | None  # None: a fresh SQLite file in a temporary directory
    examples: Path
    timeout: float  # seconds each hop may take
    keep_running: bool


def sample_apps(examples: Path) -> dict[str, SampleApp]:
    """The applications, by the role they play."""
    customer = ["--channel-type", CHANNEL_TYPE, "--address", ADDRESS]
    return {
        "customer": SampleApp("the customer app", "customer_app.py", examples, customer),
        "custom_bot": SampleApp("the bot", "bot.py", examples, ["--name", BOT_NAME]),
        "custom_agent": SampleApp(
            "the agent app", "agent_app.py", examples, ["--name", AGENT_NAME]
        ),
    }


def run(options: Options) -> int:
    """Runs the demo; answers the exit code (1 with a message on stderr when it fails)."""
    if not (options.examples / "bot.py").is_file():
        print(
            f"error: no sample applications in {options.examples}: convhub demo runs the "
            "programs of examples/ in a source checkout (or pass --examples DIR)",
            file=sys.stderr,
        )
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="convhub-demo-"))
    url = options.database_url or f"sqlite+aiosqlite:///{workdir / 'demo.db'}"
    settings = Settings(
        database_url=url,
        allow_private_callbacks=True,  # the applications' callbacks are on loopback
        run_worker=True,
        log_level="WARNING",
        _env_file=None,
    )
    hub = Hub("the hub", "convhub serve")
    apps = sample_apps(options.examples)
    programs: list[Program] = [hub, *apps.values()]
    previous = signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: cleanly
    try:
        upgrade(url)
        asyncio.run(_demo(settings, options, hub, apps, workdir))
    except DemoError as failed:
        print(f"error: {failed}", file=sys.stderr)
        for program in programs:
            print(f"{program.title} ({program.name}), its last lines:", file=sys.stderr)
            print(program.log_tail(), file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as failed:
        print(f"error: {str(failed).splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    finally:
        for program in programs:
            program.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


async def _demo(
    settings: Settings, options: Options, hub: Hub, apps: dict[str, SampleApp], workdir: Path
) -> None:
    clients = await configuration.create_clients(settings, list(apps))
    credentials = configuration.new_credentials()
    _header(settings, hub, apps, clients)
    hub.start(env=environment(settings_environment(settings)), logs=workdir)
    for role, app in apps.items():
        app.start(env=environment(_app_env(hub.url, clients, role, credentials)), logs=workdir)
    await hub.wait_until_up(wait_limit=STARTUP)
    async with await configuration.admin_api(hub.url, clients.admin) as api:
        out("\nThe configuration, through the API (as the admin API client):")
        await configuration.configure(api, apps=apps, credentials=credentials, out=out)
        for app in apps.values():
            await app.wait_until_up(wait_limit=STARTUP)
        out("\nThe conversation, hop by hop:")
        conversation_id = await conversation.play(
            api, apps=apps, wait_limit=options.timeout, out=out
        )
        out("")
        await conversation.print_transcript(api, conversation_id, out)
    if options.keep_running:
        _keep_running(hub, apps, clients, workdir)
        await _until_stopped()
        out("Stopped.")


async def _until_stopped() -> None:
    """Until Ctrl-C (or SIGTERM), which then ends the demo normally."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _app_env(hub_url: str, clients: Clients, role: str, credentials: str) -> dict[str, str]:
    """What examples/README.md tells a user to export before running an application."""
    client = clients.apps[role]
    return {
        "HUB_URL": hub_url,
        "HUB_CLIENT_ID": client.client_id,
        "HUB_CLIENT_SECRET": client.client_secret,
        "HUB_SIGNING_SECRET": clients.signing_secret,
        "HUB_CALLBACK_CREDENTIALS": credentials,
    }


def _header(settings: Settings, hub: Hub, apps: dict[str, SampleApp], clients: Clients) -> None:
    out("convhub demo: a hub and three sample applications on loopback")
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    out(f"  hub               {hub.url}  ({hub.name}, database {database})")
    out(f"  tenant            {clients.tenant}  (an admin API client, one per application)")
    for app in apps.values():
        out(f"  {app.title:<17} {app.url}  (examples/{app.name})")


def _keep_running(hub: Hub, apps: dict[str, SampleApp], clients: Clients, workdir: Path) -> None:
    customer = apps["customer"]
    out("\nEverything keeps running until Ctrl-C. Chat through the customer app:")
    out(f"""  curl -s -d '{{"user": "Mary", "text": "Hello"}}' {customer.url}/chat""")
    out(f"  curl -s {customer.url}/chat/Mary")
    out(f"The logs of the hub and the applications: {workdir}/*.log")
    out(f"The API: {hub.url}/docs, admin API client {clients.admin.client_id}")
    out(f"  with the secret {clients.admin.client_secret}")
