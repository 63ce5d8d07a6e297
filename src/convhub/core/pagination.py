"""``$pagenum`` / ``$pagesize`` (DECISIONS §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from convhub.core.errors import InvalidQueryValue, UnknownQueryParameter

PAGE_PARAMS = ("$pagenum", "$pagesize")
# Past this the offset would overflow a 64-bit integer in SQL long before any list is that long.
_MAX_PAGENUM = 10_000_000


@dataclass(frozen=True, slots=True)
class Page:
    number: int = 1
    size: int = 25

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def _parse(request: Request, name: str, default: int, upper: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1 or (upper is not None and int(raw) > upper):
        raise InvalidQueryValue(name, raw)
    return int(raw)


def read_page(request: Request, *, max_size: int) -> Page:
    """``$pagenum`` (≥ 1) and ``$pagesize`` (1..max_size); any other query parameter is refused
    with 400-101."""
    unknown = [key for key in request.query_params if key not in PAGE_PARAMS]
    if unknown:
        raise UnknownQueryParameter(unknown)
    return Page(
        number=_parse(request, "$pagenum", 1, _MAX_PAGENUM),
        size=_parse(request, "$pagesize", 25, max_size),
    )


async def _config_page(request: Request) -> Page:
    return read_page(request, max_size=100)


PageDep = Annotated[Page, Depends(_config_page)]
