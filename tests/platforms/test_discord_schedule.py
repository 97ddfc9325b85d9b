"""Scheduled posts on Discord, through the real discord.py client and the fake Discord:
/schedule is for Manage Server only, posts carry their sources, every channel gets exactly one
post per slot — also after a lost answer, and after the process is killed mid-fan-out."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery import Limits
from bot.digest.library import Library
from bot.platforms.discord_chat import DigestBot, DiscordPoster
from bot.schedule import Scheduler, ScheduleSpec, slot_key
from bot.store import Store
from tests.fakes.discord_server import FakeDiscord
from tests.platforms.conftest import RunBot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def scheduler(library: Library, db_url: str) -> AsyncIterator[Scheduler]:
    store = Store(db_url)
    scheduler = Scheduler(library, store)
    yield scheduler
    await scheduler.stop()
    store.close()


async def started(run_bot: RunBot, scheduler: Scheduler, limits: Limits | None = None) -> DigestBot:
    bot = await run_bot(scheduler=scheduler)
    scheduler.attach("discord", DiscordPoster(bot), limits)
    await scheduler.start(run_jobs=False)
    return bot


async def test_schedule_needs_manage_server(
    fake: FakeDiscord, run_bot: RunBot, scheduler: Scheduler
) -> None:
    await started(run_bot, scheduler)
    refused = await fake.interact(
        "schedule", {"action": "add", "cron": "0 8 * * mon-fri"}, user=fake.alice
    )
    assert refused.reply is not None and refused.reply.ephemeral
    assert "only server admins" in refused.reply.text()
    assert scheduler.specs == {}
    allowed = await fake.interact("schedule", {"action": "list"}, user=fake.owner)
    assert allowed.reply is not None and "No schedules" in allowed.reply.text()


async def test_an_admin_adds_tests_and_removes_a_schedule(
    fake: FakeDiscord, run_bot: RunBot, scheduler: Scheduler
) -> None:
    await started(run_bot, scheduler)
    news = fake.channel_id("news")
    bad = await fake.interact(
        "schedule", {"action": "add", "cron": "0 8 * * 1"}, user=fake.owner, channel_id=news
    )
    assert bad.reply is not None and "must use names" in bad.reply.text()
    added = await fake.interact(
        "schedule",
        {
            "action": "add",
            "cron": "0 8 * * mon-fri",
            "timezone": "Europe/Kyiv",
            "parts": "summary,figures",
        },
        user=fake.owner,
        channel_id=news,
    )
    assert added.reply is not None and "Schedule added" in added.reply.text()
    [spec] = scheduler.specs.values()
    assert spec.channel == str(news) and spec.created_by == str(fake.owner.id)
    await fake.interact("schedule", {"action": "test", "schedule": spec.id}, user=fake.owner)
    await fake.wait_for(lambda: len(fake.messages_in(news)) == 1, 10, "the test post")
    post = fake.messages_in(news)[0].text()
    for line in post.splitlines():
        if line.startswith("• "):
            assert " — " in line, line  # every item carries its source
    assert "Figures" in post and post.count("• ") >= 2
    assert fake.messages_in(news)[0].pinged == {"everyone": False, "users": [], "roles": []}
    listed = await fake.interact("schedule", {"action": "list"}, user=fake.owner)
    assert listed.reply is not None and "last: posted" in listed.reply.text()
    removed = await fake.interact(
        "schedule", {"action": "remove", "schedule": spec.id}, user=fake.owner
    )
    assert removed.reply is not None and scheduler.specs == {}


@pytest.mark.fake_discord(channels=tuple(f"room-{i}" for i in range(12)))
async def test_fan_out_posts_once_per_channel_even_after_a_lost_answer(
    fake: FakeDiscord, run_bot: RunBot, library: Library, db_url: str
) -> None:
    db = db_url
    slot = datetime(2024, 8, 9, 5, 0, tzinfo=UTC)
    specs = [
        ScheduleSpec("discord", str(c.id), "0 8 * * mon-fri", "Europe/Kyiv") for c in fake.channels
    ]
    store = Store(db)
    scheduler = Scheduler(library, store, clock=lambda: slot + timedelta(seconds=5))
    await scheduler.load(specs)
    for spec in specs:
        store.set_last_slot(spec.id, (slot - timedelta(minutes=1)).isoformat())
    await started(run_bot, scheduler)
    await scheduler.deliverers["discord"].join()
    assert all(len(fake.messages_in(c.id)) == 1 for c in fake.channels)
    assert fake.count_429 == 0
    # The answer to one create was lost: the row is still pending when the bot restarts.
    lost = store.all_deliveries()[3]
    store.mark(lost.key, "pending")
    await scheduler.stop()
    again = Scheduler(library, store, clock=lambda: slot + timedelta(minutes=2))
    await again.load(specs)
    again.attach("discord", scheduler.deliverers["discord"].poster)
    await again.start(run_jobs=False)
    await again.deliverers["discord"].join()
    assert all(len(fake.messages_in(c.id)) == 1 for c in fake.channels)  # nonce: no duplicate
    assert store.get(lost.key) is not None and store.get(lost.key).state == "sent"  # type: ignore[union-attr]
    assert slot_key(slot) == lost.slot
    await again.stop()


@pytest.mark.fake_discord(channels=tuple(f"room-{i}" for i in range(30)))
async def test_sigkill_mid_fan_out_then_restart_leaves_exactly_one_post_per_channel(
    fake: FakeDiscord, library: Library, tmp_path: Path, db_url: str
) -> None:
    from bot.platforms.discord_chat import sync_commands

    await sync_commands(library, fake.token, None)
    now = datetime.now(UTC)
    slot = now.replace(second=0, microsecond=0)
    cron = f"{slot.minute} {slot.hour} * * *"
    specs = [ScheduleSpec("discord", str(c.id), cron, "UTC") for c in fake.channels]
    store = Store(db_url)
    for spec in specs:
        store.set_last_slot(spec.id, (slot - timedelta(seconds=1)).isoformat())
    store.close()
    lines = [
        f"digests: {library.folder}",
        "reload_seconds: 0",
        "discord_pacing: {per_second: 6}",
        "schedules:",
        *(f"  - {{platform: discord, channel: '{s.channel}', cron: '{cron}'}}" for s in specs),
    ]
    config = tmp_path / "config.yaml"
    config.write_text("\n".join(lines) + "\n", "utf-8")
    env = {
        **os.environ,
        "DISCORD_TOKEN": fake.token,
        "DATABASE_URL": db_url,
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "tests.fakes.bot_process",
        fake.base_url,
        fake.gateway_url,
        "run",
        "--config",
        str(config),
    ]

    def total() -> int:
        return sum(len(fake.messages_in(c.id)) for c in fake.channels)

    first = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake.wait_for(lambda: total() >= 8, 30, "the fan-out to start")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    killed_at = total()
    assert killed_at < len(specs), "the fan-out finished before the kill: nothing was tested"

    second = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake.wait_for(
            lambda: all(fake.messages_in(c.id) for c in fake.channels), 60, "every channel"
        )
        await asyncio.sleep(1.0)  # anything extra would arrive now
    finally:
        second.terminate()
        await second.wait()
    counts = [len(fake.messages_in(c.id)) for c in fake.channels]
    assert counts == [1] * len(specs), counts
    assert fake.count_429 == 0
