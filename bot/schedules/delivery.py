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
from collections.abc import Callable
from typing import Protocol

from bot.reply import Reply
from bot.schedules.spec import Delivery, Limits
from bot.schedules.store import Store

__all__ = ["ChannelGone", "Deliverer", "GaveUp", "Limits", "Pacer", "Poster", "RateLimited"]

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
    ) -> None:
        self.platform = platform
        self.poster = poster
        self.store = store
        self.pacer = Pacer(limits or Limits())
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.queue: asyncio.Queue[tuple[Delivery, Reply]] = asyncio.Queue()
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

    def submit(self, delivery: Delivery, reply: Reply) -> None:
        self.queue.put_nowait((delivery, reply))

    async def _work(self) -> None:
        while True:
            delivery, reply = await self.queue.get()
            try:
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
