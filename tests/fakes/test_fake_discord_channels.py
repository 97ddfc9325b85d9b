"""The fake Discord's channel kinds, roles, permissions and app installs (``discord_channels``),
checked with raw HTTP and with the real discord.py client: announcement publishing and its
budget, forum posts and tags, threads and their limit, role pings, subcommands, user installs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord_channels import (
    ANNOUNCEMENT,
    BOT_PERMISSIONS,
    FORUM,
    FORUM_REQUIRE_TAG,
    MANAGE_MESSAGES,
    PUBLIC_THREAD,
    SEND_MESSAGES,
    Where,
)
from tests.fakes.discord_server import FakeDiscord, RateLimits, serve_client

pytestmark = pytest.mark.usefixtures("no_network")

FORUMS = {"world-news": ("ukraine", "russia", "analysis")}


class Rest:
    def __init__(self, fake: FakeDiscord, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
        headers = {"Authorization": f"Bot {self.fake.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        async with self.session.request(
            method, self.fake.base_url + path, data=data, headers=headers
        ) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None, response.headers


@pytest.fixture
async def rest(fake: FakeDiscord) -> AsyncIterator[Rest]:
    async with aiohttp.ClientSession() as session:
        yield Rest(fake, session)


async def post(rest: Rest, channel_id: int, content: str = "hello") -> int:
    status, body, _ = await rest("POST", f"/channels/{channel_id}/messages", {"content": content})
    assert status == 200, body
    return int(body["id"])


# -- announcement channels: publishing --------------------------------------------------------


@pytest.mark.fake_discord(announcements=("updates",))
async def test_publishing_the_bots_own_post_in_an_announcement_channel(
    fake: FakeDiscord, rest: Rest
) -> None:
    updates = fake.channel_id("updates")
    message_id = await post(rest, updates)
    status, body, _ = await rest("POST", f"/channels/{updates}/messages/{message_id}/crosspost")
    assert status == 200
    assert body["flags"] & 1
    assert fake.publishes == [(updates, message_id)]
    status, body, _ = await rest("POST", f"/channels/{updates}/messages/{message_id}/crosspost")
    assert (status, body["code"]) == (400, 40033)
    general = fake.channel_id("general")
    in_text = await post(rest, general)
    status, body, _ = await rest("POST", f"/channels/{general}/messages/{in_text}/crosspost")
    assert (status, body["code"]) == (400, 50024)


@pytest.mark.fake_discord(announcements=("updates",))
async def test_publishing_someone_elses_post_needs_manage_messages(
    fake: FakeDiscord, rest: Rest
) -> None:
    updates = fake.channel_id("updates")
    theirs = fake.post_as(fake.alice, updates, "from a person")
    status, body, _ = await rest("POST", f"/channels/{updates}/messages/{theirs.id}/crosspost")
    assert (status, body) == (403, {"message": "Missing Permissions", "code": 50013})
    fake.set_channel(
        updates,
        overwrites=(
            {"id": str(fake.bot_user.id), "type": 1, "allow": str(MANAGE_MESSAGES), "deny": "0"},
        ),
    )
    status, _, _ = await rest("POST", f"/channels/{updates}/messages/{theirs.id}/crosspost")
    assert status == 200


@pytest.mark.fake_discord(announcements=("updates",))
async def test_without_send_messages_nothing_is_posted_or_published(
    fake: FakeDiscord, rest: Rest
) -> None:
    updates = fake.channel_id("updates")
    mine = await post(rest, updates)
    fake.deny_bot(updates, SEND_MESSAGES)
    status, body, _ = await rest("POST", f"/channels/{updates}/messages", {"content": "x"})
    assert (status, body["code"]) == (403, 50013)
    status, body, _ = await rest("POST", f"/channels/{updates}/messages/{mine}/crosspost")
    assert (status, body["code"]) == (403, 50013)


@pytest.mark.fake_discord(
    announcements=("updates", "alerts"), rate_limits=RateLimits(publishes=(2, 60.0))
)
async def test_the_publish_budget_is_a_per_channel_sub_limit(fake: FakeDiscord, rest: Rest) -> None:
    updates, alerts = fake.channel_id("updates"), fake.channel_id("alerts")
    ids = [await post(rest, updates, f"post {n}") for n in range(3)]
    for message_id in ids[:2]:
        status, _, _ = await rest("POST", f"/channels/{updates}/messages/{message_id}/crosspost")
        assert status == 200
    status, body, headers = await rest("POST", f"/channels/{updates}/messages/{ids[2]}/crosspost")
    assert status == 429
    assert body["global"] is False
    assert 59 < body["retry_after"] <= 60
    assert headers["Via"]
    assert int(headers["X-RateLimit-Remaining"]) > 0
    assert fake.rate_limited[-1].bucket == "publish"
    other = await post(rest, alerts)
    status, _, _ = await rest("POST", f"/channels/{alerts}/messages/{other}/crosspost")
    assert status == 200  # another channel has its own budget
    assert not fake.message(ids[2]).flags & 1


@pytest.mark.fake_discord(announcements=("updates",), rate_limits=RateLimits(publishes=(1, 600.0)))
async def test_discord_py_raises_on_a_long_publish_wait_when_told_to(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=30.0)
    async with serve_client(fake, client):
        channel = client.get_partial_messageable(fake.channel_id("updates"))
        first = await channel.send("one")
        second = await channel.send("two")
        await first.publish()
        with pytest.raises(discord.RateLimited) as caught:
            await second.publish()
    assert caught.value.retry_after > 500


@pytest.mark.fake_discord(
    announcements=("updates",), rate_limits=RateLimits(published_edits=(1, 300.0))
)
async def test_edits_of_a_published_post_are_limited(fake: FakeDiscord, rest: Rest) -> None:
    updates = fake.channel_id("updates")
    message_id = await post(rest, updates)
    path = f"/channels/{updates}/messages/{message_id}"
    status, _, _ = await rest("PATCH", path, {"content": "first correction"})
    status, _, _ = await rest("PATCH", path, {"content": "unpublished edits are not limited"})
    assert status == 200
    await rest("POST", f"{path}/crosspost")
    status, _, _ = await rest("PATCH", path, {"content": "one edit after publishing"})
    assert status == 200
    status, body, _ = await rest("PATCH", path, {"content": "a second one"})
    assert status == 429
    assert body["code"] == 20028
    assert body["retry_after"] > 200
    assert fake.message(message_id).content == "one edit after publishing"


# -- forums ------------------------------------------------------------------------------------


@pytest.mark.fake_discord(forums=FORUMS)
async def test_a_forum_post_with_tags_through_discord_py(fake: FakeDiscord) -> None:
    forum_id = fake.channel_id("world-news")
    client = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
    async with serve_client(fake, client):
        forum = client.get_channel(forum_id)
        assert isinstance(forum, discord.ForumChannel)
        assert [t.name for t in forum.available_tags] == list(FORUMS["world-news"])
        ukraine = next(t for t in forum.available_tags if t.name == "ukraine")
        made = await forum.create_thread(
            name="Kursk incursion, day four",
            embed=discord.Embed(title="Summary", description="• a point"),
            applied_tags=[ukraine],
        )
        await made.thread.send("part two")
        await fake.wait_for(lambda: client.get_channel(made.thread.id) is not None)
    (thread,) = fake.threads_in(forum_id)
    assert (thread.name, thread.type, thread.id) == (
        "Kursk incursion, day four",
        PUBLIC_THREAD,
        made.message.id,
    )
    assert thread.applied_tags == (str(ukraine.id),)
    assert [m.text() for m in fake.messages_in(thread.id)] == ["Summary\n• a point", "part two"]
    assert fake.messages_in(forum_id) == []


@pytest.mark.fake_discord(forums=FORUMS)
async def test_forum_posts_refuse_unknown_tags_and_bare_posts(
    fake: FakeDiscord, rest: Rest
) -> None:
    forum_id = fake.channel_id("world-news")
    path = f"/channels/{forum_id}/threads"
    message = {"content": "x"}
    status, body, _ = await rest(
        "POST", path, {"name": "n", "message": message, "applied_tags": ["1"]}
    )
    assert (status, body["code"]) == (400, 50035)
    assert body["errors"]["applied_tags"]["0"]["_errors"][0]["code"] == "CHANNEL_THREAD_INVALID_TAG"
    status, body, _ = await rest("POST", path, {"name": "n"})
    assert (status, list(body["errors"])) == (400, ["message"])
    status, body, _ = await rest("POST", f"/channels/{forum_id}/messages", {"content": "x"})
    assert (status, body["code"]) == (400, 50024)  # a forum takes posts, not messages
    fake.set_channel(forum_id, flags=FORUM_REQUIRE_TAG)
    status, body, _ = await rest("POST", path, {"name": "n", "message": message})
    assert (status, body["code"]) == (400, 40067)
    assert fake.threads_in(forum_id) == []


@pytest.mark.fake_discord(forums=FORUMS, rate_limits=RateLimits(thread_creates=(3, 0.6)))
async def test_ten_forum_posts_under_the_thread_creation_limit(fake: FakeDiscord) -> None:
    forum_id = fake.channel_id("world-news")
    client = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
    async with serve_client(fake, client):
        forum = client.get_channel(forum_id)
        assert isinstance(forum, discord.ForumChannel)
        for n in range(10):
            await forum.create_thread(name=f"digest {n}", content=f"post {n}")
    assert len(fake.threads_in(forum_id)) == 10
    hits = [h for h in fake.rate_limited if h.bucket == "thread-create"]
    assert hits, "the limit was never reached: the test proves nothing"
    assert all(h.retry_after <= 0.6 for h in hits)


# -- threads on messages -------------------------------------------------------------------------


async def test_a_thread_on_a_message(fake: FakeDiscord, rest: Rest) -> None:
    general = fake.channel_id("general")
    message_id = await post(rest, general, "a scheduled post")
    path = f"/channels/{general}/messages/{message_id}/threads"
    status, body, _ = await rest("POST", path, {"name": "Discuss", "auto_archive_duration": 1440})
    assert status == 201
    assert body["id"] == str(message_id)
    assert body["type"] == PUBLIC_THREAD
    assert body["parent_id"] == str(general)
    assert fake.message(message_id).data["thread"]["id"] == str(message_id)
    status, body, _ = await rest("POST", path, {"name": "again"})
    assert (status, body["code"]) == (400, 160004)
    status, _, _ = await rest("POST", f"/channels/{message_id}/messages", {"content": "in it"})
    assert status == 200
    assert [m.content for m in fake.messages_in(message_id)] == ["in it"]
    status, body, _ = await rest("POST", path.replace(str(message_id), "1", 1), {"name": "x"})
    assert status == 404


@pytest.mark.fake_discord(announcements=("updates",))
async def test_discord_py_opens_a_thread_on_its_post(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
    async with serve_client(fake, client):
        channel = client.get_channel(fake.channel_id("updates"))
        assert isinstance(channel, discord.TextChannel)
        assert channel.is_news()
        message = await channel.send("post")
        thread = await message.create_thread(name="Discuss this digest")
        await thread.send("first reply")
    assert thread.id == message.id
    assert fake.threads[thread.id].type == 10  # an announcement thread


# -- roles and pings ---------------------------------------------------------------------------


async def test_a_role_ping_pings_exactly_that_role(fake: FakeDiscord, rest: Rest) -> None:
    role = fake.role_id("news-pings")
    staff = fake.role_id("staff")
    text = f"<@&{role}> new digest. Digest text: @everyone <@{fake.alice.id}> <@&{staff}>"
    body = {"content": text, "allowed_mentions": {"parse": [], "roles": [str(role)]}}
    status, _, _ = await rest("POST", f"/channels/{fake.channel_id('news')}/messages", body)
    assert status == 200
    (sent,) = fake.messages_in(fake.channel_id("news"))
    assert sent.pinged == {"everyone": False, "users": [], "roles": [role]}


@pytest.mark.fake_discord(bot_permissions=BOT_PERMISSIONS)
async def test_a_role_that_is_not_mentionable_is_not_pinged(fake: FakeDiscord, rest: Rest) -> None:
    staff, news = fake.role_id("staff"), fake.role_id("news-pings")
    body = {
        "content": f"<@&{staff}> <@&{news}> @everyone",
        "allowed_mentions": {"parse": ["roles", "everyone"]},
    }
    await rest("POST", f"/channels/{fake.channel_id('news')}/messages", body)
    (sent,) = fake.messages_in(fake.channel_id("news"))
    assert sent.pinged == {"everyone": False, "users": [], "roles": [news]}
    status, roles, _ = await rest("GET", f"/guilds/{fake.guild_id}/roles")
    assert status == 200
    assert {r["name"]: r["mentionable"] for r in roles} == {
        "digest-bot": False,
        "news-pings": True,
        "staff": False,
    }


# -- subcommands and installs --------------------------------------------------------------------


def command(**fields: Any) -> dict[str, Any]:
    return {"name": "schedule", "description": "d", "type": 1} | fields


def sub(name: str, kind: int = 1, **fields: Any) -> dict[str, Any]:
    return {"name": name, "description": "d", "type": kind} | fields


BAD_COMMANDS = [
    ("subcommand mixed with an option", [sub("add"), sub("cron", 3)], ["0", "options"]),
    ("a required subcommand", [sub("add", required=True)], ["0", "options", "0", "required"]),
    (
        "a group in a group",
        [sub("a", 2, options=[sub("b", 2, options=[sub("c")])])],
        ["0", "options", "0", "options"],
    ),
    (
        "a subcommand in a subcommand",
        [sub("a", 1, options=[sub("b", 1)])],
        ["0", "options", "0", "options", "0", "type"],
    ),
    (
        "channel_types on a string",
        [sub("add", 1, options=[sub("where", 3, channel_types=[0])])],
        ["0", "options", "0", "options", "0", "channel_types"],
    ),
]


@pytest.mark.parametrize(
    ("case", "options", "path"), BAD_COMMANDS, ids=[c[0] for c in BAD_COMMANDS]
)
async def test_subcommand_registration_is_checked(
    fake: FakeDiscord, rest: Rest, case: str, options: list[Any], path: list[str]
) -> None:
    status, body, _ = await rest(
        "PUT", f"/applications/{fake.application_id}/commands", [command(options=options)]
    )
    assert (status, body["code"]) == (400, 50035), case
    node = body["errors"]
    for key in path:
        node = node[key]
    assert node["_errors"]


async def test_install_types_and_contexts_are_checked(fake: FakeDiscord, rest: Rest) -> None:
    path = f"/applications/{fake.application_id}/commands"
    status, body, _ = await rest("PUT", path, [command(integration_types=[0, 3])])
    assert status == 400
    assert body["errors"]["0"]["integration_types"]["1"]["_errors"]
    status, body, _ = await rest("PUT", path, [command(contexts=[])])
    assert status == 400
    assert body["errors"]["0"]["contexts"]["_errors"]
    status, body, _ = await rest(
        "PUT", path, [command(integration_types=[0, 1], contexts=[0, 1, 2])]
    )
    assert status == 200
    assert body[0]["integration_types"] == [0, 1]


class _Recorder(discord.Client):
    def __init__(self, **options: Any) -> None:
        super().__init__(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05, **options)
        self.tree = app_commands.CommandTree(self)
        self.seen: list[dict[str, Any]] = []

        group = app_commands.Group(name="schedule", description="Schedules", guild_only=True)

        @group.command(name="add", description="Add one")
        @app_commands.describe(channel="where", cron="when")
        async def add(
            interaction: discord.Interaction,
            cron: str,
            channel: discord.TextChannel | None = None,
        ) -> None:
            self.seen.append(
                {
                    "cron": cron,
                    "channel": channel.id if channel else None,
                    "news": channel.is_news() if channel else None,
                }
            )
            await interaction.response.send_message("added", ephemeral=True)

        @group.command(name="list", description="List them")
        async def list_(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("none", ephemeral=True)

        @app_commands.command(name="summary", description="Read one")
        @app_commands.allowed_installs(guilds=True, users=True)
        @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
        async def summary(interaction: discord.Interaction) -> None:
            self.seen.append(
                {
                    "guild": interaction.guild_id,
                    "user_install": interaction.is_user_integration(),
                    "guild_install": interaction.is_guild_integration(),
                    "context": interaction.context.dm_channel,
                    "attach": interaction.app_permissions.attach_files,
                }
            )
            await interaction.response.send_message("a summary", ephemeral=True)

        self.tree.add_command(group)
        self.tree.add_command(summary)


@pytest.mark.fake_discord(announcements=("updates",))
async def test_subcommand_interactions_reach_discord_py_typed(fake: FakeDiscord) -> None:
    client = _Recorder()
    async with serve_client(fake, client):
        await client.tree.sync()
        registered = fake.commands()
        schedule = next(c for c in registered if c["name"] == "schedule")
        assert [o["type"] for o in schedule["options"]] == [1, 1]
        assert schedule.get("contexts") in (None, [0])
        assert schedule.get("dm_permission") is False
        updates = fake.channel_id("updates")
        record = await fake.interact("schedule add", {"cron": "0 8 * * mon", "channel": updates})
        assert record.reply is not None
        assert record.reply.content == "added"
        sent = record.payload["data"]["options"]
        assert sent[0]["type"] == 1
        assert sent[0]["options"][1] == {
            "name": "channel",
            "type": 7,
            "value": str(updates),
        }
        assert str(updates) in record.payload["data"]["resolved"]["channels"]
        with pytest.raises(ValueError, match="has subcommands"):
            await fake.interact("schedule", {})
        with pytest.raises(LookupError, match="no subcommand"):
            await fake.interact("schedule nope", {})
    assert client.seen == [{"cron": "0 8 * * mon", "channel": updates, "news": True}]


async def test_user_install_interactions(fake: FakeDiscord) -> None:
    client = _Recorder()
    async with serve_client(fake, client):
        await client.tree.sync()
        in_dm = await fake.interact("summary", where=Where("user", "bot_dm"))
        elsewhere = await fake.interact("summary", where=Where("user", "guild"))
        friend = await fake.interact("summary", where=Where("user", "private_channel"))
        with pytest.raises(LookupError, match="not registered for user installs"):
            await fake.interact("schedule list", where=Where("user", "guild"))
        with pytest.raises(LookupError, match="bot_dm"):
            await fake.interact("schedule list", where=Where("guild", "bot_dm"))
    assert "guild_id" not in in_dm.payload
    assert in_dm.payload["context"] == 1
    assert in_dm.payload["authorizing_integration_owners"] == {"1": str(fake.alice.id)}
    assert elsewhere.payload["guild_id"] == str(fake.other_guild_id)
    assert friend.payload["channel"]["type"] == 1
    assert friend.payload["context"] == 2
    assert all(r.reply is not None and r.reply.ephemeral for r in (in_dm, elsewhere, friend))
    assert client.seen == [
        {
            "guild": None,
            "user_install": True,
            "guild_install": False,
            "context": True,
            "attach": True,
        },
        {
            "guild": fake.other_guild_id,
            "user_install": True,
            "guild_install": False,
            "context": False,
            "attach": True,
        },
        {
            "guild": None,
            "user_install": True,
            "guild_install": False,
            "context": False,
            "attach": True,
        },
    ]


async def test_channel_types_in_the_guild(fake: FakeDiscord) -> None:
    fake.channels.append(type(fake.channels[0])(123456789012345678, "later", 9, type=ANNOUNCEMENT))
    fake.channels.append(type(fake.channels[0])(123456789012345679, "board", 10, type=FORUM))
    client = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
    async with serve_client(fake, client):
        kinds = {c.name: c.type for c in client.get_all_channels()}
        await asyncio.sleep(0)
    assert kinds["later"] is discord.ChannelType.news
    assert kinds["board"] is discord.ChannelType.forum
    assert kinds["general"] is discord.ChannelType.text
