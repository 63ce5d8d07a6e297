"""What the demo runs, each a process of its own with its output in a log file: the hub
(``convhub serve``, with its delivery worker) and the three sample applications of
``examples/``, each started with the command line its docstring documents."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from convhub.core.settings import Settings


class DemoError(Exception):
    """The demo cannot go on; the message says why, for the person running it."""


def free_port() -> int:
    """A loopback port nobody listens on right now, for a program to bind."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Program:
    """A program listening on a loopback port, and the process running it."""

    title: str  # "the bot", as the demo's output names it
    name: str  # "bot.py", "convhub serve"
    port: int = field(default_factory=free_port, init=False)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    log: Path | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, *, env: dict[str, str], logs: Path) -> None:
        self.log = logs / f"{self.name.replace(' ', '-').removesuffix('.py')}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.command(),
                cwd=logs,  # no .env of the caller's: the demo says what the programs get
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    async def wait_until_up(self, *, wait_limit: float) -> None:
        deadline = time.monotonic() + wait_limit
        async with httpx.AsyncClient(timeout=1) as http:
            while True:
                if self.process is None or self.process.poll() is not None:
                    raise DemoError(f"{self.title} ({self.name}) exited")
                try:
                    await http.get(self.url)  # any answer: it is listening
                    return
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise DemoError(
                            f"{self.title} ({self.name}) did not listen on {self.url} "
                            f"within {wait_limit:g} s"
                        ) from None
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 15) -> str:
        if self.log is None or not self.log.exists():
            return "  (no output)"
        tail = self.log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"  | {line}" for line in tail) or "  (no output)"


@dataclass
class Hub(Program):
    """``convhub serve``: a process of its own rather than a thread of the demo's, so that the
    demo's polling never competes with deliveries for one interpreter."""

    def command(self) -> list[str]:
        serve = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        return [sys.executable, "-m", "convhub.cli", *serve]


@dataclass
class SampleApp(Program):
    """One program of ``examples/``."""

    examples: Path = Path()
    arguments: list[str] = field(default_factory=list)

    @property
    def callback(self) -> str:
        return f"{self.url}/callback"

    def command(self) -> list[str]:
        script = self.examples / self.name
        return [sys.executable, str(script), "--port", str(self.port), *self.arguments]


def environment(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without its CONVHUB_* settings, plus ``extra``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
    return {**inherited, "PYTHONUNBUFFERED": "1", **extra}


def settings_environment(settings: Settings) -> dict[str, str]:
    """``settings`` as the CONVHUB_* variables that rebuild them in ``convhub serve``."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, bool):
            value = "true" if value else "false"
        env[f"CONVHUB_{name.upper()}"] = str(value)
    return env
