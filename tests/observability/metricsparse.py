"""Reading a ``/metrics`` page the way Prometheus does (prometheus-client's own parser)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families


async def scrape(url: str, **headers: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(url + "/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def until(url: str, check: Callable[[dict], bool], *, within: float = 15) -> dict:
    """Scrape until ``check`` holds on the samples (the worker records after the callback)."""
    deadline = time.monotonic() + within
    while True:
        samples = await scrape(url)
        if check(samples):
            return samples
        assert time.monotonic() < deadline, "the metrics never showed the expected change"
        await asyncio.sleep(0.05)
