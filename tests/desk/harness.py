"""A desk over data the tests own: a digests folder, a SQLite file, accounts, a draft.

``DeskServer`` runs the real aiohttp app on 127.0.0.1 in a thread of its own, so the browser
(Playwright's sync API, driving Debian's Chromium) and the test talk to it like a user would.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from cryptography.fernet import Fernet

from bot.commands.registry import Commands
from bot.desk.accounts import Accounts
from bot.desk.context import Desk
from bot.desk.pipeline_queue import DeskQueue, PipelineQueue
from bot.desk.review import FolderQueue, ReviewQueue
from bot.desk.server import make_app
from bot.digest.library import Library
from bot.maps import MapMaker
from bot.pipeline.queue import Queue
from bot.schedules.scheduler import Scheduler
from bot.schedules.store import Store
from tests.helpers import ARTICLE, base_digest, dump

PASSWORD = "correct horse battery"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

HOSTILE_ARTICLE = """Notice about the bridge <script>alert('pwned')</script>
The bridge on Mill Road will close for 3 weeks, the council said.
Residents said <img src=x onerror="document.title='pwned'"> about 200 people cross it daily.
A sign read @everyone come to the meeting at 6 pm.
"""


def hostile_digest() -> dict[str, Any]:
    """Every string a browser might run or a chat might ping, each quote verbatim in its text."""
    return {
        "schema": 1,
        "id": "bridge-2024-09-02",
        "title": "<script>alert('title')</script> Bridge closes",
        "published": "2024-09-02",
        "article": {
            "publisher": "The <b>Mill</b> Gazette",
            "headline": "Notice about the bridge",
            "url": None,
            "text": "articles/bridge.txt",
        },
        "sources": {
            "gazette": {"name": "The Mill Gazette", "kind": "publisher"},
            "council": {"name": "<img src=x onerror=alert(1)> council", "kind": "official"},
            "residents": {"name": "Residents @everyone", "kind": "other", "side": "residents"},
        },
        "summary": [
            {
                "text": "<script>document.title='pwned'</script> The bridge closes. @everyone",
                "source": "council",
                "quote": "The bridge on Mill Road will close for 3 weeks",
            },
            {
                "text": "A sign called @everyone to a meeting.",
                "source": "gazette",
                "quote": "A sign read @everyone come to the meeting",
            },
        ],
        "figures": [
            {
                "label": "<img src=x onerror=\"document.title='pwned'\"> daily crossings",
                "value": 200,
                "qualifier": "about",
                "unit": "people",
                "status": "claim",
                "source": "residents",
                "quote": "<img src=x onerror=\"document.title='pwned'\"> about 200 people",
            }
        ],
    }


def storm_draft() -> dict[str, Any]:
    """The storm digest as a draft whose claim is wrongly credited to the coastguard."""
    data = copy.deepcopy(base_digest())
    data["id"] = "storm-draft-2024-01-08"
    data["figures"][2]["source"] = "coastguard"
    return data


@dataclass
class Data:
    root: Path
    digests: Path
    database: str


def make_data(root: Path, *, hostile: bool = True, draft: bool = True) -> Data:
    digests = root / "digests"
    (digests / "articles").mkdir(parents=True, exist_ok=True)
    (digests / "articles" / "storm.txt").write_text(ARTICLE, "utf-8")
    (digests / "storm.yaml").write_text(dump(base_digest()), "utf-8")
    if hostile:
        (digests / "articles" / "bridge.txt").write_text(HOSTILE_ARTICLE, "utf-8")
        text = dump(hostile_digest()).replace("published: '2024-09-02'", "published: 2024-09-02")
        (digests / "bridge.yaml").write_text(text, "utf-8")
    if draft:
        (digests / "storm-draft.draft.yaml").write_text(dump(storm_draft()), "utf-8")
    return Data(root, digests, f"sqlite:///{root / 'state.sqlite3'}")


def make_desk(data: Data, *, maps: bool = False, pipeline: bool = False) -> Desk:
    library = Library(data.digests)
    library.refresh()
    store = Store(data.database)
    accounts = Accounts(data.database, hasher=FAST_HASHER)
    for name, role in (("ed", "editor"), ("ada", "admin")):
        if accounts.get(name) is None:
            accounts.add(name, role, PASSWORD)
    scheduler = Scheduler(library, store)
    queue: ReviewQueue = FolderQueue(data.digests)
    if pipeline:  # the pipeline's queue in the store, beside the draft files
        queue = DeskQueue(
            FolderQueue(data.digests),
            PipelineQueue(Queue(store.engine), data.digests, timedelta(days=7)),
        )
    return Desk(
        library=library,
        accounts=accounts,
        queue=queue,
        store=store,
        commands=Commands(library, None, scheduler),
        scheduler=scheduler,
        maps=MapMaker(data.root / "cache") if maps else None,
    )


class DeskServer:
    """The desk app on 127.0.0.1:<free port>, served from a background thread's event loop."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""

    def __enter__(self) -> DeskServer:
        from aiohttp import web

        self.thread.start()

        async def start() -> web.AppRunner:
            runner = web.AppRunner(make_app(self.desk, Fernet(Fernet.generate_key())))
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            self.url = f"http://127.0.0.1:{port}"
            return runner

        self.runner = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        return self

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def __exit__(self, *exc: object) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.desk.store.close()
        self.desk.accounts.close()
