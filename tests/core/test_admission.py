"""Admission control: beyond ``max_in_flight`` requests in flight, the excess is answered at once
with 503-100, ``Retry-After`` and a WSErrorCommon body; never a 500, and every admitted request
completes. Counted, not timed: requests are held in the handler until the test releases them."""

from __future__ import annotations

import asyncio
import threading

import httpx
from fastapi import FastAPI

from convhub.app import create_app
from convhub.core import error_handlers
from convhub.core.admission import AdmissionControl
from convhub.core.errors import InternalError
from tests.server import running_server

LIMIT = 3


class _Entered:
    """How many /held requests reached the handler; the test waits on it from its own loop."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def add(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    async def reach(self, count: int) -> None:
        def wait() -> None:
            with self._changed:
                self._changed.wait_for(lambda: self.count >= count)

        await asyncio.to_thread(wait)


def _held_app() -> tuple[FastAPI, threading.Event, _Entered]:
    """An app whose /held requests wait for ``gate`` once they entered the handler."""
    gate, entered = threading.Event(), _Entered()
    app = FastAPI()

    @app.get("/held")
    async def held() -> dict[str, str]:
        entered.add()
        await asyncio.to_thread(gate.wait)
        return {"ok": "yes"}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(AdmissionControl, max_in_flight=LIMIT, retry_after=2)
    return app, gate, entered


async def test_the_excess_is_shed_with_503_and_retry_after(settings) -> None:
    app, gate, entered = _held_app()
    with running_server(settings, app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            admitted = [asyncio.create_task(http.get("/held")) for _ in range(LIMIT)]
            await entered.reach(LIMIT)
            shed = await asyncio.gather(*(http.get("/held") for _ in range(5)))
            # Probes pass while saturated.
            assert (await http.get("/health")).status_code == 200
            wanted = await http.get("/held", headers={"X-egain-error-message": "yes"})
            gate.set()
            done = await asyncio.gather(*admitted)
            after = await http.get("/held")

    assert [a.status_code for a in done] == [200] * LIMIT
    assert [a.status_code for a in shed] == [503] * 5
    for answer in shed:
        assert answer.headers["retry-after"] == "2"
        assert answer.json() == {
            "code": "503-100",
            "developerMessage": "The service is busy. Retry the request after 2 seconds.",
        }
    assert wanted.status_code == 503
    assert wanted.json()["userMessage"] == "The service is busy. Please try again shortly."
    assert after.status_code == 200  # slots are given back
    assert entered.count == LIMIT + 1  # a shed request never reached the handler


async def test_a_handler_error_gives_its_slot_back(settings) -> None:
    app = FastAPI()
    error_handlers.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise InternalError()

    control: list[AdmissionControl] = []

    class Recorded(AdmissionControl):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            control.append(self)

    app.add_middleware(Recorded, max_in_flight=1, retry_after=1)
    with running_server(settings, app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            statuses = [(await http.get("/boom")).status_code for _ in range(3)]
    assert statuses == [500, 500, 500]  # the handler's own error, never a shed 503
    assert control[0].in_flight == 0
    assert control[0].shed == 0


def test_the_service_is_wired_with_the_settings(settings) -> None:
    app = create_app(
        settings.model_copy(update={"max_in_flight": 7, "busy_retry_after_seconds": 3})
    )
    [admission] = [m for m in app.user_middleware if m.cls is AdmissionControl]
    assert admission.kwargs == {"max_in_flight": 7, "retry_after": 3}


async def test_no_limit_when_zero(settings) -> None:
    app, gate, entered = _held_app()
    app.user_middleware.clear()
    app.add_middleware(AdmissionControl, max_in_flight=0, retry_after=1)
    with running_server(settings, app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            held = [asyncio.create_task(http.get("/held")) for _ in range(LIMIT * 3)]
            await entered.reach(LIMIT * 3)
            gate.set()
            answers = await asyncio.gather(*held)
    assert [a.status_code for a in answers] == [200] * LIMIT * 3
