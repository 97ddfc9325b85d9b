"""One scheduled slot fanned out to N channels by several bot processes sharing one token and one
PostgreSQL database, against the fake Discord (50 requests/s globally, 5 per 5 s per channel).

    .venv/bin/python -m bench scale_out [--channels 10000] [--processes 4] [--skip-kill]

Starts a PostgreSQL server (tests/postgres) and the fake Discord, stores one schedule per
channel (as /schedule add does) whose slot is the first whole minute at least ``--lead`` s
ahead, and runs ``python -m bot run --shard-count P --shard-ids i`` for i in 0..P-1, each with
the same ``DATABASE_URL``; every process ticks every schedule at the slot and one of them, the
token's elected sender, sends. Prints, per run: the time from the slot to the last post and its
ratio to the floor N/50 s, first post to last, the 429s the fake answered, channels that got
nothing (lost) and extra posts (duplicates). The second run SIGKILLs the sender a third of the
way through: another process must take the lock and its leases and finish. Targets: ratio ≤
1.05, 0 429s, 0 lost, 0 duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import signal
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select

from bot.schedules.spec import ScheduleSpec
from bot.schedules.store import Store, deliveries, marks, schedules
from tests.fakes.bot_process import run_shards, stop_all
from tests.fakes.discord_server import FakeDiscord, RateLimits, running_fake
from tests.fakes.netguard import loopback_only
from tests.fakes.sample_digests import copy_digests
from tests.postgres.harness import Postgres, start_postgres

ROOT = Path(__file__).resolve().parents[1]
GLOBAL_PER_SECOND = 50
POSTS = "POST /channels/{channel_id}/messages"
LOOKUP = "GET /channels/{channel_id}"


def write_config(folder: Path, per_second: float | None) -> Path:
    lines = [f"digests: {copy_digests(folder / 'digests')}", "reload_seconds: 0"]
    if per_second is not None:
        lines += ["discord_pacing:", f"  per_second: {per_second}"]
    config = folder / "config.yaml"
    config.write_text("\n".join(lines) + "\n", "utf-8")
    return config


def schedule_slot(url: str, channels: list[int], lead: float) -> datetime:
    """A schedule per channel (stored, as /schedule add stores them: 10,000 do not fit in
    config.yaml) whose slot is the first whole minute at least ``lead`` s away, so that every
    process is up before it."""
    now = datetime.now(UTC)
    slot = (now + timedelta(seconds=lead + 60)).replace(second=0, microsecond=0)
    cron = f"{slot.minute} {slot.hour} * * *"
    specs = {
        spec.id: spec
        for spec in (
            ScheduleSpec("discord", str(channel), cron, "UTC", origin="chat")
            for channel in channels
        )
    }
    assert len(specs) == len(channels), "two schedules share an id"
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(
            insert(schedules),
            [
                {"id": i, "spec": json.dumps(s.to_json()), "created_at": now}
                for i, s in specs.items()
            ],
        )
        conn.execute(
            insert(marks), [{"schedule_id": i, "last_slot": now.isoformat()} for i in specs]
        )
    store.close()
    return slot


def sender_pids(url: str) -> set[int]:
    """The processes holding leases on pending rows (owners are ``host:pid:random``): the
    sender."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            owners = conn.execute(
                select(deliveries.c.lease_owner)
                .where(deliveries.c.state == "pending", deliveries.c.lease_owner.is_not(None))
                .distinct()
            ).scalars()
            return {int(owner.split(":")[1]) for owner in owners}
    finally:
        engine.dispose()


def tally(fake: FakeDiscord) -> tuple[int, int]:
    counts = [len(fake.messages_in(c.id)) for c in fake.channels]
    return sum(1 for n in counts if n == 0), sum(n - 1 for n in counts if n > 1)


