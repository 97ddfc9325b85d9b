"""A feed of N new entries on a loopback server → N drafts in the review queue.

    .venv/bin/python -m bench ingest [--entries 200] [--gazetteer geonames|none]

One poll of an RSS feed whose entries link to N distinct article pages (written for the tests,
``tests/pipeline/articles.py``): each page is fetched (polite fetcher, per-host interval 0 on
loopback), extracted (trafilatura), saved, drafted (``bot.draft``) and queued (SQLite).
Prints the total wall time, the per-article median and 90th percentile, the drafts queued, and
the process's peak RSS. ``--gazetteer none`` drafts without place lookups, to show what the
drafter's GeoNames scan costs per article.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.draft.geo import GeoEntry
from bot.pipeline.feeds import Entry
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.ingest import FeedSpec, Ingestor, Outcome
from bot.pipeline.queue import Queue
from bot.schedules.store import Store
from tests.fakes.netguard import loopback_only
from tests.pipeline.articles import numbered, page
from tests.pipeline.site import Item, rss


class NoPlaces:
    def find(self, names: Iterable[str]) -> dict[str, list[GeoEntry]]:
        return {name: [] for name in names}


async def run(entries: int, gazetteer: str, tmp: Path) -> None:
    pages = {f"/story/{n}": page(*numbered(n)) for n in range(entries)}

    async def handle(request: web.Request) -> web.Response:
        if request.path == "/rss":
            return web.Response(text=feed, content_type="application/rss+xml")
        return web.Response(text=pages[request.path], content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("/"))
    feed = rss([Item(numbered(n)[0], f"{base}story/{n}", f"guid-{n}") for n in range(entries)])
    store = Store(f"sqlite:///{tmp / 'state.sqlite3'}")
    (tmp / "digests").mkdir()
    fetcher = Fetcher(FetchLimits(host_interval=0.0))
    ingestor = Ingestor(
        Queue(store.engine),
        fetcher,
        tmp / "digests",
        gazetteer=NoPlaces() if gazetteer == "none" else None,
    )
    timings: list[float] = []
    one_entry = ingestor.entry

    async def timed(
        entry: Entry, publisher: str, outcome: Outcome, published: date | None = None
    ) -> None:
        start = time.perf_counter()
        await one_entry(entry, publisher, outcome, published)
        timings.append(time.perf_counter() - start)

    ingestor.entry = timed  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        outcome = await ingestor.poll(FeedSpec(f"{base}rss", "The Portwell Post", timedelta(0)))
        total = time.perf_counter() - start
    finally:
        await fetcher.close()
        await server.close()
        store.close()
    ordered = sorted(timings)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"ingest {entries} entries (gazetteer {gazetteer}): total {total:.1f} s, "
        f"per article median {statistics.median(timings) * 1000:.0f} ms, "
        f"p90 {p90 * 1000:.0f} ms, queued {len(outcome.queued)}, "
        f"problems {len(outcome.problems)}, peak RSS {rss_mb:.0f} MB"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench ingest")
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--gazetteer", choices=("geonames", "none"), default="geonames")
    args = parser.parse_args(argv)
    with loopback_only(), tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.entries, args.gazetteer, Path(tmp)))
