"""The SLA's plans (``conversationmgr-v3.sla.yaml``, shipped with the package) as ``limits``
items, per operation group.

A plan gives, per operation group (a path such as ``/conversations/messages``, or ``default``
for every other path) and HTTP method, a rate (``max`` requests per ``period``) and a ``burst``.
``limits`` counts in windows, not token buckets, so each rate becomes "``burst`` requests per
``burst / rate`` seconds" (rounded up, so never more than the plan allows on average): at most
``burst`` at once, and the plan's rate over time. Quotas (``max`` per ``month``) become a window
of ``limits``' month (30 days) starting at the client's first request of the window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.limits import TIME_TYPES, safe_string

SLA_FILE = "conversationmgr-v3.sla.yaml"
DEFAULT_GROUP = "default"
_PARAMETER = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class Limit:
    """One window to count a request in: ``kind`` is ``rate`` or ``quota``."""

    kind: str
    group: str
    method: str
    item: RateLimitItem


@dataclass(frozen=True)
class Plan:
    name: str
    rates: dict[tuple[str, str], RateLimitItem]
    quotas: dict[tuple[str, str], RateLimitItem]

    def limits_for(self, method: str, path: str) -> list[Limit]:
        """The windows a ``method`` request on ``path`` (below the API base, path parameters
        in braces) counts in: its group's rate, then the method's quota."""
        method = method.lower()
        path = _PARAMETER.sub("{id}", path)
        group = path if any(g == path for g, _ in self.rates) else DEFAULT_GROUP
        found = []
        if (item := self.rates.get((group, method))) is not None:
            found.append(Limit("rate", group, method, item))
        quota_group = path if (path, method) in self.quotas else DEFAULT_GROUP
        if (item := self.quotas.get((quota_group, method))) is not None:
            found.append(Limit("quota", quota_group, method, item))
        return found


def _seconds(period: str) -> int:
    granularity = TIME_TYPES.get(period.lower().removesuffix("s"))
    if granularity is None:
        raise ValueError(f"unknown period in the SLA: {period}")
    return int(granularity.seconds)


def _rate(spec: dict[str, Any]) -> RateLimitItem:
    [rate] = spec["requests"]
    per_second = float(rate["max"]) / _seconds(rate["period"])
    bursts = spec.get("burst") or [{"max": max(1, math.ceil(float(rate["max"])))}]
    burst = int(bursts[0]["max"])
    return RateLimitItemPerSecond(burst, max(1, math.ceil(burst / per_second)))


def _quota(spec: dict[str, Any]) -> RateLimitItem:
    [quota] = spec["requests"]
    granularity = TIME_TYPES[quota["period"].lower().removesuffix("s")]
    item_class = next(c for c in RateLimitItem.__subclasses__() if c.GRANULARITY == granularity)
    return item_class(int(quota["max"]), 1)


def _table(groups: dict[str, dict[str, Any]], build: Any) -> dict[tuple[str, str], RateLimitItem]:
    return {
        (group, method.lower()): build(spec)
        for group, methods in (groups or {}).items()
        for method, spec in methods.items()
    }


def plan_names() -> list[str]:
    return list(_document()["plans"])


@cache
def _document() -> dict[str, Any]:
    text = files("convhub.ratelimits").joinpath(SLA_FILE).read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@cache
def load(name: str) -> Plan:
    plan = _document()["plans"][name]
    return Plan(name, _table(plan.get("rates"), _rate), _table(plan.get("quotas"), _quota))


def key(limit: Limit, *identifiers: str) -> str:
    return limit.item.key_for(*(safe_string(i) for i in identifiers), limit.group, limit.method)
