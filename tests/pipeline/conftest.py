"""Fixtures: the loopback publisher site, a queue on a fresh SQLite file, an ingestor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from bot.draft.geo import GeoEntry
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.ingest import Ingestor
from bot.pipeline.queue import Queue
from bot.schedules.store import Store
from tests.pipeline.site import site  # noqa: F401  (the fixture)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 8, 9, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
def queue(store: Store) -> Queue:
    return Queue(store.engine)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "digests"
    path.mkdir()
    return path


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    f = Fetcher(FetchLimits(host_interval=0.0, timeout=2.0, max_bytes=1024 * 1024))
    yield f
    await f.close()


class Gazetteer:
    """The fixture articles' places, so tests need not scan GeoNames (seconds per draft)."""

    PLACES: ClassVar[dict[str, tuple[float, float]]] = {
        "portwell": (50.12, -5.54),
        "carrow island": (50.2, -5.7),
        "hallam": (53.37, -1.5),
    }

    def find(self, names: Iterable[str]) -> dict[str, list[GeoEntry]]:
        found: dict[str, list[GeoEntry]] = {}
        for name in names:
            at = self.PLACES.get(name)
            found[name] = (
                [GeoEntry(1, name.title(), at[0], at[1], "GB", "ENG", 5000, True)] if at else []
            )
        return found


@pytest.fixture
def ingestor(queue: Queue, fetcher: Fetcher, folder: Path, clock: Clock) -> Ingestor:
    return Ingestor(queue, fetcher, folder, clock=clock, gazetteer=Gazetteer())
