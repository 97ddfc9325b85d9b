"""Discord: the chat commands as app commands (slash commands), over the platform-neutral answers.

The only module that imports ``discord``. The app commands are built from ``answers.COMMANDS``,
so Discord, Matrix and the console always offer the same commands and options.

* Answers are sent as embeds that fit Discord's limits (``discord_render``); a long answer is
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
import inspect
import io
import logging
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.answers import COMMANDS, CommandSpec, MapSource, OptionSpec, Request, answer, suggest
from bot.delivery import ChannelGone, RateLimited
from bot.digest.library import Library
from bot.platforms.discord_render import EMBED_TOTAL_MAX, Page, render
from bot.reply import Reply
from bot.schedule import Caller, Scheduler, schedule_command

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
AnswerFn = Callable[[Library, Request, MapSource | None], Reply]
Choices = list[app_commands.Choice[str]]

DEFER_AFTER = 2.0
"""Seconds to wait for an answer before deferring (Discord's deadline is 3 s)."""
PAGE_TIMEOUT = 600.0
"""Page buttons stop working after this long without a press (tokens live 15 minutes)."""
GUILD_READY_TIMEOUT = 2.0
AUTOCOMPLETED = frozenset({"digest", "place", "figure"})
CHOICES_MAX = 25
CHOICE_MAX = 100
NO_PINGS = discord.AllowedMentions.none()
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)
"""What the bot needs in a channel (for scheduled posts; slash command answers need none)."""
SCOPES = ("bot", "applications.commands")
UNKNOWN_INTERACTION = 10062


class DiscordLoginError(RuntimeError):
    """Discord refused the token: the message says what to check (never the token itself)."""


def invite_url(application_id: int) -> str:
    """The URL that adds the bot to a server with the scopes and permissions it needs."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


# -- building the app commands from answers.COMMANDS ----------------------------------------


def _option_type(option: OptionSpec) -> Any:
    base: type = {"int": int, "bool": bool}.get(option.kind, str)
    return base if option.required else base | None


def option_text(value: object) -> str:
    """Discord's typed option value as the string ``answers`` takes (bools as yes/no)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _completer(
    bot: DigestBot, option: OptionSpec
) -> Callable[[Interaction, str], Coroutine[Any, Any, Choices]]:
    async def complete(interaction: Interaction, current: str) -> Choices:
        return bot.choices(interaction, option.kind, current)

    complete.__qualname__ = complete.__name__ = f"complete_{option.kind}"
    return complete


def _command(bot: DigestBot, spec: CommandSpec) -> app_commands.Command[Any, ..., None]:
    async def callback(interaction: Interaction, **values: Any) -> None:
        await bot.answer_command(interaction, spec, values)

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for option in spec.options:
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_option_type(option),
                default=inspect.Parameter.empty if option.required else None,
            )
        )
    callback.__qualname__ = callback.__name__ = f"slash_{spec.name}"
    # discord.py reads a command's options from its callback's signature and these attributes
    # (what its @describe and @autocomplete decorators set).
    setattr(callback, "__signature__", inspect.Signature(parameters))  # noqa: B010
    setattr(  # noqa: B010
        callback,
        "__discord_app_commands_param_description__",
        {option.name: option.description[:100] for option in spec.options},
    )
    setattr(  # noqa: B010
        callback,
        "__discord_app_commands_param_autocomplete__",
        {o.name: _completer(bot, o) for o in spec.options if o.kind in AUTOCOMPLETED},
    )
    return app_commands.Command(
        name=spec.name, description=spec.description[:100], callback=callback
    )


SCHEDULE_ACTIONS = ("list", "add", "remove", "test")


