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

Which process sends a row: the token's sender (``election``, ``bot.schedules.sender``; a
process alone on its database always is), paced by its ``budget``. Every process writes the
rows of a slot; the sender leases small batches of pending rows, renews its leases while it
holds them, and checks right before each send that the row is still its own — so a sender that
stalled and lost its role to another cannot send a row twice. Small batches bound what a
stalled sender holds. Edits (corrections) are leased the same way: the sender holds the edit
rows it claimed or was handed, and checks them right before editing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol, runtime_checkable

from bot.reply import Reply
from bot.schedules.options import AS_CONFIGURED, Placement, Posted, PostOptions
from bot.schedules.pacing import Budget, Pacer
from bot.schedules.sender import Alone, Election
from bot.schedules.spec import Delivery, Limits
from bot.schedules.store import Store
from bot.schedules.tables import StateTables
from bot.schedules.targets import ChannelFacts

__all__ = [
    "Budget",
    "ChannelGone",
    "Deliverer",
    "EditJob",
    "Editor",
    "GaveUp",
    "Inspector",
    "Limits",
    "Outcome",
    "Pacer",
    "Placement",
    "Posted",
    "Poster",
    "RateLimited",
]

log = logging.getLogger(__name__)

HANDOVER = 1.05
"""Seconds between becoming the sender and the first send: Discord's one-second window of
requests, in which the previous sender's last ones still count (and a margin)."""


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

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        """Send ``reply`` as ``placement`` says (its forum post or thread, published, with its
        ping); return what was posted. A 429 is retried by one layer only: the poster raises
        ``RateLimited`` for the deliverer to wait out, or waits it out itself and raises
        ``GaveUp`` past its bound."""
        ...


@runtime_checkable
class Inspector(Protocol):
    """A platform that can say what a channel is (its kind, tags, the bot's permissions)."""

    async def inspect(self, channel: str, options: PostOptions) -> ChannelFacts | None: ...


@runtime_checkable
class Restores(Protocol):
    """A poster whose own limits outlast a process (Discord's publish budget, kept in the
    store): reloaded when this process becomes the sender, so that it goes on from what the
    previous sender spent instead of from what it knew at its own start."""

    async def restore(self) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """How one delivery ended, for the schedule's health (and its notices)."""

    delivery: Delivery
    ok: bool
    error: str | None = None
    permanent: bool = False
    """The channel is gone or the bot lacks a permission: no retry will help."""


OnOutcome = Callable[[Outcome], Awaitable[None]]


@runtime_checkable
class Editor(Protocol):
    """A poster that can correct what it posted (Discord: edit; Matrix: ``m.replace``)."""

    async def edit(self, channel: str, message_ids: Sequence[str], reply: Reply) -> list[str]:
        """Replace the messages' content with ``reply``; return the ids it now spans (more when
        the corrected post needs another message). ``ChannelGone``: deleted (404), not retried."""
        ...


@dataclass(frozen=True)
class EditJob:
    """Correct one posted delivery with ``reply`` (the post as it would be made now)."""

    delivery: Delivery
    version: str
    """The correction's time (UTC ISO): with the delivery's key, the edit's ledger row."""
    reply: Reply


Build = Callable[[Delivery], Awaitable[tuple[Reply, Placement] | None]]
"""The post for a leased row and where it goes; None when it cannot be built (the row is then
marked failed)."""


