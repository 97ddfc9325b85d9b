"""The feed poller: each feed on its own interval, backing off after failures, never stopping.

Meant to run as one task beside the platforms. A poll that fails is recorded (once) by the
ingestor and the feed is tried again later — twice the interval after each failure, at most 6 h —
so a broken feed never stops the others and never stops being polled. Unreviewed drafts past
their expiry are marked expired on the way (never approved).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from bot.pipeline.ingest import FeedSpec, Ingestor, Outcome

log = logging.getLogger(__name__)

OnQueued = Callable[[Outcome], Awaitable[None]]


class Poller:
    def __init__(
        self,
        ingestor: Ingestor,
        feeds: Sequence[FeedSpec],
        *,
        on_outcome: OnQueued | None = None,
        max_sleep: float = 60.0,
    ) -> None:
        self.ingestor = ingestor
        self.feeds = tuple(feeds)
        self.on_outcome = on_outcome
        self.max_sleep = max_sleep
        self._due: dict[str, datetime] = {}

    async def _load(self) -> None:
        for feed in self.feeds:
            state = await asyncio.to_thread(self.ingestor.queue.feed, feed.url)
            if state.polled_at is None:
                self._due[feed.url] = self.ingestor.clock()
            else:
                self._due[feed.url] = state.polled_at + self.ingestor.backoff(feed, state.failures)

    async def poll_due(self) -> list[Outcome]:
        """Poll every feed whose time has come; return what each poll did."""
        if not self._due:
            await self._load()
        now = self.ingestor.clock()
        expired = await asyncio.to_thread(self.ingestor.queue.expire, now)
        for draft_id in expired:
            log.info("draft %d expired unreviewed (never auto-approved)", draft_id)
        outcomes: list[Outcome] = []
        for feed in self.feeds:
            if self._due[feed.url] > now:
                continue
            try:
                outcome = await self.ingestor.poll(feed)
            except Exception:  # a bug on one feed must not stop the others
                log.exception("polling %s crashed; it is tried again later", feed.url)
                outcome = Outcome(problems=[f"feed {feed.url}: internal error"])
            state = await asyncio.to_thread(self.ingestor.queue.feed, feed.url)
            self._due[feed.url] = self.ingestor.clock() + self.ingestor.backoff(
                feed, state.failures
            )
            outcomes.append(outcome)
            if self.on_outcome is not None:
                await self.on_outcome(outcome)
        return outcomes

    def seconds_to_next(self) -> float:
        if not self._due:
            return 0.0
        wait = (min(self._due.values()) - self.ingestor.clock()).total_seconds()
        return max(0.0, min(wait, self.max_sleep))

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            await self.poll_due()
            await asyncio.sleep(self.seconds_to_next())
