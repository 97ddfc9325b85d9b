"""The fake Discord's fixtures, for every test that uses it (a pytest plugin, loaded by the
root conftest): ``no_network`` and ``fake``.

``fake``  a started FakeDiscord with discord.py pointed at it; options by marker:
          ``@pytest.mark.fake_discord(interaction_deadline=0.5)``. At the end of the test no
          request may have gone unanswered by a route (``fake.unhandled == []``).
Every test using them runs under ``loopback_only``: reaching a non-loopback address fails.
"""

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
    assert fake.unhandled == [], [f"{r.method} {r.path}" for r in fake.unhandled]