class Deliverer:
    """One per platform: leases pending ledger rows, has them built, and a few workers send
    them paced (and the edits this process claimed). It only sends and marks; a gone channel
    is flagged in the store, where ``/schedule list`` reads it."""

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
        tables: StateTables | None = None,
        on_outcome: OnOutcome | None = None,
        election: Election | None = None,
        handover: float = HANDOVER,
    ) -> None:
        self.platform = platform
        self.poster = poster
        self.store = store
        self.build = build
        self.tables = tables
        self.on_outcome = on_outcome
        self.pacer: Budget = budget or Pacer(limits or Limits())
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.poll = poll
        """Seconds between looks at the ledger for rows others wrote or a dead process left."""
        self.ready = ready
        """Returns when the platform can post (Discord: the gateway is READY). Nothing is leased,
        and no budget spent, before: requests held back until then would all go at once."""
        self.queue: asyncio.Queue[Delivery | EditJob] = asyncio.Queue()
        self._workers = workers
        self.batch = batch
        """Most rows this process holds unsent (queued or being sent); it leases more when half
        are sent. Counting only the queue would let the workers take every row the moment it
        was leased, and the sender lease the whole fan-out at once."""
        self._held = 0
        self.election: Election = election or Alone()
        self.handover = handover
        """Seconds a process that became the sender waits before it sends (``HANDOVER``)."""
        self._next_try = 0.0
        self._electing: asyncio.Future[bool] | None = None
        self.sending = isinstance(self.election, Alone)
        """This process is the platform's sender (``bot.schedules.sender``): only the sender
        leases rows and sends them; the others only write them."""
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
            with contextlib.suppress(Exception):
                if self._electing is not None:
                    await self._electing
                await asyncio.to_thread(self.election.resign)
            self._electing = None
            self.sending = isinstance(self.election, Alone)
        while not self.queue.empty():
            self.queue.get_nowait()
            self.queue.task_done()
        self._held = 0

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

    def submit_edit(self, job: EditJob) -> None:
        """Queue an edit whose row this process holds (``Store.claim_edit``/``lease_edits``)."""
        self.queue.put_nowait(job)

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
            room = batch - self._held
            if self._held <= batch // 2 and await self._elected():
                try:
                    rows = await asyncio.to_thread(self.store.lease, self.platform, room)
                except Exception:  # the database is down: try again at the next poll
                    log.exception("could not lease %s posts", self.platform)
                    rows = []
                self._held += len(rows)
                for row in rows:
                    self.queue.put_nowait(row)
            with contextlib.suppress(TimeoutError):
                # Not wait_for: on 3.11 it can swallow a cancel that lands as the wake does,
                # and stop() then waits for this loop forever.
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()
            self._wake.clear()

    async def _elected(self) -> bool:
        """Is this process the sender (taking the role when it is free)? The one that takes it
        frees the old sender's leases at once: its lock is free only once its session ended."""
        was = self.sending
        now = time.monotonic()
        if not was and now < self._next_try:  # woken by a tick: the lock waits for the poll
            return False
        self._next_try = now + self.poll
        # Shielded: a stop() landing now waits for the answer, so that a lock the thread takes
        # after the cancel is still resigned (else this process would hold it unused).
        self._electing = asyncio.ensure_future(asyncio.to_thread(self.election.take))
        try:
            self.sending = await asyncio.shield(self._electing)
        except Exception:
            log.exception("could not ask who sends for %s", self.platform)
            self.sending = False
        if self.sending and not was:
            try:
                freed = await asyncio.to_thread(self.store.take_over, self.platform)
            except Exception:  # they run out within LEASE anyway
                log.exception("could not take over the previous %s sender's rows", self.platform)
            else:
                if freed:
                    log.info("took over %d %s posts from the previous sender", freed, self.platform)
            if isinstance(self.poster, Restores):
                try:
                    await self.poster.restore()
                except Exception:  # posts still go; a spent budget then meets a 429 and holds
                    log.exception(
                        "could not reload the %s limits the last sender used", self.platform
                    )
            # The last sender's requests of its last second still count against the token's
            # limit, and this process never saw them: let them age out before the first send.
            await asyncio.sleep(self.handover)
        return self.sending

    async def _renew(self) -> None:
        """Heartbeat: while this process lives, the rows (and edits) it holds stay its own."""
        while True:
            await asyncio.sleep(self.store.lease_time.total_seconds() / 3)
            try:
                await asyncio.to_thread(self.store.renew)
            except Exception:
                log.exception("could not renew the %s leases", self.platform)

    async def _work(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                if isinstance(job, EditJob):
                    await self.send_edit(job)
                else:
                    prepared = await self.build(job)
                    if prepared is not None:
                        await self.send(job, *prepared)
            except Exception:  # a bug in one post must not stop the others
                if isinstance(job, EditJob):
                    log.exception("edit of %s crashed", job.delivery.key)
                    await asyncio.to_thread(
                        self.store.mark_edit,
                        job.delivery.key,
                        job.version,
                        "failed",
                        "internal error",
                    )
                else:
                    log.exception("delivery %s crashed", job.key)
                    await asyncio.to_thread(
                        self.store.mark, job.key, "failed", error="internal error"
                    )
            finally:
                self.queue.task_done()
                if not isinstance(job, EditJob):
                    self._held -= 1
                    if self._held <= self.batch // 2:
                        self.wake()  # half sent: lease the next rows before the workers go idle

    async def _placed(self, delivery: Delivery, placement: Placement) -> Placement:
        """Paced by this deliverer, in the digest's thread in this channel (looked up just
        before the send: an earlier post of the same digest may have opened it moments ago)."""
        placement = replace(placement, pace=self.pacer.acquire)
        if self.tables is None or placement.thread is not None:
            return placement
        thread = await asyncio.to_thread(
            self.tables.thread_of, self.platform, delivery.channel, delivery.digest_id
        )
        return replace(placement, thread=thread) if thread else placement

    async def _report(self, outcome: Outcome) -> None:
        if self.on_outcome is None:
            return
        try:
            await self.on_outcome(outcome)
        except Exception:  # a failing notice must not fail the delivery
            log.exception("reporting the outcome of %s failed", outcome.delivery.key)

    async def send(
        self, delivery: Delivery, reply: Reply, placement: Placement = AS_CONFIGURED
    ) -> None:
        attempts = 0
        placement = await self._placed(delivery, placement)
        while True:
            # Check the lease first, then send the moment the budget allows: a database round
            # trip between the two would bunch requests up past the global limit.
            if not await asyncio.to_thread(self.store.holds, delivery.key):
                log.info("%s was taken over or finished elsewhere; not sending", delivery.key)
                return
            await self.pacer.acquire(delivery.channel)
            try:
                posted = await self.poster.post(delivery.channel, reply, delivery.nonce, placement)
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
                await self._report(Outcome(delivery, False, error, permanent=True))
                return
            except GaveUp as exc:
                error = f"{type(exc).__name__}: {exc}"
                await asyncio.to_thread(
                    self.store.mark, delivery.key, "failed", error=error, attempted=True
                )
                log.error("not posted %s: %s", delivery.key, error)
                await self._report(Outcome(delivery, False, error))
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
                    await self._report(Outcome(delivery, False, error))
                    return
                log.warning("post to %s failed (%s); retrying", delivery.channel, error)
                await asyncio.sleep(self.backoff * 2 ** (attempts - 1))
                continue
            await asyncio.to_thread(
                partial(
                    self.store.mark,
                    delivery.key,
                    "sent",
                    message_id=posted.message_id,
                    error=posted.note,
                    attempted=True,
                    message_ids=posted.message_ids,
                )
            )
            if posted.note:
                log.warning("posted %s, but %s", delivery.key, posted.note)
            if posted.thread and posted.thread != placement.thread and self.tables is not None:
                await asyncio.to_thread(
                    self.tables.set_thread,
                    self.platform,
                    delivery.channel,
                    delivery.digest_id,
                    posted.thread,
                )
            await self._report(Outcome(delivery, True))
            return

    async def send_edit(self, job: EditJob) -> None:
        """Edit every message of one post, paced like posts; a 404 is noted, never retried."""
        delivery, version = job.delivery, job.version

        async def finish(state: str, error: str | None = None) -> None:
            await asyncio.to_thread(self.store.mark_edit, delivery.key, version, state, error)

        if not isinstance(self.poster, Editor):
            await finish("failed", f"{self.platform} cannot edit posted messages")
            return
        ids = await asyncio.to_thread(self.store.messages, delivery.key)
        if not ids and delivery.message_id:
            ids = [delivery.message_id]  # posted before message ids were kept per message
        if not ids:
            await finish("failed", "no message id was recorded for this post")
            return
        attempts = 0
        while True:
            if not await asyncio.to_thread(self.store.holds_edit, delivery.key, version):
                log.info("edit %s %s was taken over or done elsewhere", delivery.key, version)
                return
            for _ in ids:
                await self.pacer.acquire(delivery.channel)
            try:
                now_ids = await self.poster.edit(delivery.channel, ids, job.reply)
            except RateLimited as exc:
                self.rate_limited += 1
                await self.pacer.penalise(exc.retry_after)
                await asyncio.sleep(exc.retry_after)
                continue
            except ChannelGone as exc:
                log.warning("not corrected %s (deleted?): %s", delivery.key, exc)
                await finish("gone", f"message gone: {exc}")
                return
            except GaveUp as exc:
                await finish("failed", f"{type(exc).__name__}: {exc}")
                return
            except Exception as exc:
                attempts += 1
                error = f"{type(exc).__name__}: {exc}"
                if attempts >= self.max_attempts:
                    log.error("giving up correcting %s: %s", delivery.key, error)
                    await finish("failed", error)
                    return
                await asyncio.sleep(self.backoff * 2 ** (attempts - 1))
                continue
            if list(now_ids) != ids:
                await asyncio.to_thread(self.store.set_messages, delivery.key, list(now_ids))
            await finish("done")
            return
