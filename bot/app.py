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
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.commands.base import MapSource, parse
from bot.commands.registry import Commands
from bot.config import Config, Secrets
from bot.digest.library import Library, describe
from bot.digest.load import DigestInvalid, load_digest
from bot.platforms.base import Adapter, PlatformError
from bot.platforms.console import Console
from bot.reply import Reply
from bot.schedules.scheduler import Scheduler
from bot.schedules.store import Store

if TYPE_CHECKING:
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
    """The configured digests, loaded once; problems (not additions) reported on stderr."""
    library = Library(config.digests)
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


def check(paths: Sequence[Path]) -> tuple[int, list[str]]:
    """Validate digest files and folders (drafts in a folder too): how many are valid, and
    every problem as ``FILE:LINE: field: problem``."""
    problems: list[str] = []
    good = 0
    for path in paths:
        if path.is_dir():
            library = Library(path)
            problems.extend(str(p) for p in library.refresh().problems)
            good += len(library.all())
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
                load_digest(file)
                good += 1
            except DigestInvalid as exc:
                problems.extend(str(p) for p in exc.problems)
    return good, problems


def ask(config: Config, line: str) -> Reply:
    """One answer, as the console would give it (``python -m bot ask``)."""
    return Commands(open_library(config), map_maker(config)).answer_now(parse(line))


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
    ) -> None:
        self.config = config
        self.library = library if library is not None else open_library(config)
        self.maps = maps if maps is not None or not use_maps else map_maker(config)
        self.store = Store(config.database_url)
        self.scheduler = Scheduler(
            self.library, self.store, catch_up=config.catch_up, maps=self.maps
        )
        if clock is not None:  # tests walk through days without waiting for them
            self.scheduler.clock = clock
        self.commands = commands(self.library, self.maps, self.scheduler)
        self.run_jobs = run_jobs
        self.adapters: list[Adapter] = []
        self.console: Console | None = None
        if matrix is not None:
            from bot.platforms.matrix.bot import MatrixBot

            self.adapters.append(MatrixBot(self.commands, matrix))
        if discord is not None:
            from bot.platforms.discord.client import DiscordAdapter

            self.adapters.append(
                DiscordAdapter(
                    self.commands, discord.token, config.discord.pacing, **discord.options
                )
            )
        if console is not None:
            self.console = Console(self.commands, stdin=console.stdin, stdout=console.stdout)
            self.adapters.append(self.console)
        self._reload: asyncio.Task[None] | None = None
        self._started: list[Adapter] = []

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
        except BaseException:
            await self.stop()
            raise
        if self.config.reload_seconds:
            self._reload = asyncio.create_task(self._reload_forever(), name="digest-reload")

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
                if self.console is not None:
                    self.console.say(line)
                else:
                    log.log(level, "%s", line)
