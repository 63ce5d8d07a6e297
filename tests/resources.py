"""What the configuration resource tests share: a stored object, a snapshot of a tenant's list
(to prove that a refused request changed nothing), and the check of an eGain error answer."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

# created / modified: ISO 8601 in UTC with milliseconds and Z, as in the contract's examples.
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

Snapshot = Callable[[], Awaitable[list[dict[str, Any]]]]


@dataclass
class Stored:
    id: str
    sent: dict[str, Any]
    read: dict[str, Any]


async def read_object(api: httpx.AsyncClient, path: str, object_id: str) -> dict[str, Any]:
    answer = await api.get(f"{path}/{object_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def refused(answer: httpx.Response, status: int, code: str, mentions: str = "") -> None:
    """The answer is the WSErrorCommon ``code``, and its developerMessage mentions ``mentions``."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == code, body
    assert mentions in body["developerMessage"], body


def snapshot_of(api: httpx.AsyncClient, path: str, key: str) -> Snapshot:
    """Every object at ``path`` of ``api``'s tenant, as the list operation shows them."""

    async def take() -> list[dict[str, Any]]:
        answer = await api.get(path, params={"$pagesize": "100"})
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()[key]
        return items

    return take
