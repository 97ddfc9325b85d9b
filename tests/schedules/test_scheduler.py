"""Schedules with an injected clock: slots, catch-up, exactly-once through restarts, 429s."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.commands.base import Caller, Request, parse
from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.digest.model import Digest, Place
from bot.reply import Reply
from bot.schedules.delivery import ChannelGone, Limits, RateLimited
from bot.schedules.options import AS_CONFIGURED, Placement, Posted
from bot.schedules.scheduler import Scheduler
from bot.schedules.spec import (
    Delivery,
    ScheduleError,
    ScheduleSpec,
    parse_duration,
    slots,
    trigger,
)
from bot.schedules.store import Store
from tests.helpers import kursk_library

KYIV_8AM_FRIDAY = datetime(2024, 8, 9, 5, 0, tzinfo=UTC)  # 08:00 in Kyiv (UTC+3)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A Poster that remembers what it was asked to send, and can fail on demand."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.replies: list[tuple[str, Reply]] = []
        self.failures: list[Exception] = []

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        if self.failures:
            raise self.failures.pop(0)
        assert reply.lines
        assert all(line.source for line in reply.lines)
        self.sent.append((channel, reply.title, nonce))
        self.replies.append((channel, reply))
        return Posted(f"m{len(self.sent)}")


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return kursk_library(tmp_path / "verified")


def weekday_8am(channel: str = "news", **extra: object) -> ScheduleSpec:
    return ScheduleSpec("console", channel, "0 8 * * mon-fri", "Europe/Kyiv", **extra)  # type: ignore[arg-type]


opened: list[Store] = []


@pytest.fixture(autouse=True)
def close_stores() -> Iterator[None]:
    """Every store a test opened is closed (a PostgreSQL connection left open is a warning)."""
    yield
    while opened:
        opened.pop().close()


async def make(
    library: Library, url: str, clock: Clock, specs: list[ScheduleSpec], poster: Recorder
) -> Scheduler:
    store = Store(url)
    opened.append(store)
    scheduler = Scheduler(library, store, catch_up=timedelta(hours=1), clock=clock)
    deliverer = scheduler.attach("console", poster, Limits(per_second=1000, channel_count=100))
    deliverer.backoff = 0.001
    await scheduler.load(specs)
    await scheduler.start(run_jobs=False)
    return scheduler


async def schedule_command(scheduler: Scheduler, request: Request, caller: Caller) -> Reply:
    """/schedule as every platform runs it: through ``Commands.answer``."""
    return await Commands(scheduler.library, scheduler=scheduler).answer(request, caller)


async def settle(scheduler: Scheduler) -> None:
    for deliverer in scheduler.deliverers.values():
        await asyncio.wait_for(deliverer.join(), 10)


@pytest.mark.parametrize(
    ("cron", "zone", "fragment"),
    [
        ("0 8 * * 1", "UTC", "must use names"),
        ("0 8 * * 1-5", "UTC", "must use names"),
        ("0 8 * *", "UTC", "needs 5 fields"),
        ("0 25 * * mon", "UTC", "the hour field .25. is not valid — hour is 0-23"),
        ("0 8 * * mon", "Europe/Kiev-ish", "unknown timezone"),
    ],
)
def test_bad_schedules_fail_when_written(cron: str, zone: str, fragment: str) -> None:
    with pytest.raises(ScheduleError, match=fragment):
        trigger(cron, zone)


def test_bad_channel_and_parts() -> None:
    with pytest.raises(ScheduleError, match="not a Discord channel id"):
        ScheduleSpec("discord", "#news", "0 8 * * mon")
    with pytest.raises(ScheduleError, match="part 'maps'"):
        ScheduleSpec("console", "news", "0 8 * * mon", parts=("maps",))


def test_weekday_names_follow_the_calendar() -> None:
    fridays = list(
        slots(
            trigger("0 8 * * fri", "Europe/Kyiv"),
            KYIV_8AM_FRIDAY - timedelta(days=8),
            KYIV_8AM_FRIDAY,
        )
    )
    assert [s.astimezone(UTC) for s in fridays] == [
        KYIV_8AM_FRIDAY - timedelta(days=7),
        KYIV_8AM_FRIDAY,
    ]


def test_durations() -> None:
    assert parse_duration("1h") == timedelta(hours=1)
    assert parse_duration("90") == timedelta(seconds=90)
    with pytest.raises(ScheduleError):
        parse_duration("soon")


async def test_a_slot_posts_once(library: Library, db_url: str) -> None:
    clock = Clock(KYIV_8AM_FRIDAY - timedelta(hours=1))
    poster = Recorder()
    scheduler = await make(library, db_url, clock, [weekday_8am()], poster)
    spec_id = weekday_8am().id
    clock.now = KYIV_8AM_FRIDAY + timedelta(seconds=1)
    await scheduler.tick(spec_id)
    await scheduler.tick(spec_id)  # a second wake-up for the same slot posts nothing
    await settle(scheduler)
    assert [s[0] for s in poster.sent] == ["news"]
    status = (await scheduler.statuses())[0]
    assert status.last is not None
    assert status.last.state == "sent"
    assert status.next_run is not None
    assert status.next_run.weekday() == 0
    await scheduler.stop()


async def test_catch_up_after_downtime(library: Library, db_url: str) -> None:
    db = db_url
    clock = Clock(KYIV_8AM_FRIDAY - timedelta(days=4))  # Monday 08:00 Kyiv
    poster = Recorder()
    scheduler = await make(library, db, clock, [weekday_8am()], poster)
    await scheduler.stop()
    # Down from Monday until Friday 08:40: Tue-Thu are too late, Friday is within the hour.
    clock.now = KYIV_8AM_FRIDAY + timedelta(minutes=40)
    scheduler = await make(library, db, clock, [weekday_8am()], poster)
    await settle(scheduler)
    assert len(poster.sent) == 1
    rows = scheduler.store.all_deliveries()
    assert sorted(r.state for r in rows) == ["sent", "skipped", "skipped", "skipped"]
    assert all("missed by" in (r.error or "") for r in rows if r.state == "skipped")
    await scheduler.stop()


async def test_restart_mid_fan_out_loses_and_duplicates_nothing(
    library: Library, db_url: str
) -> None:
    db = db_url
    specs = [weekday_8am(f"room{i}") for i in range(6)]
    clock = Clock(KYIV_8AM_FRIDAY - timedelta(minutes=5))
    first = Recorder()
    scheduler = await make(library, db, clock, specs, first)
    clock.now = KYIV_8AM_FRIDAY
    # Stop the sender after three posts, as a crash would: the other rows stay pending.
    deliverer = scheduler.deliverers["console"]
    await deliverer.stop()
    for spec in specs:
        await scheduler.deliver(spec, "2024-08-09T05:00Z")
    for row in scheduler.store.lease("console", 3):
        prepared = await scheduler.prepare(row)
        assert prepared is not None
        await deliverer.send(row, *prepared)
    scheduler.store.close()

    second = Recorder()
    clock.now = KYIV_8AM_FRIDAY + timedelta(minutes=1)
    restarted = await make(library, db, clock, specs, second)
    await settle(restarted)
    assert len(first.sent) == 3
    delivered = [c for c, _, _ in first.sent] + [c for c, _, _ in second.sent]
    assert sorted(delivered) == sorted(f"room{i}" for i in range(6))
    assert {r.state for r in restarted.store.all_deliveries()} == {"sent"}
    await restarted.stop()


async def test_429_is_honoured_and_the_post_retried(library: Library, db_url: str) -> None:
    clock = Clock(KYIV_8AM_FRIDAY)
    poster = Recorder()
    poster.failures = [RateLimited(0.01), RateLimited(0.01)]
    scheduler = await make(library, db_url, clock, [], poster)
    spec = await scheduler.add(weekday_8am())
    await scheduler.test(spec.id)
    await settle(scheduler)
    assert len(poster.sent) == 1
    assert scheduler.deliverers["console"].rate_limited == 2
    await scheduler.stop()


async def test_gone_channel_is_flagged_not_retried(library: Library, db_url: str) -> None:
    clock = Clock(KYIV_8AM_FRIDAY)
    poster = Recorder()
    poster.failures = [ChannelGone("404 Unknown Channel"), RuntimeError("must not be reached")]
    scheduler = await make(library, db_url, clock, [], poster)
    spec = await scheduler.add(weekday_8am())
    await scheduler.test(spec.id)
    await settle(scheduler)
    assert poster.sent == []
    assert len(poster.failures) == 1
    reply = await schedule_command(scheduler, parse("/schedule list"), ADMIN)
    assert "FLAGGED" in reply.lines[0].text
    assert "404 Unknown Channel" in reply.lines[0].text
    await scheduler.stop()


async def test_transient_failures_retry_then_show_why(library: Library, db_url: str) -> None:
    clock = Clock(KYIV_8AM_FRIDAY)
    poster = Recorder()
    poster.failures = [ConnectionResetError("dropped")] * 5
    scheduler = await make(library, db_url, clock, [], poster)
    spec = await scheduler.add(weekday_8am())
    await scheduler.test(spec.id)
    await settle(scheduler)
    reply = await schedule_command(scheduler, parse("/schedule list"), ADMIN)
    assert "failed" in reply.lines[0].text
    assert "ConnectionResetError: dropped" in reply.lines[0].text
    await scheduler.stop()


async def test_post_new_sends_each_digest_once(library: Library, db_url: str) -> None:
    clock = Clock(KYIV_8AM_FRIDAY - timedelta(days=1, minutes=1))
    poster = Recorder()
    spec = weekday_8am(post="new")
    scheduler = await make(library, db_url, clock, [spec], poster)
    clock.now = KYIV_8AM_FRIDAY - timedelta(days=1)
    await scheduler.tick(spec.id)
    clock.now = KYIV_8AM_FRIDAY
    await scheduler.tick(spec.id)
    await settle(scheduler)
    assert len(poster.sent) == 1  # Friday found nothing new
    await scheduler.stop()


ADMIN = Caller("console", "news", "alice", is_admin=True)


async def test_schedule_commands(library: Library, db_url: str) -> None:
    clock = Clock(KYIV_8AM_FRIDAY)
    poster = Recorder()
    db = db_url
    scheduler = await make(library, db, clock, [], poster)
    user = Caller("console", "news", "bob", is_admin=False)
    refused = await schedule_command(scheduler, parse('/schedule add cron:"0 8 * * mon"'), user)
    assert refused.error == "only server admins may manage schedules here"
    bad = await schedule_command(scheduler, parse('/schedule add cron:"0 8 * * 1"'), ADMIN)
    assert bad.error is not None
    assert "must use names" in bad.error
    added = await schedule_command(
        scheduler,
        parse('/schedule add cron:"30 7 * * sat,sun" timezone:Europe/Kyiv parts:summary,figures'),
        ADMIN,
    )
    assert added.error is None
    assert "next Sat 10 Aug 07:30" in added.lines[0].text
    schedule_id = added.lines[0].text.split(":")[0]
    await scheduler.stop()
    # It survives a restart.
    again = await make(library, db, clock, [], poster)
    listed = await schedule_command(again, parse("/schedule list"), ADMIN)
    assert schedule_id in listed.lines[0].text
    tested = await schedule_command(again, parse(f"/schedule test {schedule_id}"), ADMIN)
    assert tested.error is None
    await settle(again)
    assert poster.sent
    assert poster.sent[-1][0] == "news"
    removed = await schedule_command(again, parse(f"/schedule remove {schedule_id}"), ADMIN)
    assert removed.error is None
    empty = await schedule_command(again, parse("/schedule list"), ADMIN)
    assert empty.note is not None
    assert empty.note.startswith("No schedules")
    unknown = await schedule_command(again, parse("/schedule frobnicate"), ADMIN)
    assert unknown.error is not None
    assert "no /schedule frobnicate" in unknown.error
    await again.stop()


async def test_a_flag_stays_across_a_restart_until_a_post_gets_through(
    library: Library, db_url: str
) -> None:
    clock = Clock(KYIV_8AM_FRIDAY)
    poster = Recorder()
    poster.failures = [ChannelGone("403 Missing Access")]
    db = db_url
    scheduler = await make(library, db, clock, [], poster)
    spec = await scheduler.add(weekday_8am())
    await scheduler.test(spec.id)
    await settle(scheduler)
    await scheduler.stop()
    again = await make(library, db, clock, [], poster)
    listed = await schedule_command(again, parse("/schedule list"), ADMIN)
    assert "FLAGGED: cannot post to news: 403 Missing Access" in listed.lines[0].text
    clock.now += timedelta(seconds=1)  # a new test slot
    await again.test(spec.id)
    await settle(again)
    listed = await schedule_command(again, parse("/schedule list"), ADMIN)
    assert "FLAGGED" not in listed.lines[0].text
    await again.stop()


async def test_a_test_post_for_a_platform_not_running_claims_nothing(
    library: Library, db_url: str
) -> None:
    """Otherwise a later start with that platform would send a stale test post."""
    scheduler = await make(library, db_url, Clock(KYIV_8AM_FRIDAY), [], Recorder())
    elsewhere = await scheduler.add(ScheduleSpec("matrix", "!room:example.org", "0 8 * * mon"))
    with pytest.raises(ScheduleError, match="platform matrix is not running"):
        await scheduler.test(elsewhere.id)
    assert scheduler.store.all_deliveries() == []
    await scheduler.stop()


class MapOf:
    def picture(self, digest: Digest, focus: Place | None = None) -> Path:
        return Path(f"/maps/{digest.id}.png")

    def describe(self, digest: Digest, focus: Place | None = None) -> str:
        return f"Map of {digest.id}"


async def test_the_map_is_a_schedule_option(library: Library, db_url: str) -> None:
    clock = Clock(KYIV_8AM_FRIDAY)
    poster = Recorder()
    scheduler = await make(library, db_url, clock, [], poster)
    scheduler.maps = MapOf()
    plain_spec = await scheduler.add(weekday_8am("plain"))
    mapped = await scheduler.add(weekday_8am("mapped", parts=("summary", "places", "map")))
    for spec in (plain_spec, mapped):
        await scheduler.test(spec.id)
    await settle(scheduler)
    by_channel = {channel: reply for channel, reply in poster.replies}
    assert by_channel["plain"].picture is None
    picture = by_channel["mapped"].picture
    assert picture is not None
    assert picture.alt.startswith("Map of kursk")
    assert [s.heading for s in by_channel["mapped"].sections][:1] == ["Summary"]
    await scheduler.stop()


async def test_a_post_that_cannot_be_built_is_marked_failed_with_why(
    library: Library, db_url: str
) -> None:
    scheduler = await make(library, db_url, Clock(KYIV_8AM_FRIDAY), [], Recorder())
    row = Delivery("console", "news", "gone-digest", "slot", "s1", "pending")
    claimed, _ = scheduler.store.claim(row)
    assert await scheduler.prepare(claimed) is None
    failed = scheduler.store.get(row.key)
    assert failed is not None
    assert failed.state == "failed"
    assert failed.error == "digest 'gone-digest' is no longer loaded"
    await scheduler.stop()


async def test_a_database_from_before_longer_ids_is_adopted(library: Library, db_url: str) -> None:
    """Ids grew from 28 to 48 bits: a config schedule's mark, flag and ledger rows and a chat
    schedule stored under their old ids are found under the new ones, nothing re-posted or
    skipped; once adopted, no old id is left."""
    store = Store(db_url)
    opened.append(store)
    configured = weekday_8am()
    chat = weekday_8am("desk", origin="chat")
    assert configured.old_id == configured.id[:8]
    assert len(configured.id) == 13
    store.save_schedule(chat.old_id, chat.to_json())
    for spec in (configured, chat):
        store.set_last_slot(spec.old_id, "2024-08-09T05:00:00+00:00")
    store.flag(configured.old_id, "channel gone")
    old_row = Delivery("console", "news", "d1", "2024-08-09T05:00Z", configured.old_id, "sent")
    store.claim(old_row)
    scheduler = Scheduler(library, store, clock=Clock(KYIV_8AM_FRIDAY))
    await scheduler.load([configured])
    assert sorted(scheduler.specs) == sorted([configured.id, chat.id])
    assert [i for i, _ in store.load_schedules()] == [chat.id]
    for spec in (configured, chat):
        assert store.last_slot(spec.id) == "2024-08-09T05:00:00+00:00"
        assert store.last_slot(spec.old_id) is None
    assert store.flagged() == {configured.id: "channel gone"}
    assert [r.schedule_id for r in store.all_deliveries()] == [configured.id]
    assert store.old_ids() == set()
    await scheduler.load([configured])  # again: nothing left to move
    assert store.last_slot(configured.id) == "2024-08-09T05:00:00+00:00"


async def test_processes_ticking_one_slot_of_many_schedules_post_each_once(
    library: Library, db_url: str
) -> None:
    """Three processes tick the same 300 schedules at the same slot, at the same time (as every
    process does at 08:00): one row per channel is written and each channel gets one post."""
    specs = [weekday_8am(f"room{i}") for i in range(300)]
    clock = Clock(KYIV_8AM_FRIDAY - timedelta(minutes=5))
    posters = [Recorder() for _ in range(3)]
    schedulers = [await make(library, db_url, clock, specs, poster) for poster in posters]
    clock.now = KYIV_8AM_FRIDAY + timedelta(seconds=1)
    await asyncio.gather(*(s.tick_many([spec.id for spec in specs]) for s in schedulers))
    for scheduler in schedulers:
        await settle(scheduler)
    rows = schedulers[0].store.all_deliveries()
    assert len(rows) == 300
    assert {r.state for r in rows} == {"sent"}
    posted = sorted(channel for p in posters for channel, _, _ in p.sent)
    assert posted == sorted(spec.channel for spec in specs)
    for scheduler in schedulers:
        await scheduler.stop()


async def test_two_schedules_of_one_channel_never_both_post_a_digest(
    library: Library, db_url: str
) -> None:
    """Two slots of one channel handled in one batch (07:30 caught up at 08:00): the digest the
    first schedule posts counts as posted for the second, as it would a moment later."""
    early = ScheduleSpec("console", "news", "30 7 * * *", "Europe/Kyiv", post="new")
    late = ScheduleSpec("console", "news", "0 8 * * *", "Europe/Kyiv", post="new")
    clock = Clock(KYIV_8AM_FRIDAY - timedelta(hours=1))
    poster = Recorder()
    scheduler = await make(library, db_url, clock, [early, late], poster)
    clock.now = KYIV_8AM_FRIDAY + timedelta(seconds=1)
    await scheduler.tick_many([early.id, late.id])
    await settle(scheduler)
    titles = [title for _, title, _ in poster.sent]
    assert titles
    assert len(titles) == len(set(titles)) == len(library.all())
    await scheduler.stop()


async def test_schedules_with_one_cron_share_one_wake_up(library: Library, tmp_path: Path) -> None:
    """10,000 channels at 08:00 are one APScheduler job, not 10,000; it goes with the last."""
    scheduler = Scheduler(library, Store(f"sqlite:///{tmp_path / 'state.sqlite3'}"))
    opened.append(scheduler.store)
    scheduler.attach("console", Recorder(), Limits(per_second=1000, channel_count=100))
    await scheduler.start()
    assert scheduler._aps is not None
    shared = [
        await scheduler.add(ScheduleSpec("console", f"room{i}", "0 8 * * *", origin="chat"))
        for i in range(3)
    ]
    await scheduler.add(ScheduleSpec("console", "other", "0 9 * * *", origin="chat"))
    assert len(scheduler._aps.get_jobs()) == 2
    await scheduler.remove(shared[0].id)
    assert len(scheduler._aps.get_jobs()) == 2
    for spec in shared[1:]:
        await scheduler.remove(spec.id)
    assert len(scheduler._aps.get_jobs()) == 1
    await scheduler.stop()