def _schedule_command(bot: DigestBot) -> app_commands.Command[Any, ..., None]:
    """/schedule, for admins: Manage Server is a default permission (a hint to Discord's UI)
    *and* checked on every use, since server owners can override the default."""

    @app_commands.command(name="schedule", description="Admins: post digests here on a schedule")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        action="list (default), add, remove or test",
        cron="add: when, as crontab with weekday names, e.g. 0 8 * * mon-fri",
        timezone="add: an IANA timezone such as Europe/Kyiv (default UTC)",
        post="add: latest (the newest digest) or new (digests not yet posted here)",
        parts="add: any of summary,figures,places (default summary)",
        schedule="remove/test: the schedule id from /schedule list",
    )
    @app_commands.choices(
        action=[app_commands.Choice(name=a, value=a) for a in SCHEDULE_ACTIONS],
        post=[app_commands.Choice(name=p, value=p) for p in ("latest", "new")],
    )
    async def schedule(
        interaction: discord.Interaction,
        action: str = "list",
        cron: str | None = None,
        timezone: str | None = None,
        post: str | None = None,
        parts: str | None = None,
        schedule: str | None = None,
    ) -> None:
        options = {"cron": cron, "timezone": timezone, "post": post, "parts": parts, "id": schedule}
        given = {k: v for k, v in options.items() if v is not None}
        await bot.schedule_command(interaction, action, given)

    return schedule


class DiscordPoster:
    """Scheduled posts to a channel: the ``Poster`` the delivery queue sends through.

    Each message carries a nonce derived from the delivery key with ``enforce_nonce`` (set by
    discord.py whenever a nonce is passed), so a re-send after a lost answer or a crash returns
    the message Discord already made instead of a second one.
    """

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def ready(self) -> None:
        """Until the gateway is READY (also before the client has logged in)."""
        while not self.client.is_ready():
            await asyncio.sleep(0.05)

    async def post(self, channel: str, reply: Reply, nonce: str) -> str:
        await self.client.wait_until_ready()
        rendered = render(reply)
        if rendered.error is not None:
            raise ValueError(f"a scheduled post cannot be an error: {rendered.error}")
        target = self.client.get_partial_messageable(int(channel))
        first: str | None = None
        for index, group in enumerate(_messages(rendered.pages)):
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


def _messages(pages: Sequence[Page]) -> list[list[Page]]:
    """Group pages into messages of at most 10 embeds and 6000 characters."""
    groups: list[list[Page]] = [[]]
    size = 0
    for page in pages:
        if groups[-1] and (len(groups[-1]) == 10 or size + page.length() > EMBED_TOTAL_MAX):
            groups.append([])
            size = 0
        groups[-1].append(page)
        size += page.length()
    return groups


# -- rendering ----------------------------------------------------------------------------


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


def _filename(reply: Reply) -> str:
    assert reply.picture is not None
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", reply.picture.path.stem).strip("-.") or "picture"
    return f"{stem[:60]}{reply.picture.path.suffix or '.png'}"


# -- the client ---------------------------------------------------------------------------


class _Tree(app_commands.CommandTree["DigestBot"]):
    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError) -> None:
        await self.client.report_failure(interaction, error)


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