async def run(
    server: Postgres,
    channels: int,
    processes: int,
    kill: bool,
    lead: float,
    tmp: Path,
    per_second: float | None,
) -> None:
    url = server.create_database("scale_out")
    names = tuple(f"c{i}" for i in range(channels))
    async with running_fake(
        channels=names, rate_limits=RateLimits(), shard_count=processes
    ) as fake:
        slot = schedule_slot(url, [c.id for c in fake.channels], lead)
        config = write_config(tmp / ("kill" if kill else "plain"), per_second)
        env = {
            **os.environ,
            "DISCORD_TOKEN": fake.token,
            "DATABASE_URL": url,
            "PYTHONPATH": str(ROOT),
        }
        logs = [(config.parent / f"bot{i}.log").open("wb") for i in range(processes)]
        procs = await run_shards(
            fake.base_url, fake.gateway_url, config, processes, env=env, cwd=ROOT, logs=logs
        )
        killed = ""
        victim: asyncio.subprocess.Process | None = None
        slot_at = time.monotonic() + (slot - datetime.now(UTC)).total_seconds()
        try:

            def done() -> int:
                return sum(1 for c in fake.channels if fake.messages_in(c.id))

            def gone() -> bool:
                return all(p.returncode is not None for p in procs)

            await fake.wait_for(
                lambda: fake.connected_shards == list(range(processes)) or gone(),
                3600,
                "every shard",
            )
            if time.monotonic() > slot_at:
                print(f"  (the processes took until after the slot to start: raise --lead {lead})")
            if kill:
                while done() < channels // 3 and not gone():  # noqa: ASYNC110 - see below
                    await asyncio.sleep(0.5)
                pids: set[int] = set()
                while not pids and not gone():
                    pids = await asyncio.to_thread(sender_pids, url)
                victim = next(p for p in procs if p.pid in pids)
                victim.send_signal(signal.SIGKILL)
                await victim.wait()
                index = procs.index(victim)
                killed = f"  (the sender, process {index}, SIGKILLed at {done()} channels)"
            # Polled: fake.wait_for re-checks at every post, and counting 10,000 channels 48
            # times a second starved the fake's own event loop (its 429s were its own lag).
            while done() < channels and not gone():  # noqa: ASYNC110
                await asyncio.sleep(0.5)
            await asyncio.sleep(2.0)  # anything extra would arrive now
        finally:
            await stop_all(procs)
            for log in logs:
                log.close()
        died = [
            i
            for i, p in enumerate(procs)
            if p.returncode not in (0, -signal.SIGTERM) and p is not victim
        ]
        if died:
            first = died[0]
            tail = (config.parent / f"bot{first}.log").read_text(errors="replace")[-2000:]
            print(f"process {first} exited with {procs[first].returncode}:\n{tail}")
        sent = sorted(r.at for r in fake.requests_to(POSTS) if r.status == 200)
        lookups = len(fake.requests_to(LOOKUP))
        others = sum(1 for r in fake.requests if r.at >= sent[0] and r.route not in (POSTS, LOOKUP))
        gaps = sorted(b - a for a, b in itertools.pairwise(sent))[-3:]
        per_ten = Counter(int((at - slot_at) // 10) for at in sent)
        wall = max(sent) - slot_at
        floor = channels / GLOBAL_PER_SECOND
        lost, dupes = tally(fake)
        scopes = sorted({h.scope for h in fake.rate_limited})
        hits = ", ".join(f"{sum(1 for h in fake.rate_limited if h.scope == s)} {s}" for s in scopes)
        hits = f" ({hits})" if hits else ""
        name = f"{processes} processes{', one killed' if kill else ''}"
        print(
            f"{name:<26} slot→last post {wall:7.2f} s  floor {floor:6.2f} s  "
            f"ratio {wall / floor:5.3f}  first→last {max(sent) - min(sent):7.2f} s  "
            f"429s {fake.count_429:3d}{hits}  "
            f"lost {lost}  duplicates {dupes}{killed}"
        )
        print(
            f"{'':<26} slot→first post {min(sent) - slot_at:6.2f} s  channel lookups {lookups}  "
            f"other requests {others}  longest gaps " + ", ".join(f"{g:.2f}" for g in gaps) + " s"
        )
        print(
            f"{'':<26} posts per 10 s from the slot: "
            + " ".join(str(per_ten[b]) for b in range(max(per_ten) + 1))
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scale_out")
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--skip-kill", action="store_true")
    parser.add_argument(
        "--per-second",
        type=float,
        help="the sender's timetable (config discord_pacing.per_second; default: the config's)",
    )
    parser.add_argument(
        "--lead", type=float, default=60.0, help="seconds from launch to the slot, at least"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    server = start_postgres()
    try:
        with loopback_only(), tempfile.TemporaryDirectory() as tmp:
            asyncio.run(
                run(
                    server,
                    args.channels,
                    args.processes,
                    False,
                    args.lead,
                    Path(tmp),
                    args.per_second,
                )
            )
            if not args.skip_kill:
                asyncio.run(
                    run(
                        server,
                        args.channels,
                        args.processes,
                        True,
                        args.lead,
                        Path(tmp),
                        args.per_second,
                    )
                )
    finally:
        server.stop()
