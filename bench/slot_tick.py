"""One slot of many schedules, ticked by one process: how long from the wake-up until every
ledger row is written (the sender is woken after each batch of rows, so this bounds how late
the last rows start, not the first).

    .venv/bin/python -m bench slot_tick [--schedules 10000] [--digests 20000]

SQLite in a temporary folder; a library of ``--digests`` digests (the sample digests repeated:
what is measured is choosing each schedule's digest, not loading them). Prints the median of
three ticks of a fresh slot each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.digest.library import Library
from bot.reply import Reply
from bot.schedules.options import AS_CONFIGURED, Placement, Posted
from bot.schedules.scheduler import Scheduler
from bot.schedules.spec import Limits, ScheduleSpec
from bot.schedules.store import Store
from tests.fakes.sample_digests import copy_digests


class Nowhere:
    """A poster never reached: the deliverer is not started, only rows are written."""

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        raise AssertionError("not sent in this benchmark")


async def ticks(schedules: int, digests: int, folder: Path) -> list[float]:
    library = Library(copy_digests(folder / "digests"))
    library.refresh()
    many = (library.all() * (digests // max(1, len(library.all())) + 1))[:digests]
    library.all = lambda: many  # type: ignore[method-assign]
    now = [datetime(2026, 12, 1, 7, 59, 30, tzinfo=UTC)]
    store = Store(f"sqlite:///{folder / 'state.sqlite3'}")
    scheduler = Scheduler(library, store, clock=lambda: now[0])
    scheduler.attach("discord", Nowhere(), Limits())
    specs = [
        ScheduleSpec("discord", str(10**17 + i), "0 * * * *", "UTC", origin="chat")
        for i in range(schedules)
    ]
    await scheduler.load(specs)
    ids = [spec.id for spec in specs]
    await scheduler.tick_many(ids)  # the marks: a new schedule owes nothing
    seconds = []
    for hour in (8, 9, 10):
        now[0] = datetime(2026, 12, 1, hour, 0, 1, tzinfo=UTC)
        start = time.perf_counter()
        await scheduler.tick_many(ids)
        seconds.append(time.perf_counter() - start)
        now[0] += timedelta(minutes=30)
    store.close()
    return seconds


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench slot_tick")
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--digests", type=int, default=20_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        seconds = asyncio.run(ticks(args.schedules, args.digests, Path(tmp)))
    print(
        f"{args.schedules} schedules, {args.digests} digests: tick median "
        f"{statistics.median(seconds):.2f} s (runs: {', '.join(f'{s:.2f}' for s in seconds)})"
    )
