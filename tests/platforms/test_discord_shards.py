"""Several bot processes on one token and one PostgreSQL database, each running its Discord shard
(``python -m bot run --shard-count 4 --shard-ids i``), against the fake Discord: every process
ticks the schedules, one of them — the token's sender — sends, and when it is SIGKILLed mid
fan-out another takes the role and its leases over at once and finishes — every channel ends
with exactly one post."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import sync_discord
from bot.digest.library import Library
from bot.schedules.store import Store, deliveries
from tests.fakes.bot_process import run_shards, slot_due_now, stop_all
from tests.fakes.discord_server import FakeDiscord
from tests.postgres.harness import Postgres

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
CHANNELS = tuple(f"room-{i}" for i in range(40))


def holders(store: Store) -> dict[int, int]:
    """pid → pending rows it holds a lease on (owners are ``host:pid:random``)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(deliveries.c.lease_owner).where(
                deliveries.c.state == "pending", deliveries.c.lease_owner.is_not(None)
            )
        ).all()
    counts: dict[int, int] = {}
    for (owner,) in rows:
        pid = int(owner.split(":")[1])
        counts[pid] = counts.get(pid, 0) + 1
    return counts


@pytest.mark.fake_discord(channels=CHANNELS, shard_count=PROCESSES)
async def test_four_processes_one_sender_and_the_next_finishes_a_killed_senders_rows(
    fake: FakeDiscord,
    library: Library,
    tmp_path: Path,
    postgres: Postgres,
    request: pytest.FixtureRequest,
) -> None:
    await sync_discord(library, fake.token, None)
    url = postgres.create_database()
    store = Store(url)
    request.addfinalizer(store.close)  # also when it fails: no connections leak into later tests
    config = slot_due_now(url, library.folder, [c.id for c in fake.channels], tmp_path)
    env = {**os.environ, "DISCORD_TOKEN": fake.token, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}

    def posted() -> int:
        return sum(1 for c in fake.channels if fake.messages_in(c.id))

    logs = [tmp_path / f"bot-{index}.log" for index in range(PROCESSES)]

    def show_logs() -> None:  # what each process said: printed when the test fails
        for log in logs:
            print(f"--- {log.name}\n{log.read_text('utf-8', 'replace')}", file=sys.stderr)

    request.addfinalizer(show_logs)
    files = [log.open("wb") for log in logs]
    # cwd: not the repository, whose ./config.yaml reads ./digests
    procs = await run_shards(
        fake.base_url, fake.gateway_url, config, PROCESSES, env=env, cwd=tmp_path, logs=files
    )
    for log in files:  # the children hold their own copies
        log.close()
    try:
        await fake.wait_for(
            lambda: fake.connected_shards == list(range(PROCESSES)), 60, "all four shards"
        )
        await fake.wait_for(lambda: posted() >= 8, 60, "the fan-out to start")
        held = holders(store)
        assert len(held) == 1, held  # one sender at a time
        victim = next(p for p in procs if held.get(p.pid, 0) > 0)
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        stranded = held[victim.pid]
        assert posted() < len(CHANNELS), "the fan-out finished before the kill: nothing tested"
        # Its session ends, another process takes the lock and frees its leases at once.
        await fake.wait_for(lambda: posted() == len(CHANNELS), 90, "every channel")
        await asyncio.sleep(1.0)  # anything extra would arrive now
    finally:
        await stop_all(procs)
    assert sorted(fake.identified_shards) == [(i, PROCESSES) for i in range(PROCESSES)]
    counts = [len(fake.messages_in(c.id)) for c in fake.channels]
    assert counts == [1] * len(CHANNELS), counts
    assert stranded > 0
    assert {r.state for r in store.all_deliveries()} == {"sent"}
    with store.engine.connect() as conn:
        senders = set(conn.execute(select(deliveries.c.lease_owner)).scalars())
    assert len(senders) == 2, senders  # the killed sender and the one that took over
    assert fake.count_429 == 0
    said = {log.name: log.read_text("utf-8", "replace") for log in logs}
    for name, text in said.items():  # none crashed or failed at start or judged a channel
        assert "Traceback" not in text, name  # it cannot see (3 of 4 run without the guild)
        assert "cannot see it" not in text, name
    took = [n for n, t in said.items() if "posts from the previous sender" in t]
    assert len(took) == 1, took  # taken over at once, not after the 15 s leases ran out
    store.close()
