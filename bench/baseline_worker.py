"""The delivery baseline: the thinnest worker on convhub's stack that does what delivering a
queued message must do at the least, so that end to end and drain can be read against it.

It takes the rows bench/baseline_app.py queued (``baseline_outbox``, PostgreSQL), and for each
POSTs its payload to one callback URL and marks it delivered:

- a claim is one autocommitted statement through convhub's own ``Database`` (SQLAlchemy Core,
  asyncpg, the same pool): due rows oldest first, ``FOR UPDATE SKIP LOCKED``, marked taken;
- the rows of one conversation are posted one after the other (a lane in memory), different
  conversations at once: at most 128 callbacks in flight (convhub's ``worker_concurrency``),
  aiohttp with one connection pool (convhub's callback client);
- what was delivered is marked in one statement per batch, as it comes;
- a statement trigger's NOTIFY wakes the claim at once (convhub's migration 0008), and the claim
  looks again whenever the rows it holds have room, or once a second.

No authentication, no signature, no retry, no recovery of rows taken by a worker that died, no
health, no redaction: everything convhub adds on top of this is what the ratio measures. One
process only (its lanes are in memory).

    python -m bench.baseline_worker CALLBACK_URL    (CONVHUB_DATABASE_URL names the database)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import deque
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import uvloop
from sqlalchemy import text
from sqlalchemy.engine import make_url

from convhub.core.database import Database

CHANNEL = "baseline_outbox"
CONCURRENCY = 128  # callbacks in flight at most (convhub's worker_concurrency default)
# Rows claimed and not yet recorded, at most: taken oldest first, enough of them to span the
# conversations that 128 callbacks in flight need (a queue written conversation by conversation).
HELD = 32 * CONCURRENCY
IDLE_LOOK_SECONDS = 1.0

CLAIM = text(
    """
    UPDATE baseline_outbox SET state = 'taken'
    WHERE id IN (
        SELECT id FROM baseline_outbox WHERE state = 'pending'
        ORDER BY id LIMIT :room FOR UPDATE SKIP LOCKED
    )
    RETURNING id, conversation_id, payload
    """
)
DELIVERED = text("UPDATE baseline_outbox SET state = 'delivered' WHERE id = ANY(:ids)")


class Worker:
    def __init__(self, url: str, callback: str) -> None:
        self.db = Database(url)
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
        self.callback = callback
        self.wake = asyncio.Event()
        self.lanes: dict[str, deque[tuple[int, bytes]]] = {}
        self.held = 0
        self.full = False  # the last claim took all it had room for: more may be due
        self.delivered: list[int] = []
        self.recorded = asyncio.Event()
        self.slots = asyncio.Semaphore(CONCURRENCY)
        self.tasks: set[asyncio.Task[Any]] = set()

    async def run(self) -> None:
        listener = await asyncpg.connect(self.dsn)
        await listener.add_listener(CHANNEL, lambda *_args: self.wake.set())
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        self.http = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        recorder = asyncio.create_task(self._record())
        print("listening", flush=True)  # what harness.baseline_worker waits for
        try:
            while True:
                self.wake.clear()
                room = HELD - self.held
                if room > 0:
                    async with self.db.session(transaction=False) as session:
                        rows = (await session.connection()).execute(CLAIM, {"room": room})
                        claimed = sorted((await rows).all())
                    self.held += len(claimed)
                    for delivery_id, conversation, payload in claimed:
                        self._queue(conversation, delivery_id, payload.encode())
                    self.full = len(claimed) == room
                    if self.full:
                        continue
                else:
                    self.full = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), IDLE_LOOK_SECONDS)
        finally:
            recorder.cancel()
            await self.http.close()
            await listener.close()
            await self.db.dispose()

    def _queue(self, conversation: str, delivery_id: int, payload: bytes) -> None:
        lane = self.lanes.get(conversation)
        if lane is not None:  # a lane already posting: it takes this one after the others
            lane.append((delivery_id, payload))
            return
        self.lanes[conversation] = deque([(delivery_id, payload)])
        task = asyncio.create_task(self._post_lane(conversation))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _post_lane(self, conversation: str) -> None:
        lane = self.lanes[conversation]
        while lane:
            delivery_id, payload = lane[0]
            async with self.slots:
                async with self.http.post(
                    self.callback, data=payload, headers={"Content-Type": "application/json"}
                ) as answer:
                    await answer.read()
            lane.popleft()
            self.delivered.append(delivery_id)
            self.recorded.set()
        del self.lanes[conversation]

    async def _record(self) -> None:
        while True:
            await self.recorded.wait()
            self.recorded.clear()
            ids, self.delivered = self.delivered, []
            async with self.db.session(transaction=False) as session:
                await (await session.connection()).execute(DELIVERED, {"ids": ids})
            self.held -= len(ids)
            if self.full:  # new rows wake the claim by their NOTIFY; these, only room does
                self.wake.set()


async def _main(callback: str) -> None:
    worker = Worker(os.environ["CONVHUB_DATABASE_URL"], callback)
    task = asyncio.create_task(worker.run())
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    uvloop.run(_main(sys.argv[1]))


if __name__ == "__main__":
    main()
