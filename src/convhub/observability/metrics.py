"""Prometheus metrics: counters and a histogram fed where things happen, and gauges read from
the database when ``/metrics`` is scraped, so every process reports the shared truth (queue
depth, held conversations) whichever process did the work.

Counters are per process (as Prometheus expects: it sums the processes it scrapes).
"""

from __future__ import annotations

import hmac
from datetime import datetime

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from convhub.core.database import utcnow
from convhub.core.dependencies import RuntimeDep
from convhub.core.errors import Unauthorized
from convhub.delivery import outbox
from convhub.models import Conversation, Delivery

REQUESTS = Counter(
    "convhub_http_requests",
    "HTTP requests answered, by operation and status",
    ["operation", "status"],
)
MESSAGES_ACCEPTED = Counter(
    "convhub_messages_accepted", "Messages accepted by sendMessage, by message type", ["type"]
)
DELIVERIES = Counter(
    "convhub_deliveries",
    "Delivery attempts recorded, by outcome: delivered, retrying (another attempt is due), "
    "failed (no further attempt)",
    ["outcome"],
)
DELIVERY_LATENCY = Histogram(
    "convhub_delivery_latency_seconds",
    "From a message accepted (202) to its recipient's callback answering 2xx",
    # From a quick callback to the 24-hour retry window.
    buckets=(
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        30,
        60,
        300,
        1800,
        3600,
        21600,
        86400,
    ),
)
PENDING = Gauge("convhub_deliveries_pending", "Deliveries not yet delivered nor failed")
RETRY_QUEUE = Gauge(
    "convhub_retry_queue_depth", "Pending deliveries already attempted at least once"
)
OLDEST_PENDING = Gauge(
    "convhub_delivery_oldest_pending_age_seconds",
    "Age of the oldest pending delivery (0 when none)",
)
HELD = Gauge(
    "convhub_conversations_held", "Conversations in progress waiting for an agent to be available"
)

SCRAPE_DATABASE_OK = Gauge(
    "convhub_metrics_database_ok",
    "1 when this scrape read the gauges above from the database, 0 when it could not (stale)",
)

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)


def delivery_recorded(outcome: str, *, accepted: datetime, now: datetime) -> None:
    """Count an attempt's outcome; a delivered one also gives its latency since acceptance."""
    DELIVERIES.labels(outcome).inc()
    if outcome == "delivered":
        DELIVERY_LATENCY.observe(max(0.0, (now - accepted).total_seconds()))


async def _refresh(runtime: RuntimeDep) -> None:
    pending = Delivery.state == outbox.PENDING  # in the text: the pending index serves it
    async with runtime.db.session(write=False) as session:
        count, retrying, oldest = (
            await session.execute(
                select(
                    func.count(),
                    func.count().filter(Delivery.attempts > 0),
                    func.min(Delivery.created),
                ).where(pending)
            )
        ).one()
        held = await session.scalar(
            select(func.count()).where(
                Conversation.state == "held", Conversation.status == "in_progress"
            )
        )
    PENDING.set(count)
    RETRY_QUEUE.set(retrying)
    OLDEST_PENDING.set(_age(oldest))
    HELD.set(held or 0)


def _age(oldest: datetime | None) -> float:
    if oldest is None:
        return 0.0
    # SQLite hands back MIN() of a timestamp column as text, untyped by the column.
    moment = datetime.fromisoformat(oldest) if isinstance(oldest, str) else oldest
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=utcnow().tzinfo)
    return max(0.0, (utcnow() - moment).total_seconds())


def _authorised(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


@router.get("/metrics")
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    token = runtime.settings.metrics_token
    # An empty token (a blank variable in compose.yaml) is no token.
    if (
        token is not None
        and token.get_secret_value()
        and not _authorised(request, token.get_secret_value())
    ):
        raise Unauthorized()
    try:
        await _refresh(runtime)
    except Exception as exc:  # the database is away: the counters are still worth scraping
        log.warning("metrics_gauges_not_refreshed", error=type(exc).__name__)
        SCRAPE_DATABASE_OK.set(0)
    else:
        SCRAPE_DATABASE_OK.set(1)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
