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
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol, runtime_checkable

from bot.reply import Reply
from bot.schedules.options import AS_CONFIGURED, Placement, Posted, PostOptions
from bot.schedules.spec import Delivery, Limits
from bot.schedules.store import Store
from bot.schedules.tables import StateTables
from bot.schedules.targets import ChannelFacts

__all__ = [
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


class Pacer:
    """Spaces requests so none is refused: a global rate and a per-channel sliding window."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._next_global = 0.0
        self._channels: dict[str, deque[float]] = {}
        self._lock = asyncio.Lock()

    def _delay(self, channel: str, now: float) -> float:
        wait = max(0.0, self._next_global - now)
        window = self._channels.get(channel)
        if window is not None:
            while window and window[0] <= now - self.limits.channel_period:
                window.popleft()
            if len(window) >= self.limits.channel_count:
                wait = max(wait, window[0] + self.limits.channel_period - now)
        return wait

    async def acquire(self, channel: str) -> None:
        async with self._lock:
            while True:
                now = self.clock()
                wait = self._delay(channel, now)
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            interval = 1.0 / self.limits.per_second
            # Keep to the timetable: a sleep that overran by a millisecond must not push every
            # later request back (that drift alone costs ~5 % over a long fan-out); only after
            # an idle spell does the timetable restart from now.
            base = self._next_global if self._next_global >= now - interval else now
            self._next_global = base + interval
            self._channels.setdefault(channel, deque()).append(now)

    async def penalise(self, seconds: float) -> None:
        """A 429 came anyway: hold everyone back for ``retry_after``."""
        self._next_global = max(self._next_global, self.clock() + seconds)


class Deliverer:
    """One per platform: a queue of (ledger row, built post) and a few workers that send them
    paced. It only sends and marks: the scheduler builds the post; a gone channel is flagged in
    the store, where ``/schedule list`` reads it."""

    def __init__(
        self,
        platform: str,
        poster: Poster,
        store: Store,
        *,
        limits: Limits | None = None,
        workers: int = 32,
        max_attempts: int = 5,
        backoff: float = 1.0,
        tables: StateTables | None = None,
        on_outcome: OnOutcome | None = None,
    ) -> None:
        self.platform = platform
        self.poster = poster
        self.store = store
        self.tables = tables
        self.on_outcome = on_outcome
        self.pacer = Pacer(limits or Limits())
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.queue: asyncio.Queue[tuple[Delivery, Reply, Placement] | EditJob] = asyncio.Queue()
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []
        self.rate_limited = 0

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"deliver-{self.platform}-{i}")
            for i in range(self._workers)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def join(self) -> None:
        await self.queue.join()

    def submit(
        self, delivery: Delivery, reply: Reply, placement: Placement = AS_CONFIGURED
    ) -> None:
        self.queue.put_nowait((delivery, reply, placement))

    def submit_edit(self, job: EditJob) -> None:
        self.queue.put_nowait(job)

    async def _work(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                if isinstance(job, EditJob):
                    await self.send_edit(job)
                else:
                    await self.send(*job)
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
                    log.exception("delivery %s crashed", job[0].key)
                    await asyncio.to_thread(
                        self.store.mark, job[0].key, "failed", error="internal error"
                    )
            finally:
                self.queue.task_done()

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
