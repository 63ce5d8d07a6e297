"""Group commit: items handed in one by one, written in batches by one task.

Each caller waits for its own item's result. While a batch is being written, the items that
arrive meanwhile gather and go in the next one: under load the batches grow by themselves, and
alone an item is written at once (no timer, no added latency).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class Batcher(Generic[Item]):
    def __init__(
        self, write: Callable[[list[Item]], Awaitable[None]], *, max_batch: int = 256
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[None]]] = []
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> None:
        """Wait until ``item`` was written in a batch; raises what the batch's write raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        self._arrived.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        await done

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        batch: list[tuple[Item, asyncio.Future[None]]] = []
        try:
            while True:
                await self._arrived.wait()
                self._arrived.clear()
                while self._waiting:
                    batch = self._waiting[: self._max_batch]
                    del self._waiting[: self._max_batch]
                    try:
                        await self._write([item for item, _ in batch])
                    except Exception as exc:
                        _settle(batch, exc)
                    else:
                        _settle(batch, None)
        finally:  # closed: nobody waits forever
            _settle(batch + self._waiting, asyncio.CancelledError())
            self._waiting.clear()


def _settle(batch: list[tuple[Item, asyncio.Future[None]]], error: BaseException | None) -> None:
    for _, done in batch:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
