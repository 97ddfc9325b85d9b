"""Embeds and the ◀ ▶ page buttons of a long answer (only its asker may press them)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.platforms.discord.render import Page
from bot.reply import Reply

if TYPE_CHECKING:
    from bot.platforms.discord.client import DigestBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
NO_PINGS = discord.AllowedMentions.none()


def to_embed(page: Page) -> discord.Embed:
    embed = discord.Embed(
        title=page.title,
        description=page.description or None,
        url=page.url,
        colour=discord.Colour.dark_teal(),
    )
    if page.footer:
        embed.set_footer(text=page.footer)
    return embed


def filename(reply: Reply) -> str:
    assert reply.picture is not None
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", reply.picture.path.stem).strip("-.") or "picture"
    return f"{stem[:60]}{reply.picture.path.suffix or '.png'}"


class PageTurner(discord.ui.View):
    """◀ ▶ buttons over the pages of one answer; only the person who asked may press them."""

    def __init__(
        self,
        bot: DigestBot,
        pages: list[discord.Embed],
        *,
        owner_id: int,
        origin: Interaction,
        picture: str | None,
        timeout: float,
    ) -> None:
        super().__init__(timeout=timeout)
        self.bot = bot
        self.pages = pages
        self.owner_id = owner_id
        self.latest = origin
        """The newest interaction on this message: its token can still edit it."""
        self.picture = picture
        self.index = 0
        self._enable()

    def _enable(self) -> None:
        self.previous_page.disabled = self.index == 0
        self.next_page.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            "Only the person who ran this command can turn its pages — run it yourself to get "
            "your own copy.",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )
        return False

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def previous_page(
        self, interaction: Interaction, button: discord.ui.Button[PageTurner]
    ) -> None:
        await self.show(interaction, self.index - 1)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.primary)
    async def next_page(
        self, interaction: Interaction, button: discord.ui.Button[PageTurner]
    ) -> None:
        await self.show(interaction, self.index + 1)

    async def show(self, interaction: Interaction, index: int) -> None:
        self.index = max(0, min(index, len(self.pages) - 1))
        self._enable()
        self.latest = interaction
        embed = self.pages[self.index].copy()
        if self.picture is not None and interaction.message is not None:
            for attachment in interaction.message.attachments:
                if attachment.filename == self.picture:
                    embed.set_image(url=attachment.url)
        await interaction.response.edit_message(embed=embed, view=self)

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        try:
            await self.latest.edit_original_response(view=self)
        except discord.HTTPException as exc:
            log.debug("could not disable page buttons: %s", exc)

    async def on_error(
        self, interaction: Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await self.bot.report_failure(interaction, error)
