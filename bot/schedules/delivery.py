"""Getting one post out: pacing under the platform's limits, retries, and the ledger's marks.

A ``Poster`` is what a platform adapter provides; it raises ``RateLimited`` on a 429 that got
through anyway (honoured, then retried), ``ChannelGone`` on 403/404 (reported, the schedule
flagged, never retried: such requests count towards Discord's invalid-request ban), ``GaveUp``
when it has retried on its own already (marked failed, not retried twice), and anything
else is transient (retried with backoff a bounded number of times, then marked failed and shown
in ``/schedule list``; never silently dropped).

"Once" for a send whose answer was lost: the ledger row stays ``pending`` and is sent again with
the same deterministic nonce; Discord (``enforce_nonce``) answers a repeated nonce with the first
message for a few minutes, so the only window for a duplicate is a crash followed by a restart
later than that. We prefer that rare duplicate to a silent loss.

Which process sends a row: whichever leases it (``Store.lease``). Every process writes the rows
of a slot; each ``Deliverer`` takes small batches of pending rows it may lease, renews its
leases while it holds them, and checks right before each send that the row is still its own.
Small batches keep the work spread over the processes and bound what a killed one leaves to
be taken over when its leases run out. The pace is the token's budget (``budget``): shared by
every process on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.reply import Reply
from bot.schedules.pacing import Budget, Pacer
from bot.schedules.spec import Delivery, Limits
from bot.schedules.store import Store

__all__ = [
    "Budget",
    "ChannelGone",
    "Deliverer",
    "GaveUp",
    "Limits",
    "Pacer",
    "Poster",
    "RateLimited",
]

log = logging.getLogger(__name__)


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.2f} s")
        self.retry_after = retry_after


class ChannelGone(Exception):
    """403/404: the channel is gone or the bot may not post there. Not retried."""


class GaveUp(Exception):
    """The poster already retried this as often as it should (Matrix waits out its own 429s):
    marked failed at once, not retried here too — one retry layer."""


class Poster(Protocol):
    """What a platform gives the deliverer: one message (or a few) in a channel."""

    async def post(self, channel: str, reply: Reply, nonce: str) -> str:
        """Send ``reply``; return the platform's message id. A 429 is retried by one layer
        only: the poster raises ``RateLimited`` for the deliverer to wait out, or waits it out
        itself and raises ``GaveUp`` past its bound."""
        ...


Build = Callable[[Delivery], Awaitable[Reply | None]]
"""The post for a leased row; None when it cannot be built (the row is then marked failed)."""


class Deliverer:
    """One per platform: leases pending ledger rows, has them built, and a few workers send
    them paced. It only sends and marks; a gone channel is flagged in the store, where
    ``/schedule list`` reads it."""

    def __init__(
        self,
        platform: str,
        poster: Poster,
        store: Store,
        build: Build,
        *,
        limits: Limits | None = None,
        budget: Budget | None = None,
        workers: int = 32,
        batch: int = 8,
        max_attempts: int = 5,
        backoff: float = 1.0,
        poll: float = 1.0,
        ready: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.platform = platform
        self.poster = poster
        self.store = store
        self.build = build
        self.pacer: Budget = budget or Pacer(limits or Limits())
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.poll = poll
        """Seconds between looks at the ledger for rows others wrote or a dead process left."""
        self.ready = ready
        """Returns when the platform can post (Discord: the gateway is READY). Nothing is leased,
        and no budget spent, before: requests held back until then would all go at once."""
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._workers = workers
        self.batch = batch
        """Rows leased at a time (and the low-water mark for the next lease): small, so that
        several processes share a fan-out and a killed one strands few rows."""
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self.rate_limited = 0

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"deliver-{self.platform}-{i}")
            for i in range(self._workers)
        ]
        self._tasks.append(asyncio.create_task(self._feed(), name=f"lease-{self.platform}"))
        self._tasks.append(asyncio.create_task(self._renew(), name=f"renew-{self.platform}"))

    async def stop(self) -> None:
        running = bool(self._tasks)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if running:
            with contextlib.suppress(Exception):  # a dead database: the leases run out instead
                await asyncio.to_thread(self.store.release)
        while not self.queue.empty():
            self.queue.get_nowait()
            self.queue.task_done()

    def wake(self) -> None:
        """New rows were written: look at the ledger now rather than at the next poll."""
        self._wake.set()

    async def join(self) -> None:
        """Until no pending row is left that this process holds or could take."""
        while True:
            await self.queue.join()
            if not await asyncio.to_thread(self.store.waiting, self.platform):
                return
            self.wake()
            await asyncio.sleep(0.02)

    async def _feed(self) -> None:
        """Keep the queue topped up with leased rows."""
        batch = max(1, self.batch)
        while self.ready is not None:
            try:
                await self.ready()
                break
            except Exception as exc:  # not connected yet: the rows wait in the ledger
                log.warning("%s cannot post yet (%s); its posts wait", self.platform, exc)
                await asyncio.sleep(self.poll)
        while True:
            if self.queue.qsize() < batch:
                try:
                    rows = await asyncio.to_thread(self.store.lease, self.platform, batch)
                except Exception:  # the database is down: try again at the next poll
                    log.exception("could not lease %s posts", self.platform)
                    rows = []
                for row in rows:
                    self.queue.put_nowait(row)
                if len(rows) == batch:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)
            self._wake.clear()

    async def _renew(self) -> None:
        """Heartbeat: while this process lives, the rows it holds stay its own."""
        while True:
            await asyncio.sleep(self.store.lease_time.total_seconds() / 3)
            try:
                await asyncio.to_thread(self.store.renew)
            except Exception:
                log.exception("could not renew the %s leases", self.platform)

    async def _work(self) -> None:
        while True:
            delivery = await self.queue.get()
            if self.queue.qsize() < self.batch:
                self.wake()  # running low: lease the next batch before the workers go idle
            try:
                reply = await self.build(delivery)
                if reply is not None:
                    await self.send(delivery, reply)
            except Exception:  # a bug in one post must not stop the others
                log.exception("delivery %s crashed", delivery.key)
                await asyncio.to_thread(
                    self.store.mark, delivery.key, "failed", error="internal error"
                )
            finally:
                self.queue.task_done()

    async def send(self, delivery: Delivery, reply: Reply) -> None:
        attempts = 0
        while True:
            # Check the lease first, then send the moment the budget allows: a database round
            # trip between the two would bunch requests up past the global limit.
            if not await asyncio.to_thread(self.store.holds, delivery.key):
                log.info("%s was taken over or finished elsewhere; not sending", delivery.key)
                return
            await self.pacer.acquire(delivery.channel)
            try:
                message_id = await self.poster.post(delivery.channel, reply, delivery.nonce)
            except RateLimited as exc:
                self.rate_limited += 1
                log.warning("429 on %s: retrying after %.2f s", delivery.channel, exc.retry_after)
                await self.pacer.penalise(exc.retry_after)
                await asyncio.sleep(exc.retry_after)
                continue
            except ChannelGone as exc:
                error = f"cannot post to {delivery.channel}: {exc}"
                await asyncio.to_thread(
                    self.store.mark, delivery.key, "failed", error=error, attempted=True
                )
                await asyncio.to_thread(self.store.flag, delivery.schedule_id, error)
                log.error("%s (schedule %s flagged)", error, delivery.schedule_id)
                return
            except GaveUp as exc:
                error = f"{type(exc).__name__}: {exc}"
                await asyncio.to_thread(
                    self.store.mark, delivery.key, "failed", error=error, attempted=True
                )
                log.error("not posted %s: %s", delivery.key, error)
                return
            except Exception as exc:
                attempts += 1
                error = f"{type(exc).__name__}: {exc}"
                if attempts >= self.max_attempts:
                    await asyncio.to_thread(
                        self.store.mark, delivery.key, "failed", error=error, attempted=True
                    )
                    log.error(
                        "giving up on %s after %d attempts: %s", delivery.key, attempts, error
                    )
                    return
                log.warning("post to %s failed (%s); retrying", delivery.channel, error)
                await asyncio.sleep(self.backoff * 2 ** (attempts - 1))
                continue
            await asyncio.to_thread(
                self.store.mark, delivery.key, "sent", message_id=message_id, attempted=True
            )
            return
