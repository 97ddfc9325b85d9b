"""Fixtures for the Discord end-to-end tests: the real discord.py client against FakeDiscord.

``fake``       a started FakeDiscord with discord.py pointed at it (options by marker:
               ``@pytest.mark.fake_discord(interaction_deadline=0.5)``);
``library``    the repository's Kursk digest plus tests/fakes/digests (the mention-trap digest);
``run_bot``    syncs the commands through ``sync_commands`` and starts a ``DigestBot``;
``bot``        ``run_bot()`` with default options.
Every test here runs under ``loopback_only``: any attempt to reach a non-loopback address fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from bot.digest.library import Library
from bot.platforms.discord_chat import DigestBot, build_client, sync_commands
from tests.fakes.discord_server import FakeDiscord, running_fake, serve_client
from tests.fakes.netguard import loopback_only
from tests.fakes.sample_digests import BRIDGE_ID, KURSK_ID, copy_digests

RunBot = Callable[..., Awaitable[DigestBot]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fake_discord(**options): keyword arguments for the FakeDiscord of a test"
    )


@pytest.fixture
def no_network() -> Iterator[list[str]]:
    with loopback_only() as refused:
        yield refused
    assert refused == [], f"a test tried to reach non-loopback addresses: {refused}"


@pytest.fixture
def library(tmp_path: Path) -> Library:
    library = Library(copy_digests(tmp_path / "digests"))
    changes = library.refresh()
    assert not changes.problems, [str(p) for p in changes.problems]
    assert set(library.ids()) >= {KURSK_ID, BRIDGE_ID}
    return library


@pytest.fixture
async def fake(request: pytest.FixtureRequest, no_network: list[str]) -> AsyncIterator[FakeDiscord]:
    marker = request.node.get_closest_marker("fake_discord")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    async with running_fake(**options) as fake:
        yield fake
    assert fake.unhandled == [], [f"{r.method} {r.path}" for r in fake.unhandled]


@pytest.fixture
async def run_bot(fake: FakeDiscord, library: Library) -> AsyncIterator[RunBot]:
    await sync_commands(library, fake.token, fake.guild_id)
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> DigestBot:
            options.setdefault("guild_ready_timeout", 0.05)
            client = build_client(library, guild_id=fake.guild_id, **options)
            return await stack.enter_async_context(serve_client(fake, client))

        yield start


@pytest.fixture
async def bot(run_bot: RunBot) -> DigestBot:
    return await run_bot()
