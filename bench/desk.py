"""Desk page latency: server time p50/p99 for the digest page and the review page on a
Kursk-sized digest, and for the digests list with 5,000 digests loaded.

    python -m bench desk [--digests 5000] [--repeat 300]

The data is made here (an article of 40 sentences, a digest of 45 items quoting it, 12 sources,
2,000 ledger rows), never read from the repository. "Server time" is measured by a middleware
around the handler (what the desk spends per request); "round trip" adds HTTP on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from cryptography.fernet import Fernet

from bot.commands.registry import Commands
from bot.desk.accounts import Accounts
from bot.desk.context import Desk
from bot.desk.review import FolderQueue
from bot.desk.server import make_app
from bot.digest.library import Library
from bot.schedules.scheduler import Scheduler
from bot.schedules.spec import Delivery
from bot.schedules.store import Store

SIDES = ["north", "south"]
PLACES = [f"Town{chr(65 + i)}ovo" for i in range(13)]


def article_and_digest(digest_id: str) -> tuple[str, dict[str, Any]]:
    """About 5.5 KB of text in the manner of war reporting, and a digest of 45 items on it."""
    sentences: list[str] = []
    summary: list[dict[str, Any]] = []
    figures: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    sources: dict[str, Any] = {"paper": {"name": "The Daily Example", "kind": "publisher"}}
    for i in range(10):
        side = SIDES[i % 2]
        sources[f"{side}-{i}"] = {
            "name": f"The {side} ministry office {i}",
            "kind": "government",
            "side": side,
        }
    sources["analyst"] = {"name": "An institute for studies", "kind": "think-tank"}
    for i in range(40):
        place = PLACES[i % len(PLACES)]
        number = 100 + i * 7
        sentence = (
            f"Officials in {place} said that up to {number} people had left the area on day "
            f"{i + 1}, while convoys moved along the road towards the river crossing."
        )
        sentences.append(sentence)
        key = f"{SIDES[i % 2]}-{i % 10}"
        if i < 20:
            figures.append(
                {
                    "label": f"People who left {place}",
                    "value": number,
                    "qualifier": "up to",
                    "unit": "people",
                    "status": "claim",
                    "source": key,
                    "quote": f"up to {number} people had left the area",
                }
            )
        elif i < 32:
            summary.append(
                {
                    "text": f"Convoys moved towards the river crossing near {place}.",
                    "source": "paper",
                    "quote": f"Officials in {place} said that up to {number} people",
                }
            )
    for index, place in enumerate(PLACES):
        places.append(
            {
                "name": place,
                "region": "Example oblast",
                "lat": 50.0 + index * 0.1,
                "lon": 35.0 + index * 0.1,
                "what": "where officials reported departures",
                "source": "paper",
                "quote": f"Officials in {place} said",
            }
        )
    digest = {
        "schema": 1,
        "id": digest_id,
        "title": "A Kursk-sized digest for the desk benchmark",
        "published": "2024-08-09",
        "article": {
            "publisher": "The Daily Example",
            "headline": "Day four",
            "url": None,
            "text": "articles/bench.txt",
        },
        "sources": sources,
        "summary": summary,
        "figures": figures,
        "places": places,
    }
    return "Day four\n" + "\n".join(sentences) + "\n", digest


def dump(data: dict[str, Any]) -> str:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return re.sub(r"published: '(\d{4}-\d\d-\d\d)'", r"published: \1", text)


def make_folder(folder: Path, count: int) -> None:
    (folder / "articles").mkdir(parents=True)
    article, digest = article_and_digest("bench-digest")
    (folder / "articles" / "bench.txt").write_text(article, "utf-8")
    text = dump(digest)
    (folder / "bench-digest.yaml").write_text(text, "utf-8")
    (folder / "bench-review.draft.yaml").write_text(
        text.replace("id: bench-digest", "id: bench-review"), "utf-8"
    )
    for i in range(1, count):
        copy = text.replace("id: bench-digest", f"id: generated-{i:05d}").replace(
            "published: 2024-08-09", f"published: 2023-{1 + i % 12:02d}-{1 + i % 28:02d}"
        )
        (folder / f"generated-{i:05d}.yaml").write_text(copy, "utf-8")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def run(folder: Path, database: str, repeat: int) -> None:
    library = Library(folder)
    start = time.perf_counter()
    library.refresh()
    loaded = time.perf_counter() - start
    store = Store(database)
    for i in range(2000):
        row = Delivery(
            "discord",
            f"{1100000000000000000 + i % 50}",
            f"generated-{i % 400 + 1:05d}",
            f"2024-01-{1 + i // 50 % 28:02d}T08:00Z",
            "s1",
            "pending",
        )
        store.claim(row)
        store.mark(row.key, "sent", message_id=str(1200000000000000000 + i))
    accounts = Accounts(
        database, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    accounts.add("bench", "editor", "bench password")
    scheduler = Scheduler(library, store)
    desk = Desk(
        library, accounts, FolderQueue(folder), store, Commands(library, None, scheduler), scheduler
    )
    app = make_app(desk, Fernet(Fernet.generate_key()))
    server_ms: list[float] = []

    @web.middleware
    async def timed(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        begin = time.perf_counter()
        try:
            return await handler(request)
        finally:
            server_ms.append((time.perf_counter() - begin) * 1000)

    app.middlewares.insert(0, timed)
    print(f"{len(library.all()):,} digests loaded in {loaded:.1f} s; 2,000 ledger rows")
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        page = await (await client.get("/login")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        signed = await client.post(
            "/login", data={"csrf": csrf.group(1), "name": "bench", "password": "bench password"}
        )
        assert signed.status == 200, signed.status
        assert signed.url.path == "/digests", signed.url
        cases = [
            ("digest page (45 items, ledger)", "/digests/bench-digest"),
            ("review page (45 items, loader)", "/drafts/bench-review"),
            (f"list page 1 of {len(library.all()):,}", "/digests"),
            ("list page 50, search 'generated'", "/digests?q=generated&page=50"),
        ]
        for label, path in cases:
            for _ in range(5):  # warm up
                await (await client.get(path)).read()
            server_ms.clear()
            trips: list[float] = []
            for _ in range(repeat):
                begin = time.perf_counter()
                answer = await client.get(path)
                body = await answer.read()
                trips.append((time.perf_counter() - begin) * 1000)
                assert answer.status == 200, (path, answer.status, body[:200])
            p50, p99 = percentiles(server_ms)
            t50, t99 = percentiles(trips)
            print(
                f"{label:38s} server p50 {p50:6.2f} ms  p99 {p99:6.2f} ms   "
                f"round trip p50 {t50:6.2f} ms  p99 {t99:6.2f} ms  ({len(body) // 1024} KiB)"
            )
    accounts.close()
    store.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench desk")
    parser.add_argument("--digests", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "digests"
        make_folder(folder, args.digests)
        asyncio.run(run(folder, f"sqlite:///{Path(tmp) / 'state.sqlite3'}", args.repeat))
