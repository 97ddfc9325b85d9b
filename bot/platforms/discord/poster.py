"""Scheduled posts to a channel: the ``Poster`` the delivery queue sends through."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.platforms.discord.pages import NO_PINGS, to_embed
from bot.platforms.discord.render import EMBED_TOTAL_MAX, Page, render
from bot.reply import Reply
from bot.schedules.delivery import ChannelGone, RateLimited

EMBEDS_MAX = 10
"""Embeds per message; with ``EMBED_TOTAL_MAX`` characters in all of them together."""


class DiscordPoster:
    """Scheduled posts to a channel: the ``Poster`` the delivery queue sends through.

    Each message carries a nonce derived from the delivery key with ``enforce_nonce`` (set by
    discord.py whenever a nonce is passed), so a re-send after a lost answer or a crash returns
    the message Discord already made instead of a second one.
    """

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def post(self, channel: str, reply: Reply, nonce: str) -> str:
        await self.client.wait_until_ready()
        rendered = render(reply)
        if rendered.error is not None:
            raise ValueError(f"a scheduled post cannot be an error: {rendered.error}")
        target = self.client.get_partial_messageable(int(channel))
        first: str | None = None
        for index, group in enumerate(messages(rendered.pages)):
            try:
                message = await target.send(
                    embeds=[to_embed(page) for page in group],
                    nonce=f"{nonce[:22]}{index:03d}",
                    allowed_mentions=NO_PINGS,
                )
            except (discord.Forbidden, discord.NotFound) as exc:
                raise ChannelGone(f"{exc.status} {exc.text or exc}") from exc
            except discord.RateLimited as exc:
                raise RateLimited(exc.retry_after) from exc
            except discord.HTTPException as exc:
                if exc.status == 429:
                    raise RateLimited(1.0) from exc
                raise
            first = first or str(message.id)
        assert first is not None
        return first


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
