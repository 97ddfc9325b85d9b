"""One scheduled post fanned out to N channels through the real discord.py client and the fake
Discord (enforcing 50 requests/s globally and 5 messages per 5 s per channel).

    .venv/bin/python -m bench discord_fanout [--channels 1000] [--skip-naive]
        [--announcements 200] [--posts 1] [--budget 10]

Prints, for the paced delivery queue (``bot.schedules.delivery``: ledger rows, global and
per-channel pacing; wired by ``bot.app.App`` as in production) and for a naive
``asyncio.gather`` of ``channel.send`` as the baseline, without and with the client's HTTP
guard (``bot.platforms.discord.ratelimit``): wall time, its ratio to the floor
N/50 s, the 429s the fake answered, channels that got nothing (lost) and extra
messages (duplicates). Target for the paced run: ≤ 1.05 x floor, 0 429s, 0 lost, 0 duplicates.

Then a post to each of ``--announcements`` announcement channels (``--posts`` each), published
within the per-channel publish budget (``--budget``; Discord's is about 10 an hour): wall time
against the floor of all its requests (messages + publishes) at 50/s, publishes done, budget
refusals (posts that went out unpublished) and 429s. Target: 0 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from bot.app import App, DiscordRun
from bot.commands import content
from bot.digest.library import Library
from bot.platforms.discord.pages import to_embed
from bot.platforms.discord.render import render
from bot.schedules.budget import BudgetLimits
from bot.schedules.spec import Delivery, Limits
from tests.fakes.discord_server import FakeDiscord, RateLimits, running_fake
from tests.fakes.netguard import loopback_only
from tests.helpers import config_for

ROOT = Path(__file__).resolve().parents[1]
GLOBAL_PER_SECOND = 50


def tally(fake: FakeDiscord, before: int) -> tuple[int, int, int]:
    counts = [len(fake.messages_in(c.id)) for c in fake.channels]
    lost = sum(1 for n in counts if n == 0)
    duplicates = sum(n - 1 for n in counts if n > 1)
    return fake.count_429 - before, lost, duplicates


def report(name: str, seconds: float, n: int, hits: int, lost: int, dupes: int) -> None:
    floor = n / GLOBAL_PER_SECOND
    print(
        f"{name:<28} wall {seconds:6.2f} s  floor {floor:5.2f} s  ratio {seconds / floor:5.3f}  "
        f"429s {hits:4d}  lost {lost}  duplicates {dupes}"
    )


def options(fake: FakeDiscord) -> dict[str, object]:
    return {"guild_id": fake.guild_id, "guild_ready_timeout": 0.05, "check_commands": False}


async def paced(channels: int, library: Library, digest_id: str, tmp: Path) -> None:
    """Through the production path: the App's scheduler builds each post, its deliverer paces."""
    names = tuple(f"c{i}" for i in range(channels))
    async with running_fake(channels=names, rate_limits=RateLimits()) as fake:
        (tmp / "paced").mkdir()
        config = config_for(library.folder, tmp / "paced")
        run = DiscordRun(fake.token, options(fake))
        async with App(config, library, discord=run, use_maps=False, run_jobs=False) as app:
            await app.discord.ready(timeout=60)
            scheduler = app.scheduler
            deliverer = scheduler.deliverers["discord"]
            before = fake.count_429
            start = time.perf_counter()
            for c in fake.channels:
                app.store.claim(
                    Delivery("discord", str(c.id), digest_id, "bench", "bench", "pending")
                )
            deliverer.wake()  # it leases the pending rows from the ledger
            await deliverer.join()
            seconds = time.perf_counter() - start
            hits, lost, dupes = tally(fake, before)
            report(f"paced queue ({Limits().per_second:g}/s)", seconds, channels, hits, lost, dupes)


