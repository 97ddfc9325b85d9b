"""Fixtures for the fake Discord's own tests (the fake must be right before it judges the bot)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.fakes.discord_server import FakeDiscord, running_fake
from tests.fakes.netguard import loopback_only


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
async def fake(request: pytest.FixtureRequest, no_network: list[str]) -> AsyncIterator[FakeDiscord]:
    marker = request.node.get_closest_marker("fake_discord")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    async with running_fake(**options) as fake:
        yield fake
