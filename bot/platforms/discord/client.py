"""Discord: the registry's commands as app commands (slash commands), and ``DiscordAdapter``.

The app commands are built from ``bot.commands.registry`` when the client is made, so Discord,
Matrix and the console always offer the same commands and options.

* Answers are sent as embeds that fit Discord's limits (``render``); a long answer is
  paged with ◀ ▶ buttons only its asker may press, never cut short.
* Nothing a digest says can ping anyone: the client sends ``AllowedMentions.none()`` with every
  message and the renderer escapes markdown and ``@everyone``.
* Discord wants an answer within 3 s: when the answer is not ready after ``defer_after``
  seconds the bot defers ("is thinking…") and edits the answer in when it is.
* Every failure reaches the user as a short ephemeral message (one handler, ``report_failure``,
  for the command tree and the page buttons); the details go to the log.
* Commands are registered by ``python -m bot sync [--guild ID]`` (:func:`sync_commands`), not on
  every start: Discord allows 200 command creates per guild per day.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.commands.base import Caller, CommandSpec, Request
from bot.commands.registry import Commands
from bot.pipeline.board import Board, card
from bot.pipeline.queue import ReviewError
from bot.platforms.base import PlatformError
from bot.platforms.discord.channels import facts
from bot.platforms.discord.commands import app_command
from bot.platforms.discord.pages import NO_PINGS, PageTurner, filename, to_embed
from bot.platforms.discord.poster import DiscordPoster, messages
from bot.platforms.discord.ratelimit import global_limit
from bot.platforms.discord.render import render
from bot.reply import Reply
from bot.schedules.budget import BudgetLimits
from bot.schedules.options import AS_CONFIGURED, Placement, Posted, PostOptions
from bot.schedules.pacing import Window
from bot.schedules.spec import Limits
from bot.schedules.tables import StateTables
from bot.schedules.targets import ChannelFacts

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
Choices = list[app_commands.Choice[str]]

DEFER_AFTER = 2.0
"""Seconds to wait for an answer before deferring (Discord's deadline is 3 s)."""
PAGE_TIMEOUT = 600.0
"""Page buttons stop working after this long without a press (tokens live 15 minutes)."""
GUILD_READY_TIMEOUT = 2.0
CHOICES_MAX = 25
CHOICE_MAX = 100
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    create_public_threads=True,
    send_messages_in_threads=True,
)
"""What the bot needs in a channel (for scheduled posts; slash command answers need none)."""
SCOPES = ("bot", "applications.commands")
UNKNOWN_INTERACTION = 10062
MAX_RATELIMIT_WAIT = 30.0
"""discord.py's smallest allowed ``max_ratelimit_timeout``: longer 429s raise ``RateLimited``."""
REVIEW_ID = re.compile(r"review:(approve|reject):(\d+)")
"""Custom ids of the review card's buttons: handled here, so they work after a restart."""


class DiscordLoginError(PlatformError):
    """Discord refused the token: the message says what to check (never the token itself)."""


