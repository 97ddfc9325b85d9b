"""The composition root: config → store, library (one reload task), commands, scheduler,
adapters; start and stop. The only place that wires the bot together — ``python -m bot`` and
the tests build the same ``App``.

The chat SDKs are imported only when their platform is wanted, so ``ask`` and ``check`` start
quickly and a console-only bot never loads discord.py or nio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.commands.base import SHELL, MapSource, Request, parse
from bot.commands.registry import Commands
from bot.config import Config, ConfigError, DeskConfig, Secrets
from bot.digest.library import Library, describe
from bot.digest.load import DigestInvalid, load_digest
from bot.platforms.base import Adapter, PlatformError
from bot.platforms.console import Console
from bot.reply import Reply
from bot.schedules.corrections import Corrector
from bot.schedules.scheduler import Scheduler
from bot.schedules.store import Store
from bot.schedules.tables import StateTables

if TYPE_CHECKING:
    from bot.desk.server import Running
    from bot.pipeline.service import Newsroom
    from bot.platforms.discord.client import DiscordAdapter
    from bot.platforms.matrix.settings import MatrixSettings

__all__ = [
    "App",
    "ConsoleRun",
    "DiscordRun",
    "PlatformError",
    "ask",
    "check",
    "platforms_from_env",
    "sync_discord",
]

log = logging.getLogger("bot")


@dataclass(frozen=True)
class DiscordRun:
    """Run Discord with this token; ``options`` go to the client (``defer_after``,
    ``guild_id``, ``page_timeout``, ``guild_ready_timeout``, ``check_commands``)."""

    token: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsoleRun:
    """Run the console REPL on these streams (default: the terminal)."""

    stdin: TextIO | None = None
    stdout: TextIO | None = None


def map_maker(config: Config) -> MapSource:
    """The /where map renderer (imported here so ``check`` and ``ask`` stay quick to start)."""
    from bot.maps import MapMaker

    return MapMaker(config.cache / "maps")


def open_library(config: Config) -> Library:
    """The configured digests, loaded once; problems (not additions) reported on stderr. A
    digests folder that does not exist is a configuration error: nothing could ever be served."""
    if not config.digests.is_dir():
        where = f"{config.path}: " if config.path else ""
        raise ConfigError(f"{where}digests: folder {config.digests} not found")
    library = Library(config.digests, cache=config.cache / "verified")
    for text in describe(library.refresh()):
        if not text.startswith("[digests] added"):
            print(text, file=sys.stderr)
    return library


def platforms_from_env(
    config: Config, env: Mapping[str, str]
) -> tuple[DiscordRun | None, MatrixSettings | None]:
    """Which platforms the environment's tokens ask for. A half-configured Matrix raises
    ``PlatformError`` naming what is missing (it must not quietly fall back to the console)."""
    from bot.platforms.matrix.settings import MatrixSettings

    token = Secrets.from_env(dict(env)).discord_token
    matrix = MatrixSettings.from_env(
        env,
        config.matrix.store,
        config.matrix.allowed_rooms,
        config.matrix.msgtype,
        config.matrix.encryption,
    )
    return (DiscordRun(token) if token else None), matrix


def check(paths: Sequence[Path]) -> tuple[int, list[str], list[str]]:
    """Validate digest files and folders (drafts in a folder too): how many are valid, every
    problem as ``FILE:LINE: field: problem``, and the warnings (shown, not fatal)."""
    problems: list[str] = []
    warnings: list[str] = []
    good = 0
    for path in paths:
        if path.is_dir():
            library = Library(path)
            problems.extend(str(p) for p in library.refresh().problems)
            for digest_id in library.ids():
                good += 1
                if (loaded := library.loaded(digest_id)) is not None:
                    warnings.extend(str(w) for w in loaded.warnings)
            # Drafts are never served, but `check` of the folder checks them too.
            drafts = [p for pattern in ("*.draft.yaml", "*.draft.yml") for p in path.glob(pattern)]
            files = sorted(drafts)
        elif path.is_file():
            files = [path]
        else:
            problems.append(f"{path}: no such file or folder")
            continue
        for file in files:
            try:
                warnings.extend(str(w) for w in load_digest(file).warnings)
                good += 1
            except DigestInvalid as exc:
                problems.extend(str(p) for p in exc.problems)
    return good, problems, warnings


def ask(config: Config, line: str) -> Reply:
    """One answer, as the console would give it (``digest-bot ask``). Commands that wait on the
    bot's services (``/schedule list``) get the schedules from the database, read-only: no
    scheduler starts, so nothing is posted or caught up from here."""
    library = open_library(config)
    request = parse(line)
    if request.command != "schedule":
        return Commands(library, map_maker(config)).answer_now(request)
    return asyncio.run(_ask_schedules(config, library, request))


async def _ask_schedules(config: Config, library: Library, request: Request) -> Reply:
    store = Store(config.database_url)
    try:
        scheduler = Scheduler(library, store, catch_up=config.catch_up)
        await scheduler.load(config.schedules)
        return await Commands(library, None, scheduler).answer(request, SHELL)
    finally:
        store.close()


async def sync_discord(
    library: Library, token: str, guild_id: int | None = None, *, clear: bool = False
) -> list[str]:
    """Register the registry's commands with Discord (``python -m bot sync``)."""
    from bot.platforms.discord.client import sync_commands

    return await sync_commands(Commands(library), token, guild_id, clear=clear)


