"""What server admins expect of a news bot on Discord, end to end through the real discord.py
client and the fake Discord: /schedule as subcommands with typed options, publishing in
announcement channels within the budget (kept across restarts), one forum post per digest with
its tags, a thread per post, exactly one role pinged, filters, failure notices, user installs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from PIL import Image

from bot.app import App, sync_discord
from bot.digest.library import Library
from bot.digest.model import Digest, Place
from bot.schedules.budget import BudgetLimits
from bot.schedules.filters import Only
from bot.schedules.options import PostOptions
from bot.schedules.spec import ScheduleSpec
from tests.fakes.discord_channels import BOT_PERMISSIONS, SEND_MESSAGES, Where
from tests.fakes.discord_server import FakeDiscord, InteractionRecord, RateLimits
from tests.fakes.sample_digests import BRIDGE_ID, KURSK_ID
from tests.helpers import RunBot

FORUMS = {"world-news": ("ukraine", "russia")}
KURSK_TITLE = "Ukraine's Kursk incursion, day four"


class Clock:
    """The scheduler's clock: each /schedule test gets its own slot."""

    def __init__(self, minute: int = 0) -> None:
        self.now = datetime(2026, 12, 1, 7, minute, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def shown(record: InteractionRecord) -> str:
    """The reply's text without Discord's markdown escapes (``\\#news`` reads ``#news``)."""
    assert record.reply is not None
    return record.reply.text().replace("\\", "")


def spec(channel: int, **options: object) -> ScheduleSpec:
    return ScheduleSpec("discord", str(channel), "0 8 * * mon-fri", options=PostOptions(**options))  # type: ignore[arg-type]


async def post_now(app: App, fake: FakeDiscord, schedule: ScheduleSpec, count: int) -> None:
    """Post a schedule now (as /schedule test does) and wait until its row is marked."""
    rows = await app.scheduler.test(schedule.id)
    await fake.wait_for(
        lambda: all(
            (found := app.store.get(row.key)) is not None and found.state != "pending"
            for row in rows
        ),
        10,
        f"post {count}",
    )


# -- /schedule as subcommands ------------------------------------------------------------------


@pytest.mark.fake_discord(announcements=("updates",), forums=FORUMS)
async def test_schedule_add_takes_typed_options_and_autocompletes(
    fake: FakeDiscord, run_bot: RunBot
) -> None:
    app = await run_bot()
    registered = next(c for c in fake.commands(fake.guild_id) if c["name"] == "schedule")
    assert [o["name"] for o in registered["options"]] == ["add", "list", "test", "remove"]
    assert all(o["type"] == 1 for o in registered["options"])
    add = registered["options"][0]
    channel = next(o for o in add["options"] if o["name"] == "channel")
    # text, announcement, forum (and media, which discord.py counts as forums)
    assert (channel["type"], sorted(channel["channel_types"])) == (7, [0, 5, 15, 16])
    mention = next(o for o in add["options"] if o["name"] == "mention")
    assert mention["type"] == 8
    assert int(registered["default_member_permissions"]) == 1 << 5  # Manage Server
    updates = fake.channel_id("updates")
    role = fake.role_id("news-pings")
    added = await fake.interact(
        "schedule add",
        {
            "cron": "0 8 * * mon-fri",
            "channel": updates,
            "timezone": "Europe/Kyiv",
            "only_tags": "ukraine",
            "thread": True,
            "mention": role,
        },
        user=fake.owner,
    )
    assert added.reply is not None
    assert "Schedule added" in added.reply.text(), added.reply.text()
    [made] = app.scheduler.specs.values()
    assert made.channel == str(updates)
    assert made.options == PostOptions(
        only=Only(tags=("ukraine",)), thread=True, mention=f"role:{role}"
    )
    assert "only tags ukraine" in added.reply.text()
    zones = await fake.autocomplete("schedule add", "timezone", "kyiv", {"cron": "0 8 * * *"})
    assert {"name": "Europe/Kyiv", "value": "Europe/Kyiv"} in zones
    forum = fake.channel_id("world-news")
    tags = await fake.autocomplete(
        "schedule add", "tags", "ukraine,r", {"cron": "0 8 * * *", "channel": forum}
    )
    assert tags == [{"name": "ukraine,russia", "value": "ukraine,russia"}]
    ids = await fake.autocomplete("schedule test", "schedule", "", user=fake.owner)
    assert ids == [{"name": made.id, "value": made.id}]
    refused = await fake.interact("schedule remove", {"schedule": made.id}, user=fake.alice)
    assert refused.reply is not None
    assert "only server admins" in refused.reply.text()
    assert made.id in app.scheduler.specs


@pytest.mark.fake_discord(forums=FORUMS, bot_permissions=BOT_PERMISSIONS)
async def test_bad_schedules_are_refused_at_add_with_what_to_do(
    fake: FakeDiscord, run_bot: RunBot
) -> None:
    app = await run_bot()
    forum, news = fake.channel_id("world-news"), fake.channel_id("news")
    fake.deny_bot(fake.channel_id("digests"), SEND_MESSAGES)
    await app.discord.client.fetch_channel(fake.channel_id("digests"))  # not needed: the cache
    cases = [
        ({"channel": forum, "tags": "ukrain"}, "forum #world-news has no tag 'ukrain'"),
        ({"channel": news, "tags": "ukraine"}, "tags: apply to forum posts"),
        ({"channel": forum, "thread": True}, "each digest already gets its own forum post"),
        ({"channel": news, "mention": fake.role_id("staff")}, "@staff is not mentionable"),
    ]
    for options, fragment in cases:
        record = await fake.interact(
            "schedule add", {"cron": "0 8 * * mon-fri", **options}, user=fake.owner
        )
        assert record.reply is not None
        assert record.reply.ephemeral
        assert fragment in shown(record), shown(record)
    assert app.scheduler.specs == {}


async def test_missing_permission_is_refused_at_add(fake: FakeDiscord, run_bot: RunBot) -> None:
    digests = fake.channel_id("digests")
    fake.deny_bot(digests, SEND_MESSAGES)  # before the bot connects: in its cache
    app = await run_bot()
    record = await fake.interact(
        "schedule add", {"cron": "0 8 * * mon-fri", "channel": digests}, user=fake.owner
    )
    assert "Send Messages in #digests — grant it" in shown(record)
    assert app.scheduler.specs == {}


# -- announcement channels -----------------------------------------------------------------------


@pytest.mark.fake_discord(announcements=("updates", "alerts"))
async def test_posts_are_published_until_the_budget_is_spent_and_restarts_remember_it(
    fake: FakeDiscord, run_bot: RunBot, tmp_path: Path
) -> None:
    updates, alerts = fake.channel_id("updates"), fake.channel_id("alerts")
    schedules = [spec(updates), spec(alerts)]
    budget = BudgetLimits(per_channel=2, period=3600)
    app = await run_bot(clock=Clock(), schedules=schedules, publish_limits=budget)
    for n in range(3):  # mid fan-out, each channel's third post finds the budget spent
        for schedule in schedules:
            await post_now(app, fake, schedule, n)
    for channel in (updates, alerts):
        flags = [m.flags & 1 for m in fake.messages_in(channel)]
        assert flags == [1, 1, 0], flags
    assert len(fake.publishes) == 4
    assert fake.count_429 == 0
    listed = await fake.interact("schedule list", {}, user=fake.owner)
    assert "posted unpublished: the publish budget of #alerts is spent" in shown(listed)
    await app.stop()

    again = await run_bot(clock=Clock(minute=30), schedules=schedules, publish_limits=budget)
    await post_now(again, fake, schedules[0], 3)
    assert [m.flags & 1 for m in fake.messages_in(updates)] == [1, 1, 0, 0]  # remembered
    assert len(fake.publishes) == 4


@pytest.mark.fake_discord(announcements=("updates",), rate_limits=RateLimits(publishes=(1, 900.0)))
async def test_a_429_on_publish_is_honoured(fake: FakeDiscord, run_bot: RunBot) -> None:
    updates = fake.channel_id("updates")
    schedule = spec(updates)
    app = await run_bot(clock=Clock(), schedules=[schedule])  # the bot's budget: 10 an hour
    for n in range(3):
        await post_now(app, fake, schedule, n)
    assert [m.flags & 1 for m in fake.messages_in(updates)] == [1, 0, 0]
    publish_429s = [h for h in fake.rate_limited if h.bucket == "publish"]
    assert len(publish_429s) == 1  # after the 429 the bot held off: no second refused publish
    latest = app.store.latest(schedule.id)
    assert latest is not None
    assert latest.state == "sent"
    assert latest.error is not None
    assert "posted unpublished" in latest.error


# -- forums and threads --------------------------------------------------------------------------


@pytest.mark.fake_discord(forums=FORUMS)
async def test_one_forum_post_per_digest_with_its_tags(fake: FakeDiscord, run_bot: RunBot) -> None:
    forum = fake.channel_id("world-news")
    schedule = spec(forum, tags=("ukraine",))
    app = await run_bot(clock=Clock(), schedules=[schedule])
    await post_now(app, fake, schedule, 0)
    await post_now(app, fake, schedule, 1)  # the same digest again: into its forum post
    [thread] = fake.threads_in(forum)
    assert thread.name == KURSK_TITLE
    assert thread.applied_tags == (str(fake.tag_id(forum, "ukraine")),)
    assert len(fake.messages_in(thread.id)) == 2
    assert app.tables.thread_of("discord", str(forum), KURSK_ID) == str(thread.id)


@pytest.mark.fake_discord(forums=FORUMS)
async def test_an_unknown_forum_tag_in_config_is_reported_at_start(
    fake: FakeDiscord, run_bot: RunBot, caplog: pytest.LogCaptureFixture
) -> None:
    forum = fake.channel_id("world-news")
    schedule = ScheduleSpec(
        "discord",
        str(forum),
        "0 8 * * mon-fri",
        options=PostOptions(tags=("sport",)),
        where="config.yaml:7: schedules[0]",
    )
    app = await run_bot(schedules=[schedule])
    assert app.scheduler._checks is not None
    found = await app.scheduler._checks
    assert "forum #world-news has no tag 'sport'" in found[schedule.id][0]
    assert any(
        r.getMessage().startswith("config.yaml:7: schedules[0]: forum #world-news has no tag")
        for r in caplog.records
    )
    listed = await fake.interact("schedule list", {}, user=fake.owner)
    assert "FLAGGED: forum #world-news has no tag 'sport'" in shown(listed)


def ten_digests(folder: Path) -> Library:
    """Ten small digests (copies of the bridge digest under other ids and titles)."""
    source = yaml.safe_load((folder / "bridge-notice.yaml").read_text("utf-8"))
    for path in folder.glob("*.yaml"):
        path.unlink()
    for n in range(10):
        data = dict(source, id=f"bridge-{n}-2024-09-{n + 10:02d}", title=f"Bridge news {n}")
        data["published"] = date(2024, 9, n + 10)
        (folder / f"bridge-{n}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    library = Library(folder)
    assert not library.refresh().problems
    return library


@pytest.mark.fake_discord(forums=FORUMS, rate_limits=RateLimits(thread_creates=(3, 0.5)))
async def test_ten_forum_posts_under_the_thread_creation_limit(
    fake: FakeDiscord, library: Library, tmp_path: Path
) -> None:
    from bot.app import DiscordRun
    from tests.helpers import config_for

    folder = tmp_path / "ten"
    shutil.copytree(library.folder, folder)
    ten = ten_digests(folder)
    await sync_discord(ten, fake.token, fake.guild_id)
    forum = fake.channel_id("world-news")
    schedule = ScheduleSpec("discord", str(forum), "0 8 * * *", post="new")
    config = config_for(folder, tmp_path, schedules=[schedule])
    run = DiscordRun(fake.token, {"guild_ready_timeout": 0.05, "guild_id": fake.guild_id})
    async with App(config, ten, discord=run, use_maps=False, run_jobs=False) as app:
        await app.discord.ready()
        rows = await app.scheduler.deliver(schedule, "2026-12-01T08:00Z")
        assert len(rows) == 10
        await fake.wait_for(lambda: len(fake.threads_in(forum)) == 10, 30, "ten forum posts")
        await app.scheduler.deliverers["discord"].join()
    assert sorted(t.name for t in fake.threads_in(forum)) == [f"Bridge news {n}" for n in range(10)]
    assert [h for h in fake.rate_limited if h.bucket == "thread-create"], "the limit was not met"
    assert all(app.store.get(r.key).state == "sent" for r in rows)  # type: ignore[union-attr]


async def test_a_thread_opens_on_each_post(fake: FakeDiscord, run_bot: RunBot) -> None:
    news = fake.channel_id("news")
    schedule = spec(news, thread=True)
    app = await run_bot(clock=Clock(), schedules=[schedule])
    await post_now(app, fake, schedule, 0)
    [post] = fake.messages_in(news)
    assert fake.threads[post.id].name == KURSK_TITLE
    assert fake.threads[post.id].parent_id == news


# -- role pings and filters ----------------------------------------------------------------------


async def test_a_role_ping_pings_exactly_that_role_and_digest_text_stays_inert(
    fake: FakeDiscord, run_bot: RunBot
) -> None:
    news = fake.channel_id("news")
    role = fake.role_id("news-pings")
    schedule = spec(news, mention=f"role:{role}", only=Only(words=("bridge",)))
    app = await run_bot(clock=Clock(), schedules=[schedule])
    await post_now(app, fake, schedule, 0)
    [post] = fake.messages_in(news)
    assert "everyone keep off" in post.text()  # the trap digest's title, shown inert
    assert post.content == f"<@&{role}>"
    assert post.pinged == {"everyone": False, "users": [], "roles": [role]}
    assert post.allowed_mentions is not None
    assert post.allowed_mentions["parse"] == []
    assert [str(r) for r in post.allowed_mentions["roles"]] == [str(role)]
    latest = app.store.latest(schedule.id)
    assert latest is not None
    assert latest.digest_id == BRIDGE_ID  # the filter chose it (Kursk is newer)


async def test_a_filter_no_digest_passes_says_so(fake: FakeDiscord, run_bot: RunBot) -> None:
    news = fake.channel_id("news")
    schedule = spec(news, only=Only(tags=("elections",)))
    await run_bot(schedules=[schedule])
    record = await fake.interact("schedule test", {"schedule": schedule.id}, user=fake.owner)
    assert "no loaded digest passes this schedule's filter (only tags elections)" in shown(record)
    listed = await fake.interact("schedule list", {}, user=fake.owner)
    assert "only tags elections" in shown(listed)


# -- failure notices -----------------------------------------------------------------------------


async def test_one_notice_when_a_schedule_fails_and_one_when_it_recovers(
    fake: FakeDiscord, run_bot: RunBot
) -> None:
    news, admins = fake.channel_id("news"), fake.channel_id("general")
    schedule = spec(news)
    app = await run_bot(clock=Clock(), schedules=[schedule], notify={"discord": str(admins)})
    fake.deny_bot(news, SEND_MESSAGES)
    for n in range(3):
        await post_now(app, fake, schedule, n)
    notices: Callable[[], list[str]] = lambda: [m.text() for m in fake.messages_in(admins)]  # noqa: E731
    await fake.wait_for(lambda: len(notices()) == 1, 5, "the notice")
    assert "is failing: cannot post to" in notices()[0]
    assert schedule.id in notices()[0]
    fake.set_channel(news, overwrites=())
    await post_now(app, fake, schedule, 3)
    await post_now(app, fake, schedule, 4)
    await fake.wait_for(lambda: len(notices()) == 2, 5, "the recovery notice")
    assert "works again" in notices()[1]
    assert len(fake.messages_in(news)) == 2


# -- user installs -------------------------------------------------------------------------------


async def test_reading_commands_work_from_a_user_install(
    fake: FakeDiscord, library: Library, run_bot: RunBot, tmp_path: Path
) -> None:
    await sync_discord(library, fake.token, None)  # global commands: what user installs see

    class TinyMap:
        def picture(self, digest: Digest, focus: Place | None = None) -> Path:
            path = tmp_path / f"{digest.id}.png"
            Image.new("RGB", (8, 8), "teal").save(path)
            return path

        def describe(self, digest: Digest, focus: Place | None = None) -> str:
            return f"Map of {digest.title}"

    await run_bot(maps=TinyMap())
    summary = next(c for c in fake.commands() if c["name"] == "summary")
    assert summary["integration_types"] == [0, 1]
    assert sorted(summary["contexts"]) == [0, 1, 2]
    elsewhere = await fake.interact("summary", {"digest": KURSK_ID}, where=Where("user", "guild"))
    assert elsewhere.reply is not None
    assert elsewhere.reply.ephemeral  # the app is not in that server: only the asker sees it
    assert "Kursk" in elsewhere.reply.text()
    in_dm = await fake.interact("figures", {"digest": KURSK_ID}, where=Where("user", "bot_dm"))
    assert in_dm.reply is not None
    assert not in_dm.reply.ephemeral
    where = await fake.interact("where", {"digest": KURSK_ID}, where=Where("user", "guild"))
    assert where.reply is not None
    assert where.reply.ephemeral
    [attachment] = where.reply.data["attachments"]  # the map, which only the asker sees
    assert where.reply.files[attachment["filename"]].startswith(b"\x89PNG")
    with pytest.raises(LookupError, match="not registered for user installs"):
        await fake.interact("schedule list", {}, where=Where("user", "guild"))
