"""A process that runs only some shards (the elected sender) has only its own shards' servers
cached: it posts to a channel of another shard's server without asking Discord for the channel
first when the process that sees the server recorded its kind (text or announcement), through
the real discord.py client against the fake Discord; a forum, a thread per post or an unknown
kind still fetch it, and a channel gone since it was seen is still flagged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import discord
import pytest

from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.platforms.discord.client import DiscordAdapter
from bot.platforms.discord.poster import DiscordPoster
from bot.reply import Line, Reply, Section
from bot.schedules.delivery import ChannelGone
from bot.schedules.options import Placement, PostOptions
from bot.schedules.store import Store
from bot.schedules.tables import SeenChannel, StateTables
from tests.fakes.discord_payloads import channel_json
from tests.fakes.discord_server import FakeDiscord, serve_client

FORUMS = {"world-news": ("ukraine",)}
REPLY = Reply("Morning digest", (Section(None, (Line("one item"),)),))


@dataclass
class Processes:
    owner: DiscordPoster
    """Runs the shard with the server: checks the schedules' channels (``inspect``)."""
    sender: DiscordPoster
    """Runs the other shard: the server is not in its cache."""
    tables: StateTables


def shard(shard_id: int) -> discord.AutoShardedClient:
    return discord.AutoShardedClient(
        intents=discord.Intents.none(), shard_ids=[shard_id], shard_count=2
    )


@asynccontextmanager
async def two_processes(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[Processes]:
    """Two processes' adapters, each with its own store on one database."""
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    stores = [Store(url), Store(url)]
    own = fake.guild_shard(2)
    try:
        async with AsyncExitStack() as stack:
            owner = await stack.enter_async_context(serve_client(fake, shard(own)))
            other = await stack.enter_async_context(serve_client(fake, shard(1 - own)))
            assert other.get_guild(fake.guild_id) is None
            tables = [StateTables(store.engine) for store in stores]
            yield Processes(
                DiscordPoster(owner, tables=tables[0]),
                DiscordPoster(other, tables=tables[1]),
                tables[1],
            )
    finally:
        for store in stores:
            store.close()


def lookups(fake: FakeDiscord, channel: int) -> int:
    return sum(
        1 for r in fake.requests_to("GET /channels/{channel_id}") if r.path.endswith(f"/{channel}")
    )


@pytest.mark.fake_discord(announcements=("updates",), forums=FORUMS, shard_count=2)
async def test_a_channel_seen_by_one_process_is_posted_to_by_another_without_a_lookup(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    text, news = fake.channel_id("digests"), fake.channel_id("updates")
    async with two_processes(fake, tmp_path) as run:
        for channel in (text, news):
            assert await run.owner.inspect(str(channel), PostOptions()) is not None
        assert run.tables.seen_channel("discord", str(news)) == SeenChannel(
            "announcement", str(fake.guild_id)
        )
        posted = await run.sender.post(str(text), REPLY, "n" * 25)
        published = await run.sender.post(str(news), REPLY, "m" * 25)
    assert [m.id for m in fake.messages_in(text)] == [int(posted.message_id)]
    assert [m.id for m in fake.messages_in(news)] == [int(published.message_id)]
    assert fake.publishes == [(news, int(published.message_id))]  # publishing needs no lookup
    assert published.note is None
    assert (lookups(fake, text), lookups(fake, news)) == (0, 0)


@pytest.mark.fake_discord(forums=FORUMS, shard_count=2)
async def test_a_forum_a_thread_per_post_and_an_unknown_kind_still_look_the_channel_up(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    forum, text, unseen = (fake.channel_id(n) for n in ("world-news", "digests", "news"))
    threaded = PostOptions(thread=True)
    async with two_processes(fake, tmp_path) as run:
        await run.owner.inspect(str(forum), PostOptions(tags=("ukraine",)))
        await run.owner.inspect(str(text), threaded)
        in_forum = await run.sender.post(
            str(forum),
            REPLY,
            "f" * 25,
            Placement(PostOptions(tags=("ukraine",)), title="Morning digest"),
        )
        with_thread = await run.sender.post(str(text), REPLY, "t" * 25, Placement(threaded))
        unknown = await run.sender.post(str(unseen), REPLY, "u" * 25)
    assert in_forum.thread is not None
    assert fake.messages_in(int(in_forum.thread))
    assert with_thread.thread is not None
    assert with_thread.note is None
    assert [m.id for m in fake.messages_in(unseen)] == [int(unknown.message_id)]
    assert (lookups(fake, forum), lookups(fake, text), lookups(fake, unseen)) == (1, 1, 1)


@pytest.mark.fake_discord(shard_count=2)
async def test_a_channel_gone_since_it_was_seen_is_still_flagged(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    gone = str(fake.channel_id("digests") + 1)  # recorded, then deleted: Discord says 404
    async with two_processes(fake, tmp_path) as run:
        run.tables.remember_channel("discord", gone, SeenChannel("text", str(fake.guild_id)))
        with pytest.raises(ChannelGone, match="404"):
            await run.sender.post(gone, REPLY, "g" * 25)
    assert lookups(fake, int(gone)) == 0


async def recorded_as(tables: StateTables, channel: int, kind: str) -> None:
    """Until the channel's recorded kind is ``kind`` (the gateway event is handled as it comes)."""
    for _ in range(200):
        seen = await asyncio.to_thread(tables.seen_channel, "discord", str(channel))
        if seen is not None and seen.kind == kind:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"channel {channel} is recorded as {seen}, not {kind}")


@pytest.mark.fake_discord(channels=("digests", "chat"))
async def test_a_channel_made_an_announcement_channel_is_recorded_as_one_at_once(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    """The process that sees the server follows a channel's change of kind (CHANNEL_UPDATE),
    so the sender publishes there from the next post on, not from the next restart."""
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    tables = StateTables(store.engine)
    adapter = DiscordAdapter(Commands(Library(tmp_path)), fake.token, tables=tables)
    text, chat = fake.channel_id("digests"), fake.channel_id("chat")
    try:
        async with serve_client(fake, adapter.client):
            await adapter.inspect(str(text), PostOptions())
            await recorded_as(tables, text, "text")
            for channel in (text, chat):
                at = next(i for i, c in enumerate(fake.channels) if c.id == channel)
                fake.channels[at] = replace(fake.channels[at], type=5)
                await fake.dispatch(
                    "CHANNEL_UPDATE", channel_json(fake.guild_id, fake.channels[at])
                )
            await recorded_as(tables, text, "announcement")
            assert tables.seen_channel("discord", str(chat)) is None  # no schedule's: not written
    finally:
        store.close()