class App:
    """One running bot. ``async with App(...)`` starts and stops it; ``run()`` also serves
    until an adapter ends (the console's input) or fails."""

    def __init__(
        self,
        config: Config,
        library: Library | None = None,
        *,
        console: ConsoleRun | None = None,
        discord: DiscordRun | None = None,
        matrix: MatrixSettings | None = None,
        maps: MapSource | None = None,
        use_maps: bool = True,
        run_jobs: bool = True,
        commands: type[Commands] = Commands,
        clock: Callable[[], datetime] | None = None,
        desk: DeskConfig | None = None,
        background: bool = True,
    ) -> None:
        self.config = config
        self.library = library if library is not None else open_library(config)
        self.maps = maps if maps is not None or not use_maps else map_maker(config)
        self.store = Store(config.database_url)
        self.tables = StateTables(self.store.engine)
        self.scheduler = Scheduler(
            self.library,
            self.store,
            catch_up=config.catch_up,
            maps=self.maps,
            tables=self.tables,
            notify=dict(config.notify),
        )
        if clock is not None:  # tests walk through days without waiting for them
            self.scheduler.clock = clock
        self.commands = commands(self.library, self.maps, self.scheduler)
        self.run_jobs = run_jobs
        from bot.pipeline.service import Newsroom  # feeds and extraction: not for `ask`/`check`

        self.newsroom: Newsroom = Newsroom(config, self.store)
        """Feeds polled, drafts queued, review cards in the review rooms (the pipeline)."""
        self.corrector = Corrector(self.library, self.store, self.scheduler)
        """A change to a live digest edits every message already posted from it."""
        board = self.newsroom.board
        review = config.review
        self.adapters: list[Adapter] = []
        self.console: Console | None = None
        if matrix is not None:
            from bot.platforms.matrix.bot import MatrixBot

            matrix_bot = MatrixBot(self.commands, matrix, board=board)
            self.adapters.append(matrix_bot)
            if review.matrix_room:
                self.newsroom.add_reviewer("matrix", review.matrix_room, matrix_bot)
        if discord is not None:
            from bot.platforms.discord.client import DiscordAdapter

            role = int(review.discord_role) if review.discord_role else None
            adapter = DiscordAdapter(
                self.commands,
                discord.token,
                config.discord.pacing,
                publish=config.discord.publish,
                tables=self.tables,
                board=board,
                reviewer_role=role,
                **discord.options,
            )
            self.adapters.append(adapter)
            if review.discord_channel:
                self.newsroom.add_reviewer("discord", review.discord_channel, adapter)
        if console is not None:
            self.console = Console(
                self.commands,
                stdin=console.stdin,
                stdout=console.stdout,
                board=board,
                history=config.cache / "console-history",
            )
            self.adapters.append(self.console)
        self._reload: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[None]] = []
        self._started: list[Adapter] = []
        self.desk_settings = desk
        self._desk: Running | None = None
        self.background = background
        """False for the desk on its own: the bot's process polls the feeds and edits posts."""

    def adapter(self, name: str) -> Adapter:
        return next(a for a in self.adapters if a.name == name)

    @property
    def discord(self) -> DiscordAdapter:
        from bot.platforms.discord.client import DiscordAdapter

        adapter = self.adapter("discord")
        assert isinstance(adapter, DiscordAdapter)
        return adapter

    async def start(self) -> None:
        """Load the schedules, start every adapter (a refused login fails here), attach each to
        the scheduler, resume and catch up, then start the one digest reload task."""
        try:
            await self.scheduler.load(self.config.schedules)
            for adapter in self.adapters:
                self._started.append(adapter)  # closed by stop() even if its start fails
                await adapter.start()
                # An adapter that connects in the background (Discord) says when it can post.
                ready = getattr(adapter, "ready", None)
                self.scheduler.attach(adapter.name, adapter, adapter.limits, ready)
            await self.scheduler.start(run_jobs=self.run_jobs)
            if self.desk_settings is not None:  # the web stack loads only when the desk runs
                from bot.desk.pipeline_queue import DeskQueue, PipelineQueue
                from bot.desk.review import FolderQueue
                from bot.desk.server import start_desk

                drafts = PipelineQueue(
                    self.newsroom.queue, self.config.digests, self.config.review.expire
                )
                self._desk = await start_desk(
                    self.config,
                    self.desk_settings,
                    library=self.library,
                    store=self.store,
                    commands=self.commands,
                    scheduler=self.scheduler,
                    maps=self.maps,
                    queue=DeskQueue(FolderQueue(self.config.digests), drafts),
                )
        except BaseException:
            await self.stop()
            raise
        if self.config.reload_seconds:
            self._reload = asyncio.create_task(self._reload_forever(), name="digest-reload")
        if self.background:
            self._background = [  # beside the adapters: each logs its own failures, never stops
                asyncio.create_task(self.newsroom.serve(), name="newsroom"),
                asyncio.create_task(self.corrector.serve(), name="corrections"),
            ]

    async def serve(self) -> None:
        """Until one adapter's ``serve`` ends (the console's input) or raises."""
        tasks = [asyncio.create_task(a.serve(), name=f"serve-{a.name}") for a in self.adapters]
        if not tasks:
            return
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [r for r in results if isinstance(r, Exception)]
        if errors:
            raise errors[0]

    async def stop(self) -> None:
        if self._desk is not None:
            await self._desk.close()
            self._desk = None
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background = []
        if self._reload is not None:
            self._reload.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reload
            self._reload = None
        await self.scheduler.stop()
        for adapter in reversed(self._started):
            try:
                await adapter.close()
            except Exception:
                log.exception("closing %s failed", adapter.name)
        self._started = []
        await self.newsroom.close()
        self.store.close()

    async def run(self) -> None:
        await self.start()
        try:
            await self.serve()
        finally:
            await self.stop()

    async def __aenter__(self) -> App:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _reload_forever(self) -> None:
        """The one digest reload loop: off the event loop; the console prints what changed."""
        while True:
            await asyncio.sleep(self.config.reload_seconds)
            try:
                changes = await asyncio.to_thread(self.library.refresh)
            except Exception:  # keep serving the last good library whatever happens
                log.exception("refreshing digests failed")
                continue
            level = logging.WARNING if changes.problems else logging.INFO
            for line in describe(changes):
                if self.console is not None:  # the console's notices carry the time, as logs do
                    self.console.say(f"{datetime.now().astimezone():%H:%M:%S} {line}")
                else:
                    log.log(level, "%s", line)


async def serve_desk(config: Config, settings: DeskConfig) -> None:
    """The desk on its own: the app's library, store and scheduler, no chat platform."""
    app = App(config, desk=settings, run_jobs=False, background=False)
    # Stop cleanly on Ctrl-C and on a service manager's SIGTERM, even when SIGINT came
    # inherited as ignored (a background job of a non-interactive shell).
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    try:
        await stop.wait()
    finally:
        await app.stop()
        log.info("desk: stopped")
