"""Scheduled posts to a channel: the ``Poster`` the delivery queue sends through."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import discord

from bot.platforms.discord.channels import PostRefused, Publisher, facts, post_into
from bot.platforms.discord.pages import to_embed
from bot.platforms.discord.render import EMBED_TOTAL_MAX, Page, render
from bot.reply import Reply
from bot.schedules.budget import BudgetLimits, PublishBudget
from bot.schedules.delivery import ChannelGone, RateLimited
from bot.schedules.options import AS_CONFIGURED, Placement, Posted, PostOptions
from bot.schedules.tables import StateTables
from bot.schedules.targets import ChannelFacts

EMBEDS_MAX = 10
"""Embeds per message; with ``EMBED_TOTAL_MAX`` characters in all of them together."""
READY_TIMEOUT = 30.0


class DiscordPoster:
    """Scheduled posts to a channel: the ``Poster`` the delivery queue sends through.

    Each message carries a nonce derived from the delivery key with ``enforce_nonce`` (set by
    discord.py whenever a nonce is passed), so a re-send after a lost answer or a crash returns
    the message Discord already made instead of a second one. Posts go the way the schedule
    says (``channels.post_into``): a forum post per digest, published in announcement channels
    within the publish budget (its use kept in ``tables`` so restarts do not forget it), a
    thread per post, exactly one role pinged.
    """

    def __init__(
        self,
        client: discord.Client,
        *,
        publish: BudgetLimits | None = None,
        tables: StateTables | None = None,
    ) -> None:
        self.client = client
        self.tables = tables
        self.publisher = Publisher(
            PublishBudget(publish),
            record=self._record if tables else None,
            forget=self._forget if tables else None,
            hold=self._hold if tables else None,
        )

    async def restore(self) -> None:
        """Reload the publish budget's use from the store (at start)."""
        if self.tables is None:
            return
        since = time.time() - self.publisher.budget.limits.period
        uses, holds = await asyncio.to_thread(self.tables.publishing, since)
        self.publisher.budget.restore(uses, holds)

    async def _record(self, channel: str, at: float) -> None:
        assert self.tables is not None
        await asyncio.to_thread(self.tables.record_publish, channel, at)

    async def _forget(self, channel: str, at: float) -> None:
        assert self.tables is not None
        await asyncio.to_thread(self.tables.forget_publish, channel, at)

    async def _hold(self, channel: str, until: float) -> None:
        assert self.tables is not None
        await asyncio.to_thread(self.tables.hold_publishing, channel, until)

    async def inspect(self, channel: str, options: PostOptions) -> ChannelFacts | None:
        await asyncio.wait_for(self.client.wait_until_ready(), READY_TIMEOUT)
        return facts(self.client, int(channel), options)

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        await self.client.wait_until_ready()
        rendered = render(reply)
        if rendered.error is not None:
            raise ValueError(f"a scheduled post cannot be an error: {rendered.error}")
        groups = [[to_embed(page) for page in group] for group in messages(rendered.pages)]
        try:
            return await post_into(
                self.client, int(channel), groups, nonce, placement, self.publisher
            )
        except PostRefused as exc:
            raise ChannelGone(str(exc)) from exc
        except (discord.Forbidden, discord.NotFound) as exc:
            raise ChannelGone(f"{exc.status} {exc.text or exc}") from exc
        except discord.RateLimited as exc:
            raise RateLimited(exc.retry_after) from exc
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise RateLimited(1.0) from exc
            if exc.status == 400 and exc.code in (50024, 50035, 40067):
                raise ChannelGone(f"{exc.status} {exc.code} {exc.text or exc}") from exc
            raise


def messages(pages: Sequence[Page]) -> list[list[Page]]:
    """Group pages into messages of at most 10 embeds and 6000 characters."""
    groups: list[list[Page]] = [[]]
    size = 0
    for page in pages:
        if groups[-1] and (len(groups[-1]) == EMBEDS_MAX or size + page.length() > EMBED_TOTAL_MAX):
            groups.append([])
            size = 0
        groups[-1].append(page)
        size += page.length()
    return groups
