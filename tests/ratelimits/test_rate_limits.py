"""429 at the plan's rate, per API client and operation group, shared by every process."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.apiclients import api_client, new_client

SOME_ID = "7b6c5fff-036e-4a40-b68a-a67c592fc079"


@pytest.fixture
async def token(database, limited_settings) -> str:
    _, _, signed = await new_client(database, limited_settings)
    return signed


def _assert_429(answer: httpx.Response, *, window: int) -> None:
    assert answer.status_code == 429
    assert 1 <= int(answer.headers["Retry-After"]) <= window
    body = answer.json()
    assert body["code"] == "429-100"
    assert body["developerMessage"].startswith("Too many requests")
    assert body["details"] == [{"key": "retryAfter", "value": answer.headers["Retry-After"]}]


class TestBasicPlan:
    async def test_default_group_allows_its_burst_then_429(self, limited_urls, token):
        """basic, GET on any path without a group of its own: 2 per 4 s."""
        async with api_client(limited_urls[0], token) as api:
            answers = [await api.get("/accounts") for _ in range(3)]
        assert [a.status_code for a in answers[:2]] == [200, 200]
        _assert_429(answers[2], window=4)

    async def test_the_default_group_is_shared_by_its_operations(self, limited_urls, token):
        async with api_client(limited_urls[0], token) as api:
            first = await api.get("/accounts")
            second = await api.get(f"/channels/{SOME_ID}")
            third = await api.get("/participants")
        assert [first.status_code, second.status_code] == [200, 404]
        _assert_429(third, window=4)

    async def test_an_operation_group_counts_apart(self, limited_urls, token):
        """fetchConversation has its own group (3 per 3 s), apart from GET's default."""
        async with api_client(limited_urls[0], token) as api:
            fetches = [await api.get(f"/conversations/{SOME_ID}") for _ in range(4)]
            listing = await api.get("/accounts")
        assert [a.status_code for a in fetches[:3]] == [404, 404, 404]
        _assert_429(fetches[3], window=3)
        assert listing.status_code == 200

    async def test_after_retry_after_the_window_opens_again(self, limited_urls, token):
        """Retry-After is honest: waiting that long, the client gets its burst again."""
        async with api_client(limited_urls[0], token) as api:
            burst = [await api.get(f"/conversations/{SOME_ID}") for _ in range(4)]
            _assert_429(burst[3], window=3)
            await asyncio.sleep(int(burst[3].headers["Retry-After"]))
            again = [await api.get(f"/conversations/{SOME_ID}") for _ in range(4)]
        assert [a.status_code for a in again] == [404, 404, 404, 429]

    async def test_each_api_client_has_its_own_count(
        self, limited_urls, token, database, limited_settings
    ):
        _, _, other = await new_client(database, limited_settings)
        async with (
            api_client(limited_urls[0], token) as api,
            api_client(limited_urls[0], other) as api2,
        ):
            mine = [await api.get("/accounts") for _ in range(3)]
            theirs = await api2.get("/accounts")
        assert mine[2].status_code == 429
        assert theirs.status_code == 200

    async def test_requests_without_a_token_get_401_not_429(self, limited_urls):
        async with httpx.AsyncClient(base_url=limited_urls[0]) as http:
            answers = [
                await http.get("/conversation/conversationmgr/v3/accounts") for _ in range(4)
            ]
        assert {a.status_code for a in answers} == {401}

    async def test_health_and_metrics_are_not_limited(self, limited_urls):
        async with httpx.AsyncClient(base_url=limited_urls[0]) as http:
            answers = [await http.get("/health/live") for _ in range(5)]
        assert {a.status_code for a in answers} == {200}


class TestSharedAcrossProcesses:
    async def test_two_server_processes_count_the_same_requests(self, limited_urls, token):
        one, two = limited_urls
        async with api_client(one, token) as first, api_client(two, token) as second:
            a = await first.get("/accounts")
            b = await second.get("/accounts")
            c = await first.get("/accounts")
            d = await second.get("/accounts")
        assert [a.status_code, b.status_code] == [200, 200]
        _assert_429(c, window=4)
        _assert_429(d, window=4)


class TestNoPlan:
    async def test_no_plan_no_limit(self, api):
        answers = [await api.get("/accounts") for _ in range(12)]
        assert {a.status_code for a in answers} == {200}
