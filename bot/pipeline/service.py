"""The pipeline while the bot runs: feeds polled, new drafts' cards posted to the review rooms.

One object the composition root starts beside the platforms: ``start()`` finishes approvals a
crash interrupted and shows every open draft in each review channel (once: the cards posted are
recorded), ``run()`` polls the feeds until cancelled and posts the cards of what each poll
queued, ``close()`` releases the HTTP session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.config import Config
from bot.pipeline.board import Board, ReviewPoster
from bot.pipeline.fetch import Fetcher
from bot.pipeline.ingest import FeedSpec, Ingestor, Outcome
from bot.pipeline.poller import Poller
from bot.pipeline.queue import Queue, utcnow
from bot.pipeline.review import publish_pending
from bot.schedules.delivery import ChannelGone
from bot.schedules.store import Store

log = logging.getLogger(__name__)


class Newsroom:
    def __init__(
        self, config: Config, store: Store, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.config = config
        self.queue = Queue(store.engine)
        self.fetcher = Fetcher()
        self.ingestor = Ingestor(
            self.queue, self.fetcher, config.digests, expire=config.review.expire, clock=clock
        )
        self.board = Board(self.queue, config.digests, clock=clock)
        feeds = [FeedSpec(f.url, f.publisher, f.every) for f in config.feeds]
        self.poller = Poller(self.ingestor, feeds, on_outcome=self._announce)
        self.reviewers: list[tuple[str, str, ReviewPoster]] = []

    def add_reviewer(self, platform: str, channel: str, poster: ReviewPoster) -> None:
        self.reviewers.append((platform, channel, poster))

    async def start(self) -> None:
        for done in await asyncio.to_thread(
            publish_pending, self.queue, self.config.digests, utcnow()
        ):
            log.info("finished an interrupted approval: %s", done.path)
        await self._announce(Outcome())

    async def run(self) -> None:
        if self.poller.feeds:
            await self.poller.run()

    async def serve(self) -> None:
        """``start`` then ``run``: one task beside the platforms (a failure to start is logged;
        the feeds are polled all the same)."""
        try:
            await self.start()
        except Exception:
            log.exception("starting the newsroom failed; polling the feeds anyway")
        await self.run()

    async def _announce(self, _outcome: Outcome) -> None:
        for platform, channel, poster in self.reviewers:
            try:
                count = await self.board.announce(platform, channel, poster)
            except ChannelGone as exc:
                log.error(
                    "cannot post drafts to the %s review channel %s: %s", platform, channel, exc
                )
            except Exception:  # the review room being down must not stop the feeds
                log.exception("posting drafts to the %s review channel failed", platform)
            else:
                if count:
                    log.info("posted %d draft(s) for review on %s", count, platform)

    async def close(self) -> None:
        await self.fetcher.close()
