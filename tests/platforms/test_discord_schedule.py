"""Scheduled posts on Discord, through the real discord.py client and the fake Discord:
/schedule is for Manage Server only, posts carry their sources, every channel gets exactly one
post per slot — also after a lost answer, and after the process is killed mid-fan-out."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, sync_discord
from bot.digest.library import Library
from bot.schedules.scheduler import Scheduler
from bot.schedules.spec import ScheduleSpec, slot_key
from bot.schedules.store import Store
from tests.fakes.bot_process import slot_due_now
from tests.fakes.discord_limits import embed_length
from tests.fakes.discord_server import FakeDiscord, FakeMessage
from tests.helpers import RunBot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def scheduler(run_bot: RunBot, db_url: str) -> Scheduler:
    """The scheduler of a started bot (through ``App``, as in production)."""
    app: App = await run_bot(database_url=db_url)
    return app.scheduler


async def test_schedule_needs_manage_server(fake: FakeDiscord, scheduler: Scheduler) -> None:
    refused = await fake.interact("schedule add", {"cron": "0 8 * * mon-fri"}, user=fake.alice)
    assert refused.reply is not None
    assert refused.reply.ephemeral
    assert "only server admins" in refused.reply.text()
    assert scheduler.specs == {}
    allowed = await fake.interact("schedule list", {}, user=fake.owner)
    assert allowed.reply is not None
    assert "No schedules" in allowed.reply.text()


async def test_an_admin_adds_tests_and_removes_a_schedule(
    fake: FakeDiscord, scheduler: Scheduler
) -> None:
    news = fake.channel_id("news")
    bad = await fake.interact(
        "schedule add", {"cron": "0 8 * * 1"}, user=fake.owner, channel_id=news
    )
    assert bad.reply is not None
    assert "must use names" in bad.reply.text()
    added = await fake.interact(
        "schedule add",
        {
            "cron": "0 8 * * mon-fri",
            "timezone": "Europe/Kyiv",
            "parts": "summary,figures",
        },
        user=fake.owner,
        channel_id=news,
    )
    assert added.reply is not None
    assert "Schedule added" in added.reply.text()
    [spec] = scheduler.specs.values()
    assert spec.channel == str(news)
    assert spec.created_by == str(fake.owner.id)
    await fake.interact("schedule test", {"schedule": spec.id}, user=fake.owner)
    await fake.wait_for(lambda: len(fake.messages_in(news)) == 1, 10, "the test post")
    post = fake.messages_in(news)[0].text()
    for line in post.splitlines():
        if line.startswith("• "):
            assert " — " in line, line  # every item carries its source
    assert "Figures" in post
    assert post.count("• ") >= 2
    assert fake.messages_in(news)[0].pinged == {"everyone": False, "users": [], "roles": []}
    # the ledger is marked just after Discord has the message: wait for the mark, not a race
    await fake.wait_for(lambda: getattr(scheduler.store.latest(spec.id), "state", "") == "sent")
    listed = await fake.interact("schedule list", {}, user=fake.owner)
    assert listed.reply is not None
    assert "last: posted" in listed.reply.text()
    removed = await fake.interact("schedule remove", {"schedule": spec.id}, user=fake.owner)
    assert removed.reply is not None
    assert scheduler.specs == {}


@pytest.mark.fake_discord(channels=tuple(f"room-{i}" for i in range(12)))
async def test_fan_out_posts_once_per_channel_even_after_a_lost_answer(
    fake: FakeDiscord, run_bot: RunBot, library: Library, db_url: str
) -> None:
    slot = datetime(2024, 8, 9, 5, 0, tzinfo=UTC)
    specs = [
        ScheduleSpec("discord", str(c.id), "0 8 * * mon-fri", "Europe/Kyiv") for c in fake.channels
    ]
    store = Store(db_url)
    store.set_last_slots([s.id for s in specs], (slot - timedelta(minutes=1)).isoformat())
    app = await run_bot(
        clock=lambda: slot + timedelta(seconds=5), schedules=specs, database_url=db_url
    )
    scheduler = app.scheduler
    await scheduler.deliverers["discord"].join()
    assert all(len(fake.messages_in(c.id)) == 1 for c in fake.channels)
    assert fake.count_429 == 0
    # The answer to one create was lost: the row is still pending when the bot restarts.
    lost = store.all_deliveries()[3]
    store.mark(lost.key, "pending")
    await app.stop()
    restarted = await run_bot(
        clock=lambda: slot + timedelta(minutes=2), schedules=specs, database_url=db_url
    )
    again = restarted.scheduler
    await again.deliverers["discord"].join()
    assert all(len(fake.messages_in(c.id)) == 1 for c in fake.channels)  # nonce: no duplicate
    assert store.get(lost.key) is not None
    assert store.get(lost.key).state == "sent"
    assert slot_key(slot) == lost.slot
    store.close()


@pytest.mark.fake_discord(channels=tuple(f"room-{i}" for i in range(30)))
async def test_sigkill_mid_fan_out_then_restart_leaves_exactly_one_post_per_channel(
    fake: FakeDiscord, library: Library, tmp_path: Path, db_url: str
) -> None:
    await sync_discord(library, fake.token, None)
    config = slot_due_now(db_url, library.folder, [c.id for c in fake.channels], tmp_path)
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
        *command, env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake.wait_for(lambda: total() >= 8, 30, "the fan-out to start")
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    killed_at = total()
    assert killed_at < len(fake.channels), (
        "the fan-out finished before the kill: nothing was tested"
    )

    second = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
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
    assert counts == [1] * len(fake.channels), counts
    assert fake.count_429 == 0


async def test_a_long_schedule_list_is_sent_whole_within_discords_message_limits(
    fake: FakeDiscord, scheduler: Scheduler
) -> None:
    """Every page arrives, in messages of at most 10 embeds and 6,000 characters."""
    news = fake.channel_id("news")
    for hour in range(24):
        for minute in (0, 15, 30):
            await scheduler.add(ScheduleSpec("discord", str(news), f"{minute} {hour} * * mon-fri"))
    listed = await fake.interact("schedule list", {}, user=fake.owner, channel_id=news)

    def messages() -> list[FakeMessage]:
        return [m for m in (listed.original, *listed.followups) if m is not None]

    def shown() -> str:
        return "\n".join(m.text() for m in messages())

    await fake.wait_for(lambda: all(i in shown() for i in scheduler.specs), 10, "every schedule")
    assert listed.rejected == []
    assert len(messages()) >= 2
    for message in messages():
        assert message.ephemeral
        assert len(message.embeds) <= 10
        assert sum(embed_length(e) for e in message.embeds) <= 6000
