"""What every benchmark shares: a fresh database, convhub and baseline processes on loopback,
an API client (``convhub clients create``), a tenant set up through the public API, RSS sampling
and the results file.

Databases: SQLite in a temporary folder on disk (synchronous=FULL, as in production), and
PostgreSQL at ``CONVHUB_BENCH_PG_URL`` (default: the local server, as CI uses), where each run
creates a database of its own and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
API_BASE = "/conversation/conversationmgr/v3"
PG_URL = os.environ.get(
    "CONVHUB_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SEND_PATH = API_BASE + "/conversations/messages"


# --- databases -------------------------------------------------------------------------------


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(False)


def _pg(statement: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(_admin_dsn(PG_URL))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def pg_available() -> bool:
    try:
        _pg("SELECT 1")
        return True
    except (OSError, asyncpg.PostgresError):
        return False


@contextmanager
def fresh_database(kind: str, *, template: str | None = None) -> Iterator[str]:
    """A new, empty database URL (``kind``: sqlite or postgresql), removed when the block ends.

    ``template`` (PostgreSQL): a database URL to copy, so a queue prepared once can be drained
    several times from the same starting point."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="convhub-bench-"))
        try:
            yield f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"convhub_bench_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    _pg(f'CREATE DATABASE "{name}"{copy}')
    # What the benchmark before left dirty (its database dropped or not) is written now, not by
    # the checkpointer while this one measures.
    _pg("CHECKPOINT")
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_sqlite(url: str, folder: Path) -> str:
    """A copy of a (quiet) SQLite database file: the SQLite counterpart of ``template``."""
    source = Path(make_url(url).database or "")
    target = folder / f"copy-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(source, target)
    return f"sqlite+aiosqlite:///{target}"


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hub_env(database_url: str, **settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
    env.update(
        {
            "CONVHUB_DATABASE_URL": database_url,
            "CONVHUB_ALLOW_PRIVATE_CALLBACKS": "true",
            # Per-delivery INFO lines would measure the terminal; production ships them.
            "CONVHUB_LOG_LEVEL": "WARNING",
        }
    )
    for name, value in settings.items():
        env[f"CONVHUB_{name.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    return env


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "convhub"), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"convhub {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, probe: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()}")
        try:
            if httpx.get(url + probe, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not start:\n{log.read_text()}")


def _spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


@contextmanager
def hub(env: dict[str, str], workdir: Path, *, port: int | None = None) -> Iterator[Process]:
    """``convhub serve`` (migrates; the worker runs inside unless CONVHUB_RUN_WORKER=false)."""
    port = port or free_port()
    log = workdir / f"hub-{port}.log"
    command = [str(BIN / "convhub"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = _spawn(command, env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log, "/openapi.json")
        yield Process(process, url, log)
    finally:
        Process(process, url, log).stop()


@contextmanager
def worker(env: dict[str, str], workdir: Path) -> Iterator[Process]:
    """``convhub worker``: delivery alone."""
    log = workdir / f"worker-{uuid.uuid4().hex[:6]}.log"
    process = _spawn([str(BIN / "convhub"), "worker"], env, log)
    try:
        yield Process(process, "", log)
    finally:
        Process(process, "", log).stop()


@contextmanager
def baseline(database_url: str, workdir: Path) -> Iterator[Process]:
    """bench/baseline_app.py under uvicorn with convhub serve's settings (see that module)."""
    port = free_port()
    log = workdir / f"baseline-{port}.log"
    env = hub_env(database_url)
    command = [sys.executable, "-m", "bench.baseline_app", str(port)]
    process = _spawn(command, env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log, "/health")
        yield Process(process, url, log)
    finally:
        Process(process, url, log).stop()


@contextmanager
def baseline_worker(database_url: str, callback: str, workdir: Path) -> Iterator[Process]:
    """bench/baseline_worker.py, delivering bench/baseline_app.py's queue to ``callback``;
    yielded once it listens for new rows."""
    log = workdir / f"baseline-worker-{uuid.uuid4().hex[:6]}.log"
    command = [sys.executable, "-m", "bench.baseline_worker", callback]
    process = _spawn(command, hub_env(database_url), log)
    try:
        deadline = time.monotonic() + 60
        while b"listening" not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the baseline worker did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield Process(process, "", log)
    finally:
        Process(process, "", log).stop()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far: cost per message that, unlike a
    rate, holds up when other work shares the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server's processes so far (those alive now: its backends come
    and go with connections, so read this around a run whose connections stay open)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text[: text.find(")") + 1]:
            fields = text.rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class MachineBusy:
    """The share of the machine's CPU time (all cores) spent busy over a block, from
    /proc/stat: near 1.0, the machine itself was the limit, whoever used it."""

    def __enter__(self) -> MachineBusy:
        self._start = self._read()
        self.share = 0.0
        return self

    def __exit__(self, *_exc: object) -> None:
        busy0, total0 = self._start
        busy1, total1 = self._read()
        self.share = round((busy1 - busy0) / max(1, total1 - total0), 2)

    @staticmethod
    def _read() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        total = sum(fields[:8])  # guest time is counted in user already
        return total - idle, total


class RssSampler:
    """Peak resident memory of a set of processes, sampled from /proc every 50 ms."""

    def __init__(self, *pids: int) -> None:
        self.pids = pids
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self, pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(self._rss(pid) for pid in self.pids))
            time.sleep(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)


# --- a tenant, set up through the public API -------------------------------------------------


@dataclass
class Tenant:
    token: str
    channel_type: str
    address: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_client(env: dict[str, str]) -> tuple[str, str]:
    created = json.loads(
        cli(env, "clients", "create", "--name", "bench", "--tenant", "bench", "--json")
    )
    return created["client_id"], created["client_secret"]


def token(url: str, client: tuple[str, str]) -> str:
    answer = httpx.post(
        url + "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=client,
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def set_up_tenant(url: str, client: tuple[str, str], callback: str) -> Tenant:
    """Customer, bot and agent applications calling back ``callback``, a bot participant, a
    channel, an orchestration and an account, as an operator would create them."""
    bearer = token(url, client)
    api = httpx.Client(base_url=url + API_BASE, headers={"Authorization": f"Bearer {bearer}"})
    suffix = uuid.uuid4().hex[:8]

    def create(path: str, body: dict[str, Any]) -> str:
        answer = api.post(path, json=body, timeout=30)
        if answer.status_code != 201:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text}")
        return str(answer.json()["id"])

    # Callbacks with basic authentication, as most receivers require (the receiver ignores it).
    authentication = create(
        "/authentications",
        {
            "name": f"basic-{suffix}",
            "type": "basic",
            "basicAuth": {"username": "bench", "password": "bench-secret-0123"},
        },
    )

    def app(role: str) -> str:
        body = {
            "name": f"{role}-{suffix}",
            "active": True,
            "roles": [
                {
                    "name": role,
                    "version": "v3",
                    "callback": f"{callback}/{role}",
                    "notificationEmail": "bench@example.com",
                    "authentication": {"id": authentication},
                }
            ],
        }
        return create("/clientapplications", body)

    customer, bot, agent = app("customer"), app("custom_bot"), app("custom_agent")
    participant = create(
        "/participants",
        {"name": f"eva-{suffix}", "type": "custom_bot", "active": True, "application": {"id": bot}},
    )
    channel_type = f"custom.bench{suffix}"
    channel = create(
        "/channels",
        {
            "type": channel_type,
            "icon": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QD"
            "wADhgGAWjR9awAAAABJRU5ErkJggg==",
            "displayName": "Bench",
            "active": True,
        },
    )
    orchestration = create(
        "/orchestrations",
        {
            "name": f"orch-{suffix}",
            "active": True,
            "applications": {
                "customerConfiguration": {"customer": {"id": customer}},
                "botConfiguration": {
                    "bots": [
                        {
                            "id": bot,
                            "participant": {"id": participant},
                            "onEscalation": {"agent": {"id": agent}},
                        }
                    ]
                },
            },
        },
    )
    address = f"bench-{suffix}"
    create(
        "/accounts",
        {
            "name": f"account-{suffix}",
            "address": address,
            "channel": {"id": channel},
            "chatConfigurations": {
                "timeout": 240,
                "defaultLanguage": "en-US",
                "onAgentUnavailability": "off_hours",
                "orchestration": {"id": orchestration},
                "entryPoint": {"id": "1001"},
            },
        },
    )
    api.close()
    return Tenant(bearer, channel_type, address)


# --- message bodies --------------------------------------------------------------------------


def start_body(tenant: Tenant, texts: list[str]) -> bytes:
    """One request starting ``len(texts)`` conversations."""
    message = [
        {
            "type": {"value": "text"},
            "content": {"text": text},
            "sender": {"type": "customer", "participant": {"name": "John"}},
            "conversation": {
                "account": {"channel": {"type": tenant.channel_type}, "address": tenant.address},
                "customer": {"name": "John Smith", "type": "individual"},
            },
        }
        for text in texts
    ]
    return json.dumps({"messages": {"message": message}}).encode()


def continue_body(conversation_id: str, texts: list[str]) -> bytes:
    """One request of customer text messages on an existing conversation."""
    message = [
        {
            "type": {"value": "text"},
            "content": {"text": text},
            "sender": {"type": "customer", "participant": {"name": "John"}},
            "conversation": {"id": conversation_id},
        }
        for text in texts
    ]
    return json.dumps({"messages": {"message": message}}).encode()


def marker(conversation: int, seq: int) -> str:
    """What the receiver looks for (bench/receiver.py): which message, and when it was sent."""
    return f"bench:{conversation}:{seq}:{time.monotonic_ns()}"


def start_conversations(url: str, tenant: Tenant, count: int) -> list[str]:
    """``count`` conversations, started ten to a request; their ids in order."""
    ids: list[str] = []
    with httpx.Client(headers=tenant.headers, timeout=60) as api:
        for first in range(0, count, 10):
            texts = [marker(i, 0) for i in range(first, min(count, first + 10))]
            answer = api.post(
                url + SEND_PATH,
                content=start_body(tenant, texts),
                headers={"Content-Type": "application/json"},
            )
            if answer.status_code != 202:
                raise RuntimeError(f"start: {answer.status_code} {answer.text}")
            ids += [m["conversation"]["id"] for m in answer.json()["messages"]["message"]]
    return ids


# --- results ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        int(line.split()[1]) * 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    pg = None
    if pg_available():

        async def version() -> str:
            connection = await asyncpg.connect(_admin_dsn(PG_URL))
            try:
                return str(await connection.fetchval("SHOW server_version"))
            finally:
                await connection.close()

        pg = asyncio.run(version())
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(memory / 2**30, 1),
        "postgresql": pg,
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def row(
    name: str,
    ours: float | None,
    baseline: float | None = None,
    *,
    unit: str,
    target: str = "",
    met: bool | None = None,
) -> dict[str, Any]:
    """One line of the README table."""
    ratio = round(ours / baseline, 2) if ours is not None and baseline else None
    return {
        "name": name,
        "ours": ours,
        "baseline": baseline,
        "ratio": ratio,
        "unit": unit,
        "target": target,
        "met": met,
    }


def write(name: str, rows: list[dict[str, Any]], details: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "rows": rows,
        "details": details,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print_rows(name, rows)
    return path


def print_rows(name: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n== {name} ==")
    for r in rows:
        baseline = f"  baseline {r['baseline']}  ratio {r['ratio']}" if r["baseline"] else ""
        verdict = {True: "  [met]", False: "  [NOT met]", None: ""}[r["met"]]
        target = f"  target {r['target']}" if r["target"] else ""
        print(f"{r['name']}: {r['ours']} {r['unit']}{baseline}{target}{verdict}")


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


@contextmanager
def workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="convhub-bench-run-"))
    try:
        yield folder
    finally:
        if os.environ.get("CONVHUB_BENCH_KEEP"):  # the processes' logs, to look into a run
            print(f"logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
