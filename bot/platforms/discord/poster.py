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

    async def post(self, channel: str, reply: Reply, nonce: str) -> list[str]:
        """Every message id of the post (a paged post is several), kept for corrections."""
        await self.client.wait_until_ready()
        rendered = render(reply)
        if rendered.error is not None:
            raise ValueError(f"a scheduled post cannot be an error: {rendered.error}")
        target = self.client.get_partial_messageable(int(channel))
        ids: list[str] = []
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
            ids.append(str(message.id))
        return ids

    async def edit(self, channel: str, message_ids: Sequence[str], reply: Reply) -> list[str]:
        """Edit each message of a post to the corrected content; a corrected post that needs
        more messages gets them sent after it, one that needs fewer empties the rest."""
        await self.client.wait_until_ready()
        rendered = render(reply)
        if rendered.error is not None:
            raise ValueError(f"a correction cannot be an error: {rendered.error}")
        target = self.client.get_partial_messageable(int(channel))
        groups = messages(rendered.pages)
        ids = list(message_ids)
        try:
            for index, message_id in enumerate(ids):
                message = target.get_partial_message(int(message_id))
                if index < len(groups):
                    embeds = [to_embed(page) for page in groups[index]]
                    await message.edit(embeds=embeds, allowed_mentions=NO_PINGS)
                else:
                    await message.edit(content="(corrected above)", embeds=[])
            for group in groups[len(ids) :]:
                sent = await target.send(
                    embeds=[to_embed(page) for page in group], allowed_mentions=NO_PINGS
                )
                ids.append(str(sent.id))
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
