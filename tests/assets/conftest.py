"""A delivering hub for each asset store (local directory, S3 on a moto server in a process of
its own), on the session's database; tests that take ``hub`` run once per store."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from pydantic import SecretStr

from convhub.core.settings import Settings
from tests.conftest import API_BASE
from tests.receivers import Receiver, receiving
from tests.server import free_port, server_process

BUCKET = "convhub-assets"
S3_KEYS = {
    "asset_s3_access_key_id": "testing",
    "asset_s3_secret_access_key": SecretStr("testing"),
}


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """An S3-compatible server (moto's server mode) on a loopback port, with the bucket."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        s3_client(url).create_bucket(Bucket=BUCKET)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def s3_client(url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@dataclass
class Hub:
    url: str
    settings: Settings
    store: str

    def has_bytes(self, storage_key: str) -> bool:
        """Whether the store holds bytes (or an unfinished upload) under the key."""
        if self.store == "local":
            path = Path(self.settings.asset_dir) / storage_key
            return path.exists() or path.with_name(path.name + ".part").exists()
        s3 = s3_client(str(self.settings.asset_s3_endpoint_url))
        storage_key = self.settings.asset_s3_prefix + storage_key
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=storage_key)
        uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=storage_key)
        return bool(listed.get("KeyCount")) or bool(uploads.get("Uploads"))


class HubPool:
    """Hub processes, one per store, started when a test first needs one."""

    def __init__(self, settings: Settings, tmp: pytest.TempPathFactory, stack: ExitStack) -> None:
        self.settings, self.tmp, self.stack = settings, tmp, stack
        self.hubs: dict[str, Hub] = {}

    def get(self, store: str) -> Hub:
        if store not in self.hubs:
            self.hubs[store] = self._start(store)
        return self.hubs[store]

    def _start(self, store: str) -> Hub:
        update: dict[str, Any] = {
            "allow_private_callbacks": True,
            "minute_seconds": 0.2,
            "retry_scale": 0.001,
            "run_worker": True,
            # The hubs share a database but not a store: one hub's cleanup must not take another
            # store's expired assets. The tests run the cleanup themselves (test_content.py).
            "asset_cleanup_interval_seconds": 3600,
            "asset_store": store,
            "asset_dir": str(self.tmp.mktemp("hub-assets")),
        }
        if store == "s3":
            moto = self.stack.enter_context(moto_server(self.tmp.mktemp("moto") / "moto.log"))
            update |= {
                "asset_s3_bucket": BUCKET,
                "asset_s3_endpoint_url": moto,
                "asset_s3_prefix": "tests/",
                **S3_KEYS,
            }
        hub_settings = self.settings.model_copy(update=update)
        log = self.tmp.mktemp(f"hub-{store}") / "hub.log"
        url = self.stack.enter_context(server_process(hub_settings, log_path=log))
        return Hub(url, hub_settings, store)


@pytest.fixture(scope="package")
def hub_pool(settings, tmp_path_factory) -> Iterator[HubPool]:
    with ExitStack() as stack:
        yield HubPool(settings, tmp_path_factory, stack)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # What the store does not take part in (validation, policy, signatures) is tested on the
    # local store; tests marked both_stores run on each.
    if "asset_hub" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_stores") is not None
        stores = ["local", "s3"] if both else ["local"]
        metafunc.parametrize("asset_hub", stores, indirect=True, scope="package")


@pytest.fixture(scope="package")
def asset_hub(request, hub_pool) -> Hub:
    """A hub process that delivers, on the store the test is parametrized with."""
    return hub_pool.get(request.param)


@pytest.fixture
async def hub(asset_hub, api) -> AsyncIterator[httpx.AsyncClient]:
    """The API of the asset hub, as ``api``'s tenant."""
    async with httpx.AsyncClient(
        base_url=asset_hub.url + API_BASE, headers=api.headers, timeout=30
    ) as client:
        yield client


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver, Receiver]]:
    with receiving() as customer, receiving() as bot, receiving() as agent:
        yield customer, bot, agent
