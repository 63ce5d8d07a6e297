"""``/convhub/v1``: the delivery log, dead letters, re-delivery and callback health (extension).

Outside eGain's base path, tagged apart in the OpenAPI document, and guarded by our own
permissions: ``convhub.deliveries.read`` to look, ``convhub.deliveries.manage`` to look and to
re-deliver. Errors are ``WSErrorCommon``, with eGain's codes where eGain has one (401-104,
403-197, 404-101, 400-101, 400-244) and our own 9xx codes otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse

from convhub.core.database import utcnow
from convhub.core.dependencies import NoQuery, RuntimeDep, require
from convhub.core.openapi import responses_for
from convhub.core.pagination import PageDep
from convhub.core.security import permissions as perms
from convhub.core.security.tokens import Caller
from convhub.delivery.signal import notify_other_processes
from convhub.operations import service
from convhub.operations.schemas import (
    CallbackList,
    DeadLetterList,
    MessageDeliveries,
    Redelivered,
)

OPERATIONS_BASE = "/convhub/v1"

router = APIRouter(prefix=OPERATIONS_BASE, tags=["Delivery operations (convhub extension)"])

Manager = Annotated[Caller, Depends(require(perms.DELIVERIES_MANAGE))]
Reader = Annotated[Caller, Depends(require(perms.DELIVERIES_MANAGE, perms.DELIVERIES_READ))]


@router.get(
    "/messages/{id}/deliveries",
    operation_id="getMessageDeliveries",
    summary="Delivery attempts of a message",
    responses=responses_for((200, 400, 401, 403, 404, 500)),
    response_model=MessageDeliveries,
)
async def get_message_deliveries(
    id: str, caller: Reader, _: NoQuery, runtime: RuntimeDep
) -> JSONResponse:
    """Each delivery of a message (one per recipient callback): its state (`pending`, `sent`,
    `failed`, or `dead`: dead-lettered at the end of the retry window) and every attempt, with
    its start time, the receiver's status code (none when no answer came), latency and error."""
    async with runtime.db.session(write=False) as session:
        found = await service.message_deliveries(session, tenant_id=caller.tenant_id, message_id=id)
    return JSONResponse(found)


@router.get(
    "/deadletters",
    operation_id="getDeadLetters",
    summary="Dead letters",
    responses=responses_for((200, 400, 401, 403, 500)),
    response_model=DeadLetterList,
)
async def get_dead_letters(caller: Reader, page: PageDep, runtime: RuntimeDep) -> JSONResponse:
    """Deliveries still failing at the end of their retry window, oldest first, paginated by
    `$pagenum` and `$pagesize` (at most 100). Re-deliver one with
    `POST /convhub/v1/messages/{messageId}/redeliver`."""
    async with runtime.db.session(write=False) as session:
        found = await service.dead_letters(session, tenant_id=caller.tenant_id, page=page)
    return JSONResponse(found)


@router.post(
    "/messages/{id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="redeliverMessage",
    summary="Re-deliver a failed message",
    responses=responses_for((202, 400, 401, 403, 404, 409, 500)),
    response_model=Redelivered,
)
async def redeliver_message(
    id: str, caller: Manager, _: NoQuery, runtime: RuntimeDep
) -> JSONResponse:
    """Deliver again every failed or dead-lettered delivery of a message, with a new retry
    window; the message's status goes back to `retryInProgress`. In each conversation and
    recipient, it still goes before any later message waiting for delivery. `409-901`: nothing
    failed; `409-902`: the content was redacted (`content.redact`)."""
    window = timedelta(seconds=runtime.settings.retry_window_seconds)
    async with runtime.db.session() as session:
        done = await service.redeliver(
            session, tenant_id=caller.tenant_id, message_id=id, now=utcnow(), window=window
        )
        await notify_other_processes(session)
    runtime.wakeup.set()
    return JSONResponse(done, status_code=202)


@router.get(
    "/callbacks",
    operation_id="getCallbackHealth",
    summary="Callback health",
    responses=responses_for((200, 400, 401, 403, 500)),
    response_model=CallbackList,
)
async def get_callbacks(caller: Reader, page: PageDep, runtime: RuntimeDep) -> JSONResponse:
    """Callbacks (a role of a client application) that are failing: their circuit breaker
    (`closed`, `open`: deliveries held; `half_open`: a probe in flight), consecutive failures,
    next probe, and whether a `410 Gone` deactivated them (until the application is replaced)."""
    async with runtime.db.session(write=False) as session:
        found = await service.callbacks(session, tenant_id=caller.tenant_id, page=page)
    return JSONResponse(found)
