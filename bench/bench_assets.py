"""Assets: upload and download 10 MiB files through the signed URLs of a real convhub process,
and report throughput and the peak memory (RSS) of that process.

The service runs as `convhub serve` would (uvicorn, the app factory) on a loopback port, on a
fresh SQLite database and a temporary local store (or S3 with --s3-endpoint). Each round
declares an asset (POST /assets), streams 10 MiB to its upload URL in 1 MiB chunks, then streams
it back from the signed download URL and checks the bytes. The service's RSS is sampled every
5 ms (psutil) from before the first request to the end: a streaming service holds chunks, never
whole files, so its peak grows by far less than 10 MiB per request in flight.

    .venv/bin/python bench/bench_assets.py [--rounds 8] [--concurrency 1]

Writes bench/results/assets.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "assets.json"
API_BASE = "/conversation/conversationmgr/v3"
MIB = 1024 * 1024
SIZE = 10 * MIB
# A real PNG signature, then bytes: sniffed as image/png, stored as bird-<n>.png.
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
ICON = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QD"
    "wADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def payload() -> bytes:
    body = (PNG_HEAD + bytes(range(256)) * (SIZE // 256))[:SIZE]
    return body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RssSampler:
    """Peak resident memory of one process, sampled on a thread of its own."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def service(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    subprocess.run(
        [sys.executable, "-m", "convhub.cli", "migrate"], env=env, check=True, capture_output=True
    )
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "convhub.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the service did not start:\n" + log.read_text())
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def admin_client(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "convhub.cli", "clients", "create", "--name", "bench", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), MIB):
        yield data[start : start + MIB]


async def one_round(
    api: httpx.AsyncClient, http: httpx.AsyncClient, data: bytes, n: int
) -> dict[str, float]:
    declared = await api.post(
        "/assets",
        json={"channel": {"type": "bench.channel"}, "sender": {"type": "customer"},
              "name": f"bird-{n}.png", "size": len(data)},
    )  # fmt: skip
    declared.raise_for_status()
    started = time.perf_counter()
    upload = await http.put(declared.json()["contentUrl"], content=chunks(data))
    upload.raise_for_status()
    uploaded = time.perf_counter() - started
    shown = (await api.get(f"/assets/{declared.json()['id']}")).json()
    digest = hashlib.sha256()
    started = time.perf_counter()
    async with http.stream("GET", shown["contentUrl"]) as download:
        download.raise_for_status()
        async for chunk in download.aiter_raw():
            digest.update(chunk)
    downloaded = time.perf_counter() - started
    assert digest.digest() == hashlib.sha256(data).digest(), "downloaded bytes differ"
    return {"upload": uploaded, "download": downloaded}


async def run(
    url: str, client: dict[str, Any], rounds: int, concurrency: int
) -> list[dict[str, float]]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        token = await http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], client["client_secret"]),
        )
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        async with httpx.AsyncClient(base_url=url + API_BASE, headers=headers, timeout=60) as api:
            channel = {
                "type": "bench.channel",
                "displayName": "Bench",
                "active": True,
                "icon": ICON,
                "restrictions": {"inbound": {"attachmentPolicy": {"enabled": True}}},
            }
            (await api.post("/channels", json=channel)).raise_for_status()
            data = payload()
            await one_round(api, http, data, -1)  # warm-up: imports, first connections
            results: list[dict[str, float]] = []
            for start in range(0, rounds, concurrency):
                batch = range(start, min(rounds, start + concurrency))
                results += await asyncio.gather(*(one_round(api, http, data, n) for n in batch))
            return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="convhub-bench-assets-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONVHUB_")}
        env |= {
            "CONVHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
            "CONVHUB_ASSET_DIR": f"{tmp}/assets",
            "CONVHUB_RUN_WORKER": "false",
            "CONVHUB_LOG_LEVEL": "WARNING",
        }
        client = admin_client(env)
        with service(env, Path(tmp) / "service.log") as (url, pid):
            idle_rss = psutil.Process(pid).memory_info().rss
            with RssSampler(pid) as sampler:
                started = time.perf_counter()
                results = asyncio.run(run(url, client, args.rounds, args.concurrency))
                wall = time.perf_counter() - started
    upload = sum(r["upload"] for r in results)
    download = sum(r["download"] for r in results)
    summary = {
        "benchmark": "assets",
        "file_mib": SIZE / MIB,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "store": "local",
        "database": "sqlite",
        "upload_mib_per_s": round(args.rounds * SIZE / MIB / upload * args.concurrency, 1),
        "download_mib_per_s": round(args.rounds * SIZE / MIB / download * args.concurrency, 1),
        "service_rss_idle_mib": round(idle_rss / MIB, 1),
        "service_rss_peak_mib": round(sampler.peak / MIB, 1),
        "service_rss_growth_mib": round((sampler.peak - idle_rss) / MIB, 1),
        "wall_seconds": round(wall, 2),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "note": "shared 2-core machine; other processes compete for the CPU",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"assets: {args.rounds} x 10 MiB, concurrency {args.concurrency}, local store, SQLite")
    print(f"  upload    {summary['upload_mib_per_s']:>8} MiB/s")
    print(f"  download  {summary['download_mib_per_s']:>8} MiB/s")
    print(
        f"  service RSS: idle {summary['service_rss_idle_mib']} MiB, "
        f"peak {summary['service_rss_peak_mib']} MiB "
        f"(+{summary['service_rss_growth_mib']} MiB)"
    )
    print(f"  written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
