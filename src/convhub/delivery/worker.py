"""The delivery worker: claims due deliveries from the outbox, calls the recipients' callbacks,
and records each outcome (DECISIONS §8).

Runs inside ``convhub serve`` or alone (``convhub worker``); any number of workers may share a
PostgreSQL database. A worker wakes on new work at once (in-process signal, and LISTEN on
PostgreSQL) and otherwise sleeps until the next retry falls due.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import socket
import time
import uuid
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.engine import make_url

from convhub.conversations import repository as conversations
from convhub.core.database import utcnow
from convhub.core.runtime import Runtime
from convhub.delivery import health, outbox, recording
from convhub.delivery.batcher import Batcher
from convhub.delivery.client import CallbackClient, CallbackTarget, Outcome
from convhub.delivery.signal import Listener
from convhub.delivery.targets import Targets
from convhub.models import Delivery, Tenant

log = structlog.get_logger(__name__)

# Longest sleep without work: a safety net should a wake-up ever be missed.
_IDLE = 1.0
# Seconds between two looks for circuit breakers whose probe is due.
_PROBE_LOOK = 0.25
# Longest wait after a claim that found fewer due deliveries than it asked for.
_AFTER_PARTIAL = 0.05
# Batches of delivered outcomes written at once.
_RECORDERS = 4

Target = CallbackTarget | str
# Deliveries of one lane (conversation, recipient application) in order, posted one after the
# other in one slot: the lane's head and those a claim took with it (outbox.claim's ``run``).
Run = list[tuple[Delivery, Target]]
Lane = tuple[str, str]


def _lane(delivery: Delivery) -> Lane:
    return (delivery.conversation_id, delivery.recipient_app_id)


class DeliveryWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.client = CallbackClient(allow_private=settings.allow_private_callbacks)
        self.capacity = settings.worker_concurrency
        self.lane_run = settings.delivery_lane_run
        self.lease = timedelta(seconds=settings.delivery_lease_seconds)
        self.probe = timedelta(seconds=settings.breaker_probe_seconds)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._secrets: dict[str, str] = {}
        self._last_sweep = 0.0
        self._next_probe_look = 0.0
        self._in_flight: set[str] = set()
        self._lanes: set[Lane] = set()  # lanes with a run waiting for a slot or being posted
        self._calling = 0  # runs being posted (their last outcome not yet known)
        self._ready: collections.deque[Run] = collections.deque()
        # More may be due than the last claim took (it took all it asked for, or the loop could
        # not claim for want of slots): a callback's end, freeing a slot, wakes the loop then.
        # Otherwise what falls due is announced (new deliveries, a lane's next one, a retry).
        self._more_due = False
        self._claims = 0  # claims made so far (see _record_delivered)
        self.targets = Targets(runtime.box)
        # Delivered outcomes (nearly all of them) are recorded in batches: a few statements for
        # many callbacks. Every other outcome is recorded on its own (recording.record).
        # On PostgreSQL several batches are written at once, a lane always by the same one: its
        # outcomes are committed in the order its callbacks were answered (one batch at a time
        # had become the bound of a busy worker). SQLite writes one transaction at a time.
        recorders = _RECORDERS if runtime.db.autocommits else 1
        self._delivered: list[Batcher[tuple[Delivery, Outcome]]] = [
            Batcher(self._record_delivered) for _ in range(recorders)
        ]

    async def run(self) -> None:
        listener = self._listen()
        try:
            while not self._stopping:
                if self._wanted() < max(1, self.capacity // 4):
                    # Slots and reserve nearly full: claim when a quarter can be taken, in one
                    # query, rather than one claim per finished callback (each reads the queue).
                    self._more_due = True
                    await self.runtime.wakeup.wait(_IDLE)
                    continue
                asked = self._wanted()
                claimed = await self._claim(asked)
                self._claims += 1
                heads = len({_lane(delivery) for delivery, _ in claimed})
                self._more_due = heads >= asked
                await self._queue(claimed)
                self._start_ready()
                if not claimed:
                    await self._sweep()
                    await self.runtime.wakeup.wait(await self._idle_seconds())
                elif heads < asked:
                    # Fewer than asked: nothing else is due now. Claiming again at once would
                    # read the queue for nothing (one empty claim per message under a steady
                    # load); the next message or finished callback wakes the loop, and a retry
                    # falling due meanwhile waits this long at most.
                    await self.runtime.wakeup.wait(_AFTER_PARTIAL)
        finally:
            if listener is not None:
                await listener.close()

    async def _queue(self, claimed: list[tuple[Delivery, Target]]) -> None:
        """Claimed deliveries into runs, one per lane, in order, ready for a slot."""
        runs: dict[Lane, Run] = {}
        for delivery, target in claimed:
            runs.setdefault(_lane(delivery), []).append((delivery, target))
        elsewhere: list[str] = []
        for lane, run in runs.items():
            mine = [delivery.id for delivery, _ in run if delivery.id in self._in_flight]
            if mine or lane in self._lanes:
                # A run of ours still has this lane: it waits for a slot or is being posted, or
                # an attempt of ours outlasted its lease (the claim renewed it: a second attempt
                # would only send it twice). What follows goes after it, from a claim of its own.
                elsewhere.extend(d.id for d, _ in run if d.id not in self._in_flight)
                continue
            run.sort(key=lambda item: item[0].seq)
            self._in_flight.update(delivery.id for delivery, _ in run)
            self._lanes.add(lane)
            self._ready.append(run)
        if elsewhere:
            await self._release(elsewhere)

    def _wanted(self) -> int:
        """How many deliveries to claim: the free slots, and a reserve of half as many again
        (claimed ahead, leased, started the moment a slot frees: a slot never waits for a claim
        to come back). Recording an outcome (in the next batch) does not hold a slot, but no
        more than a second capacity's worth of outcomes may wait to be recorded."""
        free = min(self.capacity - self._calling, 2 * self.capacity - len(self._tasks))
        return free + self.capacity // 2 - len(self._ready)

    def _start_ready(self) -> None:
        while self._ready and self._calling < self.capacity and not self._stopping:
            if len(self._tasks) >= 2 * self.capacity:
                return
            run = self._ready.popleft()
            self._calling += 1
            task = asyncio.create_task(self._deliver(run))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(self._finished)

    def _finished(self, _task: asyncio.Task[None]) -> None:
        self._start_ready()  # if it waited for the outcomes to be recorded
        self._slot_freed()

    def _slot_freed(self) -> None:
        """The loop claims again if more may be due. Not otherwise: under a steady load, a
        claim per finished callback (and the look for the next due time that follows an empty
        one) cost more than the delivery itself."""
        if self._more_due:
            self.runtime.wakeup.set()

    async def stop(self, *, grace: float = 10.0) -> None:
        self._stopping = True
        self.runtime.wakeup.set()
        await self._release_ready()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        for batcher in self._delivered:
            await batcher.aclose()
        await self.client.aclose()

    async def _release_ready(self) -> None:
        """Give back the leases of deliveries claimed ahead and not started: another worker
        (or this one, restarted) takes them at once rather than when the leases run out."""
        ids = [delivery.id for run in self._ready for delivery, _ in run]
        self._lanes.difference_update(_lane(run[0][0]) for run in self._ready)
        self._ready.clear()
        if ids:
            await self._release(ids)

    async def _release(self, ids: list[str]) -> None:
        try:
            async with self.runtime.db.session() as session:
                await outbox.release(session, ids=ids, owner=self.owner)
        except Exception:  # the leases run out all the same
            log.exception("outbox_release_failed")

    async def _claim(self, wanted: int) -> list[tuple[Delivery, Target]]:
        """Leases on due deliveries, each with where it goes (or why it cannot go), read in
        the claim's transaction."""
        if wanted <= 0:
            return []
        try:
            # Breakers' probes fall due seconds apart: looking for them four times a second, not
            # at every claim, spares most claims a query (a probe waits 0.25 s at most).
            probes = time.monotonic() >= self._next_probe_look
            if probes:
                self._next_probe_look = time.monotonic() + _PROBE_LOOK
            # No transaction: the claim is one UPDATE ... RETURNING (and, four times a second,
            # one for the probes), each atomic on its own; BEGIN and COMMIT were two round
            # trips on the way from the commit of a message to its callback.
            async with self.runtime.db.session(transaction=False, by_index=True) as session:
                claimed = await outbox.claim(
                    session,
                    owner=self.owner,
                    limit=wanted,
                    lease=self.lease,
                    probe=self.probe,
                    probes=probes,
                    run=self.lane_run,
                )
                targets = await self.targets.prepare(session, claimed)
            return [(c.delivery, targets[c.delivery.id]) for c in claimed]
        except Exception:  # the database is away: try again shortly, never die
            log.exception("outbox_claim_failed")
            await asyncio.sleep(_IDLE)
            return []

    async def _sweep(self) -> None:
        """Timeouts ride on the same loop: complete conversations whose time is up, once a
        second at most (DECISIONS §6)."""
        if time.monotonic() - self._last_sweep < _IDLE:
            return
        self._last_sweep = time.monotonic()
        try:
            async with self.runtime.db.session() as session:
                expired = await conversations.complete_expired(session, now=utcnow())
            if expired:
                log.info("conversations_expired", count=expired)
        except Exception:
            log.exception("expiry_sweep_failed")

    async def _idle_seconds(self) -> float:
        with contextlib.suppress(Exception):
            async with self.runtime.db.session(transaction=False, by_index=True) as session:
                due = await outbox.next_due_at(session)
            if due is not None:
                return max(0.0, min(_IDLE, (due - utcnow()).total_seconds()))
        return _IDLE

    async def _deliver(self, run: Run) -> None:
        """Post a run's deliveries in order, each once the one before was delivered; after one
        that was not, or once the run's leases grow short, give the rest back: they go out
        from a later claim, in order still."""
        recordings: list[asyncio.Task[None]] = []
        answered = 0  # the run's deliveries answered so far
        try:
            for i, (delivery, target) in enumerate(run):
                if i and (self._stopping or not self._holds(delivery)):
                    break
                outcome = await self._attempt_logged(delivery, target)
                answered = i + 1
                # Answered: a claim that takes it again (its retry fell due, or its lease ran out
                # while the outcome is being recorded) is to attempt it again, not to skip it.
                self._in_flight.discard(delivery.id)
                # Recorded while the next one is posted (a delivered one in the next batch): the
                # receiver has answered, so the order it sees is kept whatever the recording does.
                recordings.append(asyncio.create_task(self._record(delivery, outcome)))
                if outcome.result != "delivered":
                    break
        finally:
            rest = [delivery.id for delivery, _ in run[answered:]]
            self._in_flight.difference_update(rest)  # not attempted: free to be claimed again
            self._calling -= 1
            self._lanes.discard(_lane(run[0][0]))
            self._start_ready()  # the next run takes the slot at once
            self._slot_freed()
        if rest:
            await self._release(rest)
            self.runtime.wakeup.set()
        await asyncio.gather(*recordings)

    def _holds(self, delivery: Delivery) -> bool:
        """Whether our lease on ``delivery`` outlasts an attempt (a token request and the
        callback, each within the client's timeout): past it, another worker may take it."""
        left = delivery.lease_until - utcnow() if delivery.lease_until is not None else None
        return left is not None and left > timedelta(seconds=2 * self.client.timeout)

    async def _attempt_logged(self, delivery: Delivery, target: Target) -> Outcome:
        try:
            outcome = await self._attempt(delivery, target)
        except Exception as exc:  # our own fault (configuration gone, ...): retried later
            log.exception("delivery_attempt_error", delivery=delivery.id)
            reason = f"{health.INTERNAL_ERROR}: {type(exc).__name__}"
            outcome = Outcome("retry", None, None, reason, 0.0)
        log.info(
            "delivery_attempt",
            tenant=delivery.tenant_id,
            delivery=delivery.id,
            message=delivery.message_id,
            conversation=delivery.conversation_id,
            attempt=delivery.attempts,
            result=outcome.result,
            status=outcome.status_code,
            error=outcome.error,
            elapsed_ms=round(outcome.elapsed * 1000, 1),
        )
        return outcome

    async def _record(self, delivery: Delivery, outcome: Outcome) -> None:
        mail = None
        try:
            if outcome.result == "delivered":
                # Wakes the loop when the lane's next delivery is waiting (_record_delivered).
                recorder = self._delivered[hash(_lane(delivery)) % len(self._delivered)]
                await recorder.submit((delivery, outcome))
            else:
                async with self.runtime.db.session() as session:
                    mail = await recording.record(
                        session, self.runtime, delivery=delivery, owner=self.owner, outcome=outcome
                    )
                # A failure lets the lane's next delivery go; a retry may fall due first.
                self.runtime.wakeup.set()
        except Exception:  # the lease expires and the delivery is tried again
            log.exception("delivery_record_failed", delivery=delivery.id)
            self.runtime.wakeup.set()
        if mail is not None:
            try:
                await recording.send_notice(self.runtime, mail)
            except Exception:  # best effort: the failure is recorded, the error message sent
                log.exception("notice_mail_failed", to=mail.to)

    async def _attempt(self, delivery: Delivery, target: Target) -> Outcome:
        if isinstance(target, str):  # no callback, or a deactivated one
            return Outcome("failed", None, None, target, 0.0)
        return await self.client.deliver(
            target,
            body=delivery.payload.encode(),
            webhook_id=delivery.message_id,
            signing_secret=await self._signing_secret(delivery.tenant_id),
        )

    async def _record_delivered(self, batch: list[tuple[Delivery, Outcome]]) -> None:
        db = self.runtime.db
        if not db.autocommits or recording.needs_transaction(batch):
            async with db.session() as session:
                await recording.record_delivered(
                    session, self.runtime, owner=self.owner, batch=batch
                )
            self.runtime.wakeup.set()  # the lanes' next deliveries are due
            return
        claims = self._claims
        async with db.session(transaction=False, by_index=True) as session:
            recorded = await recording.record_delivered_at_once(
                session, owner=self.owner, batch=batch
            )
        # The loop claims again if a lane's next delivery waits, or if a claim ran meanwhile:
        # it may have found the next one still behind this batch's, written after the
        # recording's statement began (so unseen by it).
        if recorded.successors or self._claims != claims:
            self.runtime.wakeup.set()
        if recorded.unhealthy:
            try:
                async with db.session() as session:
                    await health.on_delivered(
                        session, recorded.unhealthy, now=utcnow(), settings=self.runtime.settings
                    )
            except Exception:  # recorded all the same; the callback's next answer clears it
                log.exception("callback_health_update_failed")

    async def _signing_secret(self, tenant_id: str) -> str:
        if tenant_id not in self._secrets:
            async with self.runtime.db.session(write=False) as session:
                tenant = (
                    await session.execute(select(Tenant).where(Tenant.id == tenant_id))
                ).scalar_one()
            self._secrets[tenant_id] = self.runtime.box.open(tenant.signing_secret)
        return self._secrets[tenant_id]

    def _listen(self) -> Listener | None:
        """On PostgreSQL, wake up when another process commits deliveries (pg_notify)."""
        url = make_url(self.runtime.db.url)
        if url.get_backend_name() != "postgresql":
            return None
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        listener = Listener(dsn, self.runtime.wakeup)
        listener.start()
        return listener
