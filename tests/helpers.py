"""Test data and helpers shared by test modules (fixtures live in the conftest files; test
modules import from here, never from a conftest)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.app import App
from bot.commands.base import (
    CONSOLE,
    Caller,
    Command,
    CommandSpec,
    Context,
    MapSource,
    OptionSpec,
    Request,
)
from bot.commands.registry import Commands, register, specs, unregister
from bot.config import Config, DiscordSection, MatrixSection
from bot.digest.library import Library
from bot.reply import Line, Reply, Section
from bot.schedules.budget import BudgetLimits
from bot.schedules.spec import Limits, ScheduleSpec

ROOT = Path(__file__).resolve().parents[1]
KURSK = ROOT / "tests" / "data" / "kursk" / "kursk-2024-08-09.yaml"
"""The Kursk sample digest, the tests' own copy: the repository's ``digests/`` is a newsroom's
content, and a second digest there must not change any test."""


def kursk_library(cache: Path) -> Library:
    """The Kursk sample, loaded, with its verification cache in ``cache`` (a temporary folder):
    a library's default cache sits beside its digests, and tests must not write into
    ``tests/data``."""
    library = Library(KURSK.parent, cache=cache)
    library.refresh()
    return library


ARTICLE = """Storm closes the harbour
The harbour at Portwell was closed on Monday after a storm damaged 14 boats.
Click here to view this content.
The coastguard said two dozen people were evacuated from the quay.
The fishermen's union claimed that up to 300 jobs were at risk.
"""


def base_digest() -> dict[str, Any]:
    return {
        "schema": 1,
        "id": "storm-2024-01-08",
        "title": "Storm closes Portwell harbour",
        "published": "2024-01-08",
        "article": {
            "publisher": "The Portwell Post",
            "headline": "Storm closes the harbour",
            "url": None,
            "text": "articles/storm.txt",
        },
        "sources": {
            "post": {"name": "The Portwell Post", "kind": "publisher"},
            "coastguard": {"name": "The coastguard", "kind": "official"},
            "union": {"name": "The fishermen's union", "kind": "other", "side": "workers"},
        },
        "summary": [
            {
                "text": "Portwell harbour closed after a storm damaged boats.",
                "source": "post",
                "quote": "The harbour at Portwell was closed on Monday",
            }
        ],
        "figures": [
            {
                "label": "Boats damaged",
                "value": 14,
                "unit": "boats",
                "status": "reported",
                "source": "post",
                "quote": "a storm damaged 14 boats",
            },
            {
                "label": "People evacuated",
                "value": 24,
                "unit": "people",
                "status": "reported",
                "source": "coastguard",
                "quote": "two dozen people were evacuated",
            },
            {
                "label": "Jobs at risk",
                "value": 300,
                "qualifier": "up to",
                "unit": "jobs",
                "status": "claim",
                "source": "union",
                "quote": "up to 300 jobs were at risk",
            },
        ],
        "places": [
            {
                "name": "Portwell",
                "region": "Cornwall, UK",
                "lat": 50.1,
                "lon": -5.5,
                "what": "The closed harbour",
                "source": "post",
                "quote": "The harbour at Portwell",
            }
        ],
    }


def dump(data: dict[str, Any]) -> str:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    # safe_dump quotes the date string; a digest writes it bare so YAML reads a date.
    return text.replace("published: '2024-01-08'", "published: 2024-01-08")


WriteDigest = Callable[..., Path]
RunBot = Callable[..., Awaitable[App]]
"""The ``run_bot`` fixture (tests/platforms/conftest.py): starts an ``App`` with Discord."""


def answer(
    library: Library, request: Request, maps: MapSource | None = None, caller: Caller = CONSOLE
) -> Reply:
    """A command's reply, computed in the calling thread (what every adapter gets)."""
    return Commands(library, maps).answer_now(request, caller)


def reading_commands() -> dict[str, CommandSpec]:
    """The commands everyone may run (all but /schedule), by name, in their order."""
    return {s.name: s for s in specs() if s.who == "anyone"}


def config_for(
    folder: Path,
    state: Path,
    *,
    schedules: Sequence[ScheduleSpec] = (),
    reload_seconds: float = 0,
    discord_limits: Limits | None = None,
    database: Path | None = None,
    notify: Mapping[str, str] | None = None,
    publish_limits: BudgetLimits | None = None,
    database_url: str | None = None,
) -> Config:
    """A Config for a test: its own digests folder, database and cache under ``state``
    (``database_url``: any database instead, e.g. a PostgreSQL one from ``db_url``)."""
    return Config(
        path=None,
        digests=folder,
        reload_seconds=reload_seconds,
        cache=state / "cache",
        log_level="INFO",
        database_url=database_url or f"sqlite:///{database or state / 'state.sqlite3'}",
        catch_up=timedelta(hours=1),
        schedules=tuple(schedules),
        discord=DiscordSection(discord_limits or Limits(), publish_limits or BudgetLimits()),
        matrix=MatrixSection(store=state / "matrix-store"),
        notify=dict(notify or {}),
    )


@contextmanager
def throwaway_command() -> Iterator[CommandSpec]:
    """/echo WORD, registered in ``bot.commands`` for the test's duration: no adapter knows it."""

    def run(ctx: Context, request: Request, caller: Caller) -> Reply:
        word = request.text("word") or " ".join(request.args)
        line = Line(f"{len(ctx.library.all())} digests loaded; asked on {caller.platform}")
        return Reply(title=f"echo: {word}", sections=(Section(None, (line,)),))

    spec = CommandSpec(
        "echo", "Say a word back", (OptionSpec("word", "The word to say back", "text"),), "/echo hi"
    )
    register(Command(spec, run=run))
    try:
        yield spec
    finally:
        unregister(spec.name)
