"""A real convhub server on a loopback port: in a process of its own (``server_process``), or in
a thread of the test process when a test must reach into the application (``running_server``)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from convhub.app import create_app
from convhub.core.settings import Settings


@contextmanager
def running_server(settings: Settings, app: FastAPI | None = None) -> Iterator[str]:
    """Serve ``app`` (default ``create_app(settings)``) on 127.0.0.1 and yield its base URL until
    the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app or create_app(settings), log_level="warning", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def settings_env(settings: Settings) -> dict[str, str]:
    """``settings`` as the ``CONVHUB_*`` environment variables that rebuild it in a child."""
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


def free_port() -> int:
    """A loopback port nobody listens on (free when asked; the caller binds it right away)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_process(settings: Settings, *, log_path: Path) -> Iterator[str]:
    """Serve convhub in a process of its own (uvicorn, the app built from ``settings``) on a
    loopback socket bound here; yields the base URL, stops the process when the block ends.

    A separate process is what production runs, and it keeps the server off the test process's
    GIL: requests are several times faster than with an in-process server thread."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
    env.update(settings_env(settings))
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "convhub.app:create_app",
        # Not --fd: uvicorn takes an inherited descriptor for a Unix socket, and asyncio then
        # leaves Nagle's algorithm on, which costs every request a 40 ms delayed ACK.
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"test server exited:\n{log_path.read_text()}")
        try:
            if httpx.get(url + "/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"test server did not start:\n{log_path.read_text()}")
