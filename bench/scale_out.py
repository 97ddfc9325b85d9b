"""One scheduled slot fanned out to N channels by several bot processes sharing one token and one
PostgreSQL database, against the fake Discord (50 requests/s globally, 5 per 5 s per channel).

    .venv/bin/python -m bench scale_out [--channels 10000] [--processes 4] [--skip-kill]

Starts a PostgreSQL server (tests/postgres) and the fake Discord, writes one schedule per
channel whose slot is due now, and runs ``python -m bot run --shard-count P --shard-ids i`` for
i in 0..P-1, each with the same ``DATABASE_URL``. Prints, per run: the fan-out's wall time
(first post to last) and its ratio to the floor N/50 s, the time from launch to the last post,
the 429s the fake answered, channels that got nothing (lost) and extra posts (duplicates).
The second run SIGKILLs one process a third of the way through: the others must finish its
rows once its leases run out. Targets: ratio ≤ 1.05, 0 429s, 0 lost, 0 duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.schedules.spec import ScheduleSpec
from bot.schedules.store import Store, marks
from tests.fakes.discord_server import FakeDiscord, RateLimits, running_fake
from tests.fakes.netguard import loopback_only
from tests.fakes.sample_digests import copy_digests
from tests.postgres.harness import Postgres, start_postgres

ROOT = Path(__file__).resolve().parents[1]
GLOBAL_PER_SECOND = 50
POSTS = "POST /channels/{channel_id}/messages"


def write_config(folder: Path, specs: list[ScheduleSpec]) -> Path:
    lines = [
        f"digests: {copy_digests(folder / 'digests')}",
        "reload_seconds: 0",
        "schedules:",
        *(
            f"  - {{platform: discord, channel: '{s.channel}', cron: '{s.cron}', "
            f"timezone: {s.timezone}}}"
            for s in specs
        ),
    ]
    config = folder / "config.yaml"
    config.write_text("\n".join(lines) + "\n", "utf-8")
    return config


UTC_NAMES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "Universal", "Zulu", "Etc/Zulu")
"""One clock, several names: a schedule id is 28 bits of a hash, so among 10,000 schedules a
few share an id (and the bot would keep only one of them); another name gives another id."""


def due_now(url: str, channels: list[int]) -> tuple[list[ScheduleSpec], int]:
    """A schedule per channel whose slot is this minute, marked as handled up to just before;
    and how many needed another name for UTC to get an id of their own."""
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    cron = f"{slot.minute} {slot.hour} * * *"
    specs: dict[str, ScheduleSpec] = {}
    renamed = 0
    for channel in channels:
        for zone in UTC_NAMES:
            spec = ScheduleSpec("discord", str(channel), cron, zone)
            if spec.id not in specs:
                break
        renamed += zone != "UTC"
        specs[spec.id] = spec
    store = Store(url)
    before = (slot - timedelta(seconds=1)).isoformat()
    with store.engine.begin() as conn:
        rows = [{"schedule_id": s.id, "last_slot": before} for s in specs.values()]
        conn.execute(insert(marks), rows)
    store.close()
    return list(specs.values()), renamed


def tally(fake: FakeDiscord) -> tuple[int, int]:
    counts = [len(fake.messages_in(c.id)) for c in fake.channels]
    return sum(1 for n in counts if n == 0), sum(n - 1 for n in counts if n > 1)


async def run(server: Postgres, channels: int, processes: int, kill: bool, tmp: Path) -> None:
    url = server.create_database("scale_out")
    names = tuple(f"c{i}" for i in range(channels))
    async with running_fake(
        channels=names, rate_limits=RateLimits(), shard_count=processes
    ) as fake:
        specs, renamed = due_now(url, [c.id for c in fake.channels])
        if renamed:
            print(f"  ({renamed} schedule ids collided under 'UTC': written with another name)")
        config = write_config(tmp / ("kill" if kill else "plain"), specs)
        env = {
            **os.environ,
            "DISCORD_TOKEN": fake.token,
            "DATABASE_URL": url,
            "PYTHONPATH": str(ROOT),
        }
        logs = [(config.parent / f"bot{i}.log").open("wb") for i in range(processes)]
        launched = time.perf_counter()
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.fakes.bot_process",
                fake.base_url,
                fake.gateway_url,
                "run",
                "--config",
                str(config),
                "--shard-count",
                str(processes),
                "--shard-ids",
                str(index),
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=logs[index],
            )
            for index in range(processes)
        ]
        killed = ""
        try:

            def done() -> int:
                return sum(1 for c in fake.channels if fake.messages_in(c.id))

            def gone() -> bool:
                return all(p.returncode is not None for p in procs)

            if kill:
                await fake.wait_for(
                    lambda: done() >= channels // 3 or gone(), 3600, "a third posted"
                )
                procs[0].send_signal(signal.SIGKILL)
                await procs[0].wait()
                killed = f"  (process 0 SIGKILLed at {done()} channels)"
            await fake.wait_for(lambda: done() == channels or gone(), 3600, "every channel")
            finished = time.perf_counter()
            await asyncio.sleep(2.0)  # anything extra would arrive now
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.terminate()
            for proc in procs:
                await proc.wait()
            for log in logs:
                log.close()
        died = [i for i, p in enumerate(procs) if p.returncode not in (0, -signal.SIGTERM)]
        if died[kill:]:
            first = died[kill]
            tail = (config.parent / f"bot{first}.log").read_text(errors="replace")[-2000:]
            print(f"process {first} exited with {procs[first].returncode}:\n{tail}")
        sent = [r.at for r in fake.requests_to(POSTS) if r.status == 200]
        wall = max(sent) - min(sent)
        floor = channels / GLOBAL_PER_SECOND
        lost, dupes = tally(fake)
        scopes = sorted({h.scope for h in fake.rate_limited})
        hits = ", ".join(f"{sum(1 for h in fake.rate_limited if h.scope == s)} {s}" for s in scopes)
        hits = f" ({hits})" if hits else ""
        name = f"{processes} processes{', one killed' if kill else ''}"
        print(
            f"{name:<26} fan-out {wall:7.2f} s  floor {floor:6.2f} s  ratio {wall / floor:5.3f}  "
            f"launch→last {finished - launched:7.2f} s  429s {fake.count_429:3d}{hits}  "
            f"lost {lost}  duplicates {dupes}{killed}"
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scale_out")
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--skip-kill", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    server = start_postgres()
    try:
        with loopback_only(), tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(server, args.channels, args.processes, False, Path(tmp)))
            if not args.skip_kill:
                asyncio.run(run(server, args.channels, args.processes, True, Path(tmp)))
    finally:
        server.stop()
