"""``/metrics``: counters move as traffic flows, gauges show the database's state."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from tests.conversations.conftest import build_apps, event, received, say, send
from tests.factories import channel
from tests.observability.metricsparse import scrape, until, value
from tests.receivers import Reply
from tests.server import running_server


@pytest.fixture
async def apps(observed_api, receivers):
    return await build_apps(observed_api, receivers)


class TestTraffic:
    async def test_an_accepted_and_delivered_message_moves_every_counter(
        self, observed, observed_api, apps
    ):
        before = await scrape(observed.url)
        answer = await send(observed_api, apps.start("Hello"))
        conversation_id = answer["messages"]["message"][0]["conversation"]["id"]
        await received(apps.bot, 1)
        delivered = value(before, "convhub_deliveries_total", outcome="delivered")
        after = await until(
            observed.url,
            lambda s: value(s, "convhub_deliveries_total", outcome="delivered") > delivered,
        )
        assert value(after, "convhub_messages_accepted_total", type="text") == (
            value(before, "convhub_messages_accepted_total", type="text") + 1
        )
        ops = {"operation": "sendMessage", "status": "202"}
        assert value(after, "convhub_http_requests_total", **ops) == (
            value(before, "convhub_http_requests_total", **ops) + 1
        )
        assert value(after, "convhub_delivery_latency_seconds_count") == (
            value(before, "convhub_delivery_latency_seconds_count") + 1
        )
        assert value(after, "convhub_metrics_database_ok") == 1
        assert value(after, "convhub_delivery_latency_seconds_sum") > value(
            before, "convhub_delivery_latency_seconds_sum"
        )
        await observed_api.get(f"/conversations/{conversation_id}")
        await send(observed_api, event(conversation_id, "custom_bot", "typing.start"))
        later = await scrape(observed.url)
        fetch = {"operation": "fetchConversation", "status": "200"}
        assert value(later, "convhub_http_requests_total", **fetch) == (
            value(before, "convhub_http_requests_total", **fetch) + 1
        )
        assert value(later, "convhub_messages_accepted_total", type="typing.start") == (
            value(before, "convhub_messages_accepted_total", type="typing.start") + 1
        )

    async def test_refused_requests_count_under_their_status(self, observed, observed_api):
        before = await scrape(observed.url)
        await observed_api.get("/accounts", params={"nope": "1"})
        after = await scrape(observed.url)
        labels = {"operation": "getAllAccounts", "status": "400"}
        assert value(after, "convhub_http_requests_total", **labels) == (
            value(before, "convhub_http_requests_total", **labels) + 1
        )


class TestRetryQueue:
    async def test_a_failing_callback_fills_the_retry_queue_until_it_answers(
        self, observed, observed_api, apps
    ):
        apps.bot.default = Reply(status=503)
        before = await scrape(observed.url)
        await send(observed_api, apps.start("Anyone?"))
        retrying = value(before, "convhub_deliveries_total", outcome="retrying")
        during = await until(
            observed.url,
            lambda s: (
                value(s, "convhub_deliveries_total", outcome="retrying") > retrying + 1
                and value(s, "convhub_retry_queue_depth") == 1
            ),
        )
        assert value(during, "convhub_deliveries_pending") == 1
        assert value(during, "convhub_delivery_oldest_pending_age_seconds") > 0
        apps.bot.default = Reply(status=202)
        after = await until(observed.url, lambda s: value(s, "convhub_deliveries_pending") == 0)
        assert value(after, "convhub_retry_queue_depth") == 0
        assert value(after, "convhub_delivery_oldest_pending_age_seconds") == 0


def _availability(entry_point: str, available: bool) -> dict:
    return {
        "type": {"value": "agent.available" if available else "agent.unavailable"},
        "sender": {"type": "custom_agent", "participant": {"name": "desk"}},
        "conversation": {"entryPoint": {"id": entry_point}},
    }


class TestHeldConversations:
    async def test_held_while_no_agent_is_available(self, observed, observed_api, receivers):
        apps = await build_apps(
            observed_api,
            receivers,
            channel_body=channel(),
            chat={"entryPoint": {"id": "ep-metrics"}, "onAgentUnavailability": "retain_and_retry"},
        )
        await send(observed_api, _availability("ep-metrics", False))
        answer = await send(observed_api, apps.start("I need a person"))
        conversation_id = answer["messages"]["message"][0]["conversation"]["id"]
        await send(observed_api, event(conversation_id, "custom_bot", "escalation.transfer"))
        assert value(await scrape(observed.url), "convhub_conversations_held") == 1
        await send(observed_api, say(conversation_id, "customer", "still here"))
        await send(observed_api, _availability("ep-metrics", True))
        assert value(await scrape(observed.url), "convhub_conversations_held") == 0


class TestMetricsToken:
    async def test_a_set_token_is_required(self, settings):
        with_token = settings.model_copy(update={"metrics_token": SecretStr("scrape-secret-123")})
        with running_server(with_token) as url:
            async with httpx.AsyncClient(base_url=url) as http:
                missing = await http.get("/metrics")
                wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
                right = await http.get(
                    "/metrics", headers={"Authorization": "Bearer scrape-secret-123"}
                )
        assert missing.status_code == wrong.status_code == 401
        assert missing.json()["code"] == "401-104"
        assert right.status_code == 200
        assert "convhub_http_requests_total" in right.text

    async def test_open_without_a_token(self, server_url):
        async with httpx.AsyncClient(base_url=server_url) as http:
            answer = await http.get("/metrics")
        assert answer.status_code == 200
        assert "convhub_conversations_held" in answer.text