class DigestBot(discord.Client):
    """A discord.py client serving the digest commands. Build it with :func:`build_client`."""

    def __init__(
        self,
        library: Library,
        *,
        maps: MapSource | None = None,
        answer_fn: AnswerFn = answer,
        defer_after: float = DEFER_AFTER,
        page_timeout: float = PAGE_TIMEOUT,
        guild_id: int | None = None,
        check_commands: bool = True,
        scheduler: Scheduler | None = None,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        # The bot never joins voice: no warnings about voice libraries it does not need.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        options.setdefault("guild_ready_timeout", GUILD_READY_TIMEOUT)
        super().__init__(intents=intents, allowed_mentions=NO_PINGS, **options)
        self.library = library
        self.maps = maps
        self.answer_fn = answer_fn
        self.defer_after = defer_after
        self.page_timeout = page_timeout
        self.guild_id = guild_id
        self.check_commands = check_commands
        self.tree = _Tree(self)
        self._thinking: set[int] = set()
        """Interactions showing "thinking…" (deferred, answer not yet edited in)."""
        self.scheduler = scheduler
        for spec in COMMANDS.values():
            self.tree.add_command(_command(self, spec))
        self.tree.add_command(_schedule_command(self))

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
        self, interaction: Interaction, spec: CommandSpec, values: Mapping[str, object]
    ) -> None:
        options = {name: option_text(v) for name, v in values.items() if v is not None}
        reply = await self._answer_in_time(interaction, Request(spec.name, (), options))
        await self.send_reply(interaction, reply)

    async def schedule_command(
        self, interaction: Interaction, action: str, options: Mapping[str, str]
    ) -> None:
        if self.scheduler is None:
            await self.send_error(interaction, "Schedules are not running in this bot.")
            return
        user = interaction.user
        admin = isinstance(user, discord.Member) and user.guild_permissions.manage_guild
        caller = Caller("discord", str(interaction.channel_id), str(user.id), is_admin=admin)
        request = Request("schedule", (action,), options)
        reply = await schedule_command(self.scheduler, request, caller)
        if reply.error is not None:
            await self.send_error(interaction, reply.error)
            return
        embeds = [to_embed(page) for page in render(reply).pages]
        await interaction.response.send_message(
            embeds=embeds[:10], ephemeral=True, allowed_mentions=NO_PINGS
        )

    async def _answer_in_time(self, interaction: Interaction, request: Request) -> Reply:
        work = asyncio.ensure_future(
            asyncio.to_thread(self.answer_fn, self.library, request, self.maps)
        )
        try:
            done, _ = await asyncio.wait({work}, timeout=self.defer_after)
            if not done:
                await interaction.response.defer(thinking=True)
                self._thinking.add(interaction.id)
            return await work
        except BaseException:
            # The answer may still finish in its thread: collect its outcome, never leak it.
            work.add_done_callback(lambda task: task.cancelled() or task.exception())
            raise

    async def send_reply(self, interaction: Interaction, reply: Reply) -> None:
        rendered = render(reply)
        if rendered.error is not None:
            await self.send_error(interaction, rendered.error)
            return
        embeds = [to_embed(page) for page in rendered.pages]
        picture = _filename(reply) if reply.picture is not None else None
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
            await interaction.response.send_message(**kwargs)

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
        digest_id = None
        if kind != "digest":
            typed = getattr(interaction.namespace, "digest", None)
            digest_id = typed.strip() if isinstance(typed, str) and typed.strip() else None
        try:
            found = suggest(self.library, kind, str(current or ""), digest_id)
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


def build_client(library: Library, **options: Any) -> DigestBot:
    """The Discord client: ``DigestBot``'s options, then ``discord.Client``'s (e.g.
    ``guild_ready_timeout``)."""
    return DigestBot(library, **options)


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


async def serve_discord(client: DigestBot, token: str) -> None:
    """Log in and serve until cancelled or closed (discord.py reconnects on its own)."""
    async with client:
        await _login(client, token)
        try:
            await client.connect(reconnect=True)
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:
                raise DiscordLoginError("Discord rejected DISCORD_TOKEN on the gateway") from exc
            raise


async def run_discord(
    library: Library,
    token: str,
    *,
    guild_id: int | None = None,
    maps: MapSource | None = None,
    reload_seconds: float | None = None,
    scheduler: Scheduler | None = None,
) -> None:
    """Serve the commands until cancelled or closed; reload digests every ``reload_seconds``."""
    client = build_client(library, maps=maps, guild_id=guild_id, scheduler=scheduler)
    refresher = (
        asyncio.create_task(library.refresh_forever(reload_seconds), name="digest-reload")
        if reload_seconds
        else None
    )
    try:
        await serve_discord(client, token)
    finally:
        if refresher is not None:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher


async def sync_commands(
    library: Library, token: str, guild_id: int | None = None, *, clear: bool = False
) -> list[str]:
    """Register (bulk overwrite) the app commands globally or in one guild; their names.

    A guild's commands appear at once (use it while testing); global ones in every server the
    bot is in. Both count against Discord's 200 command creates per day, so run it when the
    commands change, not on every start. ``clear`` removes this scope's commands instead (a
    guild that was synced while testing would otherwise show every command twice).
    """
    client = build_client(library, check_commands=False)
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