async def naive(channels: int, library: Library, digest_id: str, tmp: Path, guarded: bool) -> None:
    """Every send at once. ``guarded``: through the client's HTTP guard as built (every request
    waits until fewer than 50 went in the last second); else through plain discord.py."""
    names = tuple(f"c{i}" for i in range(channels))
    digest = library.get(digest_id)
    assert digest is not None
    embeds = [to_embed(page) for page in render(content.post(digest, ("summary",))).pages][:10]
    async with running_fake(channels=names, rate_limits=RateLimits()) as fake:
        folder = tmp / ("naive-guarded" if guarded else "naive")
        folder.mkdir()
        config = config_for(library.folder, folder)
        run = DiscordRun(fake.token, options(fake) | ({} if guarded else {"http_trace": None}))
        async with App(config, library, discord=run, use_maps=False, run_jobs=False) as app:
            await app.discord.ready(timeout=60)
            client = app.discord.client
            before = fake.count_429
            start = time.perf_counter()
            results = await asyncio.gather(
                *(client.get_partial_messageable(c.id).send(embeds=embeds) for c in fake.channels),
                return_exceptions=True,
            )
            seconds = time.perf_counter() - start
            failed = sum(1 for r in results if isinstance(r, BaseException))
            hits, lost, dupes = tally(fake, before)
            name = "naive gather, guard" if guarded else "naive gather, no guard"
            report(name, seconds, channels, hits, lost, dupes)
            if failed:
                kinds = sorted(
                    {
                        f"{type(r).__name__}: {r}"[:120]
                        for r in results
                        if isinstance(r, BaseException)
                    }
                )
                print(f"  ({failed} sends raised: {'; '.join(kinds[:3])})")


async def announcements(
    channels: int, posts: int, budget: int, library: Library, digest_id: str, tmp: Path
) -> None:
    """Posts into announcement channels, each published when the budget allows."""
    names = tuple(f"a{i}" for i in range(channels))
    async with running_fake(channels=(), announcements=names, rate_limits=RateLimits()) as fake:
        (tmp / "announce").mkdir()
        config = config_for(
            library.folder, tmp / "announce", publish_limits=BudgetLimits(budget, 3600.0)
        )
        run = DiscordRun(fake.token, options(fake))
        async with App(config, library, discord=run, use_maps=False, run_jobs=False) as app:
            await app.discord.ready(timeout=60)
            scheduler = app.scheduler
            deliverer = scheduler.deliverers["discord"]
            publisher = app.discord.poster.publisher
            start = time.perf_counter()
            for n in range(posts):
                for c in fake.channels:
                    row = Delivery("discord", str(c.id), digest_id, f"bench-{n}", "b", "pending")
                    app.store.claim(row)
            deliverer.wake()  # the deliverer leases the rows and has the scheduler build them
            await deliverer.join()
            seconds = time.perf_counter() - start
    done = len(fake.publishes)
    messages = sum(len(fake.messages_in(c.id)) for c in fake.channels)
    floor = (messages + done) / GLOBAL_PER_SECOND
    print(
        f"{f'announcements ({channels} x {posts})':<28} wall {seconds:6.2f} s  floor {floor:5.2f} s"
        f"  ratio {seconds / floor:5.3f}  publishes {done}  budget refusals {publisher.refused}"
        f"  429s {fake.count_429}  messages {messages}"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench discord_fanout")
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--announcements", type=int, default=200)
    parser.add_argument("--posts", type=int, default=1, help="posts per announcement channel")
    parser.add_argument("--budget", type=int, default=10, help="publishes per channel per hour")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    library = Library(ROOT / "digests")
    library.refresh()
    newest = library.newest()
    assert newest is not None
    with loopback_only(), tempfile.TemporaryDirectory() as tmp:
        asyncio.run(paced(args.channels, library, newest.id, Path(tmp)))
        if not args.skip_naive:
            asyncio.run(naive(args.channels, library, newest.id, Path(tmp), guarded=False))
            asyncio.run(naive(args.channels, library, newest.id, Path(tmp), guarded=True))
        if args.announcements:
            asyncio.run(
                announcements(
                    args.announcements, args.posts, args.budget, library, newest.id, Path(tmp)
                )
            )
