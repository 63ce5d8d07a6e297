"""``/health/live`` and ``/health/ready``: outside the API base path, no token."""

from __future__ import annotations

import httpx

from convhub import __version__
from convhub.core.settings import Settings
from tests.server import free_port, running_server


async def _get(url: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return await http.get(path)


class TestLive:
    async def test_answers_with_the_version_without_a_token(self, server_url):
        answer = await _get(server_url, "/health/live")
        assert answer.status_code == 200
        assert answer.json() == {"status": "live", "version": __version__}

    async def test_not_part_of_the_published_api(self, server_url):
        paths = (await _get(server_url, "/openapi.json")).json()["paths"]
        assert not [p for p in paths if p.startswith(("/health", "/metrics"))]


class TestReady:
    async def test_ready_with_a_current_database_and_a_running_worker(self, observed):
        answer = await _get(observed.url, "/health/ready")
        assert answer.status_code == 200
        assert answer.json()["status"] == "ready"
        assert answer.json()["checks"] == {"database": "ok", "migrations": "ok", "worker": "ok"}

    async def test_says_when_the_worker_runs_elsewhere(self, server_url):
        answer = await _get(server_url, "/health/ready")
        assert answer.status_code == 200
        assert answer.json()["checks"]["worker"].startswith("not run by this process")

    async def test_not_ready_before_migrations(self, tmp_path):
        settings = Settings(  # type: ignore[call-arg]
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
            run_worker=False,
            _env_file=None,
        )
        with running_server(settings) as url:
            answer = await _get(url, "/health/ready")
        assert answer.status_code == 503
        assert answer.json()["status"] == "not ready"
        assert answer.json()["checks"]["migrations"].startswith("behind")
        assert answer.json()["checks"]["database"] == "ok"

    async def test_not_ready_when_the_database_is_unreachable(self):
        settings = Settings(  # type: ignore[call-arg]
            database_url=f"postgresql+asyncpg://convhub:pw@127.0.0.1:{free_port()}/convhub",
            run_worker=False,
            _env_file=None,
        )
        with running_server(settings) as url:
            answer = await _get(url, "/health/ready")
            live = await _get(url, "/health/live")
            metrics = await _get(url, "/metrics")
        assert answer.status_code == 503
        assert answer.json()["checks"]["database"].startswith("unreachable")
        assert "pw" not in answer.text
        assert live.status_code == 200
        # The counters are still served, and the gauges are said to be stale.
        assert metrics.status_code == 200
        assert "convhub_metrics_database_ok 0.0" in metrics.text
