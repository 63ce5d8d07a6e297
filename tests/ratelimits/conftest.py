"""Two server processes with the SLA's ``basic`` plan on the session's database: what one
counts, the other sees (the counters live in the database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server import server_process


@pytest.fixture(scope="session")
def limited_settings(settings):
    return settings.model_copy(update={"rate_plan": "basic"})


@pytest.fixture(scope="session")
def limited_urls(limited_settings, tmp_path_factory) -> Iterator[tuple[str, str]]:
    logs = tmp_path_factory.mktemp("limited")
    with (
        server_process(limited_settings, log_path=logs / "one.log") as one,
        server_process(limited_settings, log_path=logs / "two.log") as two,
    ):
        yield one, two
