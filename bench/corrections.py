"""One correction to a digest posted in N Discord channels → every posted message edited.

    .venv/bin/python -m bench corrections [--channels 500]

The real discord.py client against the fake Discord (50 requests/s globally, per-route
buckets, 429s with retry_after when exceeded), wired by the App as in production. The digest
is posted to N channels through the paced delivery queue; then a figure is corrected in its
file, the library reloads it, and the corrector diffs, logs the correction and queues one edit
per posted message through the same paced sender. Prints the edit wall time against the floor
N/50 s set by Discord's global limit, the 429s the fake answered during the edits (target 0),
the messages not showing the correction (missed, target 0), and new messages created instead
of edits (target 0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from bot.app import App, DiscordRun
from bot.digest.library import Library
from bot.schedules.spec import ScheduleSpec
from tests.fakes.discord_server import RateLimits, running_fake
from tests.fakes.netguard import loopback_only
from tests.helpers import ARTICLE, base_digest, config_for, dump

GLOBAL_PER_SECOND = 50


async def run(channels: int, tmp: Path) -> None:
    folder = tmp / "digests"
    (folder / "articles").mkdir(parents=True)
    (folder / "articles" / "storm.txt").write_text(ARTICLE, encoding="utf-8")
    path = folder / "storm.yaml"
    path.write_text(dump(base_digest()), encoding="utf-8")
    library = Library(folder)
    library.refresh()
    names = tuple(f"c{i}" for i in range(channels))
    async with running_fake(channels=names, rate_limits=RateLimits()) as fake:
        options = {"guild_id": fake.guild_id, "guild_ready_timeout": 0.05, "check_commands": False}
        discord = DiscordRun(fake.token, options)
        config = config_for(folder, tmp)
        async with App(config, library, discord=discord, use_maps=False, run_jobs=False) as app:
            await app.discord.ready(timeout=60)
            scheduler, _store = app.scheduler, app.store
            specs = [ScheduleSpec("discord", str(c.id), "0 8 * * mon-fri") for c in fake.channels]
            await scheduler.load(specs)
            await app.corrector.check()
            start = time.perf_counter()
            for spec in specs:
                await scheduler.deliver(spec, "bench")
            await scheduler.deliverers["discord"].join()
            posted = time.perf_counter() - start
            before = {c.id: [m.id for m in fake.messages_in(c.id)] for c in fake.channels}
            article = folder / "articles" / "storm.txt"
            article.write_text(ARTICLE.replace("14 boats", "15 boats"), encoding="utf-8")
            path.write_text(
                path.read_text(encoding="utf-8")
                .replace("value: 14", "value: 15")
                .replace("damaged 14 boats", "damaged 15 boats"),
                encoding="utf-8",
            )
            hits_before = fake.count_429
            start = time.perf_counter()
            library.refresh()
            await app.corrector.check()
            await scheduler.deliverers["discord"].join()
            seconds = time.perf_counter() - start
            hits = fake.count_429 - hits_before
            missed = created = 0
            for c in fake.channels:
                now = fake.messages_in(c.id)
                created += max(0, len(now) - len(before[c.id]))
                if not all("Corrected " in m.text() and "15 boats" in m.text() for m in now):
                    missed += 1
            edited = sum(len(ids) for ids in before.values())
            floor = edited / GLOBAL_PER_SECOND
            print(
                f"posted to {channels} channels in {posted:.1f} s; corrected {edited} messages: "
                f"wall {seconds:.2f} s, floor {floor:.2f} s, ratio {seconds / floor:.3f}, "
                f"429s {hits}, missed {missed}, new messages {created}"
            )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench corrections")
    parser.add_argument("--channels", type=int, default=500)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    with loopback_only(), tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.channels, Path(tmp)))
