"""The SLA's plans as windows: rate and burst, operation groups, monthly quotas."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from limits import RateLimitItemPerMonth, RateLimitItemPerSecond

from convhub.core.security.tokens import Caller
from convhub.ratelimits import plans
from convhub.ratelimits.guard import Limiter, RateLimited
from convhub.ratelimits.storage import DatabaseStorage

SHARED_SLA = Path(__file__).resolve().parents[2] / "spec" / "conversationmgr-v3.sla.yaml"


def test_the_packaged_sla_is_the_contracts():
    packaged = Path(plans.__file__).with_name(plans.SLA_FILE)
    assert packaged.read_text() == SHARED_SLA.read_text()


def test_every_plan_of_the_sla_loads():
    assert plans.plan_names() == ["developer", "basic", "enterprise", "internal"]


@pytest.mark.parametrize(
    ("plan", "method", "path", "group", "window"),
    [
        # basic: 1/s, burst 3 on sendMessage: 3 in any 3 s window.
        ("basic", "POST", "/conversations/messages", "/conversations/messages", (3, 3)),
        # A path parameter's name does not matter: the group is the SLA's path.
        ("basic", "GET", "/conversations/{conversation_id}", "/conversations/{id}", (3, 3)),
        # basic default: 0.5/s, burst 2: 2 per 4 s.
        ("basic", "GET", "/accounts", "default", (2, 4)),
        ("basic", "DELETE", "/accounts/{id}", "default", (2, 4)),
        # developer: 0.16/s, burst 1: one per 7 s (6.25 rounded up, never above the rate).
        ("developer", "POST", "/conversations/messages", "default", (1, 7)),
        ("enterprise", "PUT", "/channels/{id}", "default", (30, 30)),
        ("enterprise", "POST", "/conversations/messages", "/conversations/messages", (15, 3)),
    ],
)
def test_rate_window_of_an_operation(plan, method, path, group, window):
    rate, quota = plans.load(plan).limits_for(method, path)
    assert (rate.kind, rate.group, rate.method) == ("rate", group, method.lower())
    assert rate.item == RateLimitItemPerSecond(*window)
    assert quota.kind == "quota"


@pytest.mark.parametrize(
    ("plan", "monthly"), [("developer", 1000), ("basic", 100000), ("enterprise", 500000)]
)
def test_monthly_quota_per_method(plan, monthly):
    [_, quota] = plans.load(plan).limits_for("GET", "/accounts")
    assert quota.item == RateLimitItemPerMonth(monthly, 1)


def test_methods_the_sla_does_not_name_are_not_limited():
    assert plans.load("basic").limits_for("PATCH", "/accounts") == []


class TestQuota:
    async def test_a_used_up_quota_refuses_for_the_rest_of_its_window(self, database):
        """The monthly quota counts in the same database windows as the rates."""
        plan = plans.Plan(
            "quota-test", rates={}, quotas={("default", "get"): RateLimitItemPerMonth(2, 1)}
        )
        limiter = Limiter(plan, DatabaseStorage(database))
        caller = Caller(
            client_id=uuid.uuid4().hex, tenant_id="quota-tenant", permissions=frozenset()
        )
        for _ in range(2):
            await limiter.hit(caller, method="GET", path="/accounts")
        with pytest.raises(RateLimited) as refused:
            await limiter.hit(caller, method="GET", path="/accounts/{id}")
        month = 30 * 24 * 3600
        assert month - 60 < refused.value.retry_after <= month
        assert "monthly quota" in refused.value.developer_message
        other = Caller(
            client_id=uuid.uuid4().hex, tenant_id="quota-tenant", permissions=frozenset()
        )
        await limiter.hit(other, method="GET", path="/accounts")
