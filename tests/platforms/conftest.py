"""Fixtures for the Discord end-to-end tests: the real discord.py client against FakeDiscord,
wired by ``bot.app.App`` exactly as in production (``fake`` comes from tests/fakes/plugin.py).

``library``    the tests' Kursk digest plus tests/fakes/digests (the mention-trap digest);
``run_bot``    syncs the commands, then starts an ``App`` with Discord and waits until READY;
               keyword arguments go to the Discord client, except ``maps``, ``commands``,
               ``clock``, ``schedules``, ``discord_limits`` and ``database`` (for the ``App``);
``bot``        ``run_bot()`` with default options: its Discord client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, DiscordRun, sync_discord
from bot.commands.base import MapSource
from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.platforms.discord.client import DigestBot
from bot.schedules.budget import BudgetLimits
from bot.schedules.spec import Limits, ScheduleSpec
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.sample_digests import BRIDGE_ID, KURSK_ID, copy_digests
from tests.helpers import RunBot, config_for


@pytest.fixture
def library(tmp_path: Path) -> Library:
    library = Library(copy_digests(tmp_path / "digests"))
    changes = library.refresh()
    assert not changes.problems, [str(p) for p in changes.problems]
    assert set(library.ids()) >= {KURSK_ID, BRIDGE_ID}
    return library


@pytest.fixture
async def run_bot(fake: FakeDiscord, library: Library, tmp_path: Path) -> AsyncIterator[RunBot]:
    await sync_discord(library, fake.token, fake.guild_id)
    async with AsyncExitStack() as stack:

        async def start(
            *,
            maps: MapSource | None = None,
            commands: type[Commands] = Commands,
            clock: Callable[[], datetime] | None = None,
            schedules: Sequence[ScheduleSpec] = (),
            discord_limits: Limits | None = None,
            database: Path | None = None,
            notify: Mapping[str, str] | None = None,
            publish_limits: BudgetLimits | None = None,
            database_url: str | None = None,
            **options: Any,
        ) -> App:
            options.setdefault("guild_ready_timeout", 0.05)
            options.setdefault("guild_id", fake.guild_id)
            config = config_for(
                library.folder,
                tmp_path,
                schedules=schedules,
                discord_limits=discord_limits,
                database=database,
                notify=notify,
                publish_limits=publish_limits,
                database_url=database_url,
            )
            app = App(
                config,
                library,
                discord=DiscordRun(fake.token, options),
                maps=maps,
                use_maps=False,
                run_jobs=False,
                commands=commands,
                clock=clock,
            )
            await stack.enter_async_context(app)
            await app.discord.ready()
            return app

        yield start


@pytest.fixture
async def bot(run_bot: RunBot) -> DigestBot:
    return (await run_bot()).discord.client
