"""Scheduled posts to a channel: the ``Poster`` the delivery queue sends through."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import discord

from bot.platforms.discord.channels import PostRefused, Publisher, facts, kind_of, post_into
from bot.platforms.discord.pages import NO_PINGS, to_embed
from bot.platforms.discord.render import EMBED_TOTAL_MAX, Page, render
from bot.reply import Reply
from bot.schedules.budget import BudgetLimits, PublishBudget
from bot.schedules.delivery import ChannelGone, RateLimited
from bot.schedules.options import AS_CONFIGURED, Placement, Posted, PostOptions
from bot.schedules.tables import SeenChannel, StateTables
from bot.schedules.targets import ChannelFacts, NotSeenHere

EMBEDS_MAX = 10
"""Embeds per message; with ``EMBED_TOTAL_MAX`` characters in all of them together."""
READY_TIMEOUT = 30.0
PLATFORM = "discord"


class DiscordPoster:
    """Scheduled posts to a channel: the ``Poster`` the delivery queue sends through.

    Each message carries a nonce derived from the delivery key with ``enforce_nonce`` (set by
    discord.py whenever a nonce is passed), so a re-send after a lost answer or a crash returns
    the message Discord already made instead of a second one. Posts go the way the schedule
    says (``channels.post_into``): a forum post per digest, published in announcement channels
    within the publish budget (its use kept in ``tables`` so restarts do not forget it), a
    thread per post, exactly one role pinged. Each channel ``inspect`` sees is recorded in
    ``tables`` with its kind, so a process without its server cached posts without a lookup.
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
        found = facts(self.client, int(channel), options)
        if found is None and _some_shards(self.client):
            raise NotSeenHere(channel)
        if found is not None and self.tables is not None:  # for a sender without its server
            guild = getattr(self.client.get_channel(int(channel)), "guild", None)
            seen = SeenChannel(found.kind, str(guild.id) if guild else None)
            await asyncio.to_thread(self.tables.remember_channel, PLATFORM, channel, seen)
        return found

    async def channel_changed(self, channel: discord.abc.GuildChannel) -> None:
        """A channel of a server this process sees was changed (a text channel made an
        announcement channel, say): its recorded kind follows at once, so the sender, which may
        not see the server, posts to it (and publishes) the new way. Only channels already
        recorded — a schedule's — are written."""
        if self.tables is None:
            return
        key = str(channel.id)
        recorded = await asyncio.to_thread(self.tables.seen_channel, PLATFORM, key)
        seen = SeenChannel(kind_of(channel), str(channel.guild.id))
        if recorded is not None and recorded != seen:
            await asyncio.to_thread(self.tables.remember_channel, PLATFORM, key, seen)

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        """What was posted: every message id of the post (a paged post is several), kept for
        corrections; in a forum post each id is ``THREAD:MESSAGE``, the channel to edit it in."""
        await self.client.wait_until_ready()
        rendered = render(reply)
        if rendered.error is not None:
            raise ValueError(f"a scheduled post cannot be an error: {rendered.error}")
        groups = [[to_embed(page) for page in group] for group in messages(rendered.pages)]
        seen = None
        if self.tables is not None and self.client.get_channel(int(channel)) is None:
            seen = await asyncio.to_thread(self.tables.seen_channel, PLATFORM, channel)
        try:
            return await post_into(
                self.client, int(channel), groups, nonce, placement, self.publisher, seen
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

    async def edit(self, channel: str, message_ids: Sequence[str], reply: Reply) -> list[str]:
        """Edit each message of a post to the corrected content; a corrected post that needs
        more messages gets them sent after it, one that needs fewer empties the rest."""
        await self.client.wait_until_ready()
        rendered = render(reply)
        if rendered.error is not None:
            raise ValueError(f"a correction cannot be an error: {rendered.error}")
        groups = messages(rendered.pages)
        ids = list(message_ids)
        # A forum post's messages live in its thread: their ids are ``THREAD:MESSAGE``.
        home = ids[0].rpartition(":")[0] if ids else ""
        target = self.client.get_partial_messageable(int(home or channel))
        try:
            for index, message_id in enumerate(ids):
                message = target.get_partial_message(int(message_id.rpartition(":")[2]))
                if index < len(groups):
                    embeds = [to_embed(page) for page in groups[index]]
                    await message.edit(embeds=embeds, allowed_mentions=NO_PINGS)
                else:
                    await message.edit(content="(corrected above)", embeds=[])
            for group in groups[len(ids) :]:
                sent = await target.send(
                    embeds=[to_embed(page) for page in group], allowed_mentions=NO_PINGS
                )
                ids.append(f"{home}:{sent.id}" if home else str(sent.id))
        except (discord.Forbidden, discord.NotFound) as exc:
            raise ChannelGone(f"{exc.status} {exc.text or exc}") from exc
        except discord.RateLimited as exc:
            raise RateLimited(exc.retry_after) from exc
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise RateLimited(1.0) from exc
            raise
        return ids

    async def post_review(self, channel: str, draft_id: int, card: Reply, nonce: str) -> str:
        """A draft's card in the review channel, with Approve and Reject buttons."""
        await self.client.wait_until_ready()
        target = self.client.get_partial_messageable(int(channel))
        view = discord.ui.View(timeout=None)
        for label, action, style in (
            ("Approve", "approve", discord.ButtonStyle.success),
            ("Reject", "reject", discord.ButtonStyle.danger),
        ):
            view.add_item(
                discord.ui.Button(label=label, style=style, custom_id=f"review:{action}:{draft_id}")
            )
        view.stop()  # presses are handled by DigestBot.on_interaction, also after a restart
        embeds = [to_embed(page) for page in render(card).pages][:EMBEDS_MAX]
        try:
            message = await target.send(
                embeds=embeds, view=view, nonce=nonce[:25], allowed_mentions=NO_PINGS
            )
        except (discord.Forbidden, discord.NotFound) as exc:
            raise ChannelGone(f"{exc.status} {exc.text or exc}") from exc
        return str(message.id)


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


def _some_shards(client: discord.Client) -> bool:
    """Runs only some of the token's shards: servers on the others are not in its cache."""
    if not isinstance(client, discord.AutoShardedClient) or client.shard_ids is None:
        return False
    return set(client.shard_ids) != set(range(client.shard_count or 1))