def invite_url(application_id: int) -> str:
    """The URL that adds the bot to a server with the scopes and permissions it needs."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


# -- the client ---------------------------------------------------------------------------


class _Tree(app_commands.CommandTree["DigestBot"]):
    """Routes the tree's failures to the bot's one error handler."""

    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError) -> None:
        await self.client.report_failure(interaction, error)


class DigestBot(discord.Client):
    """A discord.py client serving the registry's commands; built by ``DiscordAdapter``."""

    def __init__(
        self,
        commands: Commands,
        *,
        defer_after: float = DEFER_AFTER,
        page_timeout: float = PAGE_TIMEOUT,
        guild_id: int | None = None,
        check_commands: bool = True,
        board: Board | None = None,
        reviewer_role: int | None = None,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        # The bot never joins voice: no warnings about voice libraries it does not need.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        options.setdefault("guild_ready_timeout", GUILD_READY_TIMEOUT)
        super().__init__(intents=intents, allowed_mentions=NO_PINGS, **options)
        self.commands = commands
        self.defer_after = defer_after
        self.page_timeout = page_timeout
        self.guild_id = guild_id
        self.check_commands = check_commands
        self.board = board
        """The review queue, when drafts are reviewed in a channel here."""
        self.reviewer_role = reviewer_role
        self.tree = _Tree(self)
        self.channel_changed: Callable[[discord.abc.GuildChannel], Awaitable[None]] | None = None
        """Told of each changed channel (the poster keeps recorded channel kinds current)."""
        self._thinking: set[int] = set()
        """Interactions showing "thinking…" (deferred, answer not yet edited in)."""
        for spec in commands.specs():
            self.tree.add_command(app_command(self, spec))

    async def setup_hook(self) -> None:
        if self.check_commands:
            await self._check_registered()

    async def _check_registered(self) -> None:
        """Warn when Discord's registered commands differ from the ones this build serves."""
        guild = discord.Object(self.guild_id) if self.guild_id else None
        try:
            registered = await self.tree.fetch_commands(guild=guild)
        except discord.HTTPException as exc:
            log.warning("could not list the registered commands: %s", exc)
            return
        ours = {c.name: c.to_dict(self.tree) for c in self.tree.get_commands()}
        theirs = {c.name: c for c in registered}
        stale = sorted(
            name
            for name in ours.keys() | theirs.keys()
            if name not in ours
            or name not in theirs
            or [o["name"] for o in ours[name].get("options", [])]
            != [o.name for o in theirs[name].options]
        )
        if stale:
            where = f"guild {self.guild_id}" if self.guild_id else "globally"
            log.warning(
                "Discord's commands (%s) differ from this build's: %s — run `python -m bot sync%s`",
                where,
                ", ".join(f"/{name}" for name in stale),
                f" --guild {self.guild_id}" if self.guild_id else "",
            )

    async def on_guild_channel_update(
        self, _before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        if self.channel_changed is None:
            return
        try:
            await self.channel_changed(after)
        except Exception:  # the database is away: the next start or /schedule add records it
            log.exception("could not record the change of channel %s", after.id)

    async def on_ready(self) -> None:
        user = self.user
        log.info(
            "connected to Discord as %s in %d server(s); invite: %s",
            user,
            len(self.guilds),
            invite_url(self.application_id) if self.application_id else "?",
        )

    # -- commands ---------------------------------------------------------------------------

    async def answer_command(
        self,
        interaction: Interaction,
        spec: CommandSpec,
        values: Mapping[str, object],
        subcommand: str | None = None,
    ) -> None:
        options = {name: typed for name, v in values.items() if (typed := _typed(v)) is not None}
        user = interaction.user
        admin = isinstance(user, discord.Member) and user.guild_permissions.manage_guild
        caller = Caller(
            "discord",
            str(interaction.channel_id),
            str(user.id),
            is_admin=admin,
            inspect=self.inspect_channel,
        )
        private = spec.who == "admin"
        # Used from a user install in a server the bot is not in: only the asker sees it.
        elsewhere = interaction.guild_id is not None and not interaction.is_guild_integration()
        args = (subcommand,) if subcommand else ()
        reply = await self._answer_in_time(
            interaction, Request(spec.name, args, options), caller, private or elsewhere
        )
        if private:
            await self.send_private(interaction, reply)
        else:
            await self.send_reply(interaction, reply, ephemeral=elsewhere)

    async def inspect_channel(self, channel: str, options: PostOptions) -> ChannelFacts | None:
        """What this server says about a channel (for /schedule add's checks)."""
        if not channel.isdigit():
            return None
        return facts(self, int(channel), options)

    async def _answer_in_time(
        self, interaction: Interaction, request: Request, caller: Caller, private: bool
    ) -> Reply:
        work = asyncio.ensure_future(self.commands.answer(request, caller))
        try:
            done, _ = await asyncio.wait({work}, timeout=self.defer_after)
            if not done:
                await interaction.response.defer(thinking=True, ephemeral=private)
                self._thinking.add(interaction.id)
            return await work
        except BaseException:
            # The answer may still finish: collect its outcome, never leak it.
            work.add_done_callback(lambda task: task.cancelled() or task.exception())
            raise

    async def send_private(self, interaction: Interaction, reply: Reply) -> None:
        """An admin's answer, only they see it: every page, in messages within Discord's
        limits (10 embeds and 6,000 characters each)."""
        rendered = render(reply)
        if rendered.error is not None:
            await self.send_error(interaction, rendered.error)
            return
        for group in messages(rendered.pages):
            embeds = [to_embed(page) for page in group]
            if not interaction.response.is_done():
                await interaction.response.send_message(
                    embeds=embeds, ephemeral=True, allowed_mentions=NO_PINGS
                )
            elif interaction.id in self._thinking:
                await interaction.edit_original_response(embeds=embeds)
                self._thinking.discard(interaction.id)
            else:
                await interaction.followup.send(
                    embeds=embeds, ephemeral=True, allowed_mentions=NO_PINGS
                )

    async def send_reply(
        self, interaction: Interaction, reply: Reply, *, ephemeral: bool = False
    ) -> None:
        rendered = render(reply)
        if rendered.error is not None:
            await self.send_error(interaction, rendered.error)
            return
        embeds = [to_embed(page) for page in rendered.pages]
        picture = filename(reply) if reply.picture is not None else None
        kwargs: dict[str, Any] = {"embed": embeds[0], "allowed_mentions": NO_PINGS}
        file = None
        if reply.picture is not None and picture is not None:
            png = await asyncio.to_thread(reply.picture.path.read_bytes)
            file = discord.File(io.BytesIO(png), filename=picture, description=reply.picture.alt)
            embeds[0].set_image(url=f"attachment://{picture}")
        if len(embeds) > 1:
            kwargs["view"] = PageTurner(
                self,
                embeds,
                owner_id=interaction.user.id,
                origin=interaction,
                picture=picture,
                timeout=self.page_timeout,
            )
        if interaction.response.is_done():
            if file is not None:
                kwargs["attachments"] = [file]
            await interaction.edit_original_response(**kwargs)
            self._thinking.discard(interaction.id)
        else:
            if file is not None:
                kwargs["file"] = file
            await interaction.response.send_message(ephemeral=ephemeral, **kwargs)

    # -- review buttons ---------------------------------------------------------------------

    async def on_interaction(self, interaction: Interaction) -> None:
        if interaction.type is not discord.InteractionType.component:
            return
        data: Mapping[str, Any] = interaction.data or {}
        found = REVIEW_ID.fullmatch(str(data.get("custom_id", "")))
        if found is None:
            return
        try:
            await self.review_pressed(interaction, found.group(1), int(found.group(2)))
        except Exception as exc:
            await self.report_failure(interaction, exc)

    def may_review(self, interaction: Interaction) -> bool:
        """Manage Messages in the review channel, or the configured reviewer role."""
        user = interaction.user
        if interaction.permissions.manage_messages:
            return True
        roles = {r.id for r in user.roles} if isinstance(user, discord.Member) else set()
        return self.reviewer_role is not None and self.reviewer_role in roles

    async def review_pressed(self, interaction: Interaction, action: str, draft_id: int) -> None:
        if self.board is None:
            await self.send_error(interaction, "Reviews are not running in this bot.")
            return
        if not self.may_review(interaction):
            await self.send_error(
                interaction,
                "Only reviewers (Manage Messages in this channel, or the reviewer role) may "
                "approve or reject drafts.",
            )
            return
        who = interaction.user.display_name or interaction.user.name
        try:
            decision = await self.board.decide(draft_id, action, by=who, via="discord")
        except ReviewError as exc:
            await self.send_error(interaction, str(exc))
            return
        embeds = [to_embed(page) for page in render(card(decision.row)).pages][:10]
        mark = "\u2705" if action == "approve" else "\u274c"
        await interaction.response.edit_message(
            content=f"{mark} {decision.text} ({decision.row.decision()})",
            embeds=embeds,
            view=None,
        )

    async def send_error(self, interaction: Interaction, text: str) -> None:
        """A short message only the user who ran the command sees."""
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
        if interaction.id in self._thinking:
            self._thinking.discard(interaction.id)
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()

    def choices(self, interaction: Interaction, kind: str, current: str) -> Choices:
        """Autocomplete: suggestions only; the command validates whatever is finally sent."""
        if kind == "forumtags":
            return self._forum_tags(interaction, str(current or ""))
        digest_id = None
        if kind != "digest":
            typed = getattr(interaction.namespace, "digest", None)
            digest_id = typed.strip() if isinstance(typed, str) and typed.strip() else None
        try:
            found = self.commands.suggest(kind, str(current or ""), digest_id, "discord")
        except Exception:
            log.exception("autocomplete for %s failed", kind)
            return []
        result: Choices = []
        seen: set[str] = set()
        for suggestion in found:
            value = suggestion[:CHOICE_MAX]
            if value.strip() and value not in seen:
                seen.add(value)
                result.append(app_commands.Choice(name=value, value=value))
            if len(result) == CHOICES_MAX:
                break
        return result

    def _forum_tags(self, interaction: Interaction, current: str) -> Choices:
        """The chosen forum's tags, completing the last of a comma-separated list."""
        picked = getattr(interaction.namespace, "channel", None)
        forum = self.get_channel(picked.id) if picked is not None else None
        if not isinstance(forum, discord.ForumChannel):
            return []
        done, _, partial = current.rpartition(",")
        chosen = [t.strip() for t in done.split(",") if t.strip()]
        prefix = ",".join(chosen) + "," if chosen else ""
        needle = partial.strip().casefold()
        names = [
            t.name
            for t in forum.available_tags
            if t.name not in chosen and t.name.casefold().startswith(needle)
        ]
        return [
            app_commands.Choice(name=value, value=value)
            for value in (f"{prefix}{name}"[:CHOICE_MAX] for name in names[:CHOICES_MAX])
        ]

    # -- failures -----------------------------------------------------------------------------

    async def report_failure(self, interaction: Interaction, error: Exception) -> None:
        """The one place failures go: a short ephemeral line for the user, details to the log."""
        original: BaseException = error
        if isinstance(error, app_commands.CommandInvokeError):
            original = error.original
        name = interaction.command.name if interaction.command else "(a button)"
        if isinstance(original, discord.NotFound) and original.code == UNKNOWN_INTERACTION:
            log.warning("/%s: the interaction expired before the bot answered", name)
            return
        if isinstance(
            original, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch
        ):
            log.warning("/%s: %s — run `python -m bot sync`", name, original)
            text = (
                "This command has changed since it was registered with Discord. "
                "An admin needs to run `python -m bot sync`."
            )
        elif isinstance(original, app_commands.TransformerError | app_commands.CheckFailure):
            log.info("/%s: rejected input: %s", name, original)
            text = "That value does not work here — see `/help` for what each option takes."
        else:
            log.error(
                "/%s failed (user %s, guild %s)",
                name,
                interaction.user.id,
                interaction.guild_id,
                exc_info=original,
            )
            what = f"/{name}" if interaction.command else "That"
            text = f"Sorry — {what} failed on our side. It has been logged; please try again."
        try:
            await self.send_error(interaction, text)
        except discord.HTTPException as exc:
            log.warning("/%s: could not tell the user about the failure: %s", name, exc)


def _typed(value: object) -> str | int | bool | None:
    """A discord.py option value as the request takes it: a channel by its id, a role as
    ``role:ID`` (what schedules store)."""
    if isinstance(value, str | int | bool):
        return value
    if isinstance(value, discord.Role):
        return f"role:{value.id}"
    if isinstance(value, discord.abc.GuildChannel | app_commands.AppCommandChannel):
        return str(value.id)
    return None


async def _login(client: DigestBot, token: str) -> None:
    try:
        await client.login(token)
    except discord.LoginFailure as exc:
        raise DiscordLoginError(
            "Discord rejected DISCORD_TOKEN: copy the bot token again from the Developer Portal "
            "(Bot → Reset Token)"
        ) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise DiscordLoginError(f"cannot reach Discord to log in: {exc}") from exc


class ShardedDigestBot(DigestBot, discord.AutoShardedClient):
    """The same bot over some of the token's shards (``shard_ids`` of ``shard_count``): one
    process per group of shards, all sharing one database. Discord sends each guild's events
    (its commands) to one shard; scheduled posts go out from whichever process leases them."""


class DiscordAdapter:
    """Discord behind the adapter contract (``platforms.base.Adapter``).

    ``start`` logs in (a bad token fails here, with a clear message) and connects in a task it
    owns; ``serve`` waits on that task (discord.py reconnects on its own); ``close`` ends it.
    With ``shard_count`` (and ``shard_ids``) among the options it runs those shards.
    """

    name = "discord"

    def __init__(
        self,
        commands: Commands,
        token: str,
        limits: Limits | None = None,
        *,
        publish: BudgetLimits | None = None,
        tables: StateTables | None = None,
        **options: Any,
    ) -> None:
        # A 429 longer than this (a spent publish budget: up to an hour) raises instead of
        # sleeping inside discord.py; the poster and the deliverer honour it.
        options.setdefault("max_ratelimit_timeout", MAX_RATELIMIT_WAIT)
        # Every request of the token's, held under Discord's global limit as it arrives.
        options.setdefault("http_trace", global_limit(Window()))
        sharded = "shard_count" in options or "shard_ids" in options
        self.client = (ShardedDigestBot if sharded else DigestBot)(commands, **options)
        self.token = token
        self.limits = limits
        self.poster = DiscordPoster(self.client, publish=publish, tables=tables)
        self.client.channel_changed = self.poster.channel_changed
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.poster.restore()
        await self.client.__aenter__()
        await _login(self.client, self.token)
        self._task = asyncio.create_task(self._connect(), name="discord-gateway")

    async def _connect(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:
                raise DiscordLoginError("Discord rejected DISCORD_TOKEN on the gateway") from exc
            raise

    async def ready(self, timeout: float = 10.0) -> None:
        """Wait until the gateway is READY; raise if the connection ended first."""
        assert self._task is not None, "start() first"
        waiting = asyncio.ensure_future(self.client.wait_until_ready())
        try:
            done, _ = await asyncio.wait(
                {self._task, waiting}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiting.cancel()
        if self._task in done:
            self._task.result()
            raise DiscordLoginError("the Discord connection ended before it was ready")
        if waiting not in done:
            raise TimeoutError(f"Discord was not ready after {timeout} s")

    async def serve(self) -> None:
        assert self._task is not None, "start() first"
        await asyncio.shield(self._task)

    async def close(self) -> None:
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, discord.ConnectionClosed):
                await asyncio.wait_for(self._task, 10)
            self._task = None

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        return await self.poster.post(channel, reply, nonce, placement)

    async def inspect(self, channel: str, options: PostOptions) -> ChannelFacts | None:
        return await self.poster.inspect(channel, options)

    async def restore(self) -> None:
        """The publish budget as the store has it (this process became the token's sender)."""
        await self.poster.restore()

    async def edit(self, channel: str, message_ids: Sequence[str], reply: Reply) -> list[str]:
        return await self.poster.edit(channel, message_ids, reply)

    async def post_review(self, channel: str, draft_id: int, card: Reply, nonce: str) -> str:
        return await self.poster.post_review(channel, draft_id, card, nonce)


async def sync_commands(
    commands: Commands, token: str, guild_id: int | None = None, *, clear: bool = False
) -> list[str]:
    """Register (bulk overwrite) the app commands globally or in one guild; their names.

    A guild's commands appear at once (use it while testing); global ones in every server the
    bot is in. Both count against Discord's 200 command creates per day, so run it when the
    commands change, not on every start. ``clear`` removes this scope's commands instead (a
    guild that was synced while testing would otherwise show every command twice).
    """
    client = DigestBot(commands, check_commands=False)
    async with client:
        await _login(client, token)
        guild = discord.Object(guild_id) if guild_id is not None else None
        if clear:
            client.tree.clear_commands(guild=None)
        elif guild is not None:
            client.tree.copy_global_to(guild=guild)
        synced = await client.tree.sync(guild=guild)
        if client.application_id:
            log.info("invite the bot with %s", invite_url(client.application_id))
    return [command.name for command in synced]
