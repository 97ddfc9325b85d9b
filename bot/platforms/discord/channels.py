"""Discord's channel kinds for scheduled posts: announcement publishing within its budget, one
forum post per digest (with its tags), a discussion thread per post, one role ping.

What the server says about a channel (``facts``) feeds the platform-neutral checks in
``bot.schedules.targets``; ``post_into`` sends one scheduled post the way its schedule says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import discord

from bot.schedules.budget import PublishBudget
from bot.schedules.options import Placement, Posted, PostOptions
from bot.schedules.tables import SeenChannel
from bot.schedules.targets import ChannelFacts, Kind, Role, needed

PERMISSION_NAMES = {
    "View Channel": "view_channel",
    "Send Messages": "send_messages",
    "Embed Links": "embed_links",
    "Send Messages in Threads": "send_messages_in_threads",
    "Create Public Threads": "create_public_threads",
}
THREAD_NAME_MAX = 100
ALREADY_CROSSPOSTED = 40033


def kind_of(channel: object) -> Kind:
    if isinstance(channel, discord.ForumChannel):
        return "forum"
    if isinstance(channel, discord.Thread):
        return "thread"
    if isinstance(channel, discord.TextChannel):
        return "announcement" if channel.is_news() else "text"
    return "other"


def facts(client: discord.Client, channel_id: int, options: PostOptions) -> ChannelFacts | None:
    """What the gateway cache says about a channel (None: unknown to the bot)."""
    channel = client.get_channel(channel_id)
    if channel is None or not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return None
    guild = channel.guild
    me = guild.me
    kind = kind_of(channel)
    permissions = channel.permissions_for(me)
    missing = tuple(
        name
        for name in needed(options, kind)
        if not getattr(permissions, PERMISSION_NAMES[name], False)
    )
    tags = (
        tuple(t.name for t in channel.available_tags)
        if isinstance(channel, discord.ForumChannel)
        else ()
    )
    roles = {
        str(role.id): Role(str(role.id), role.name, role.mentionable)
        for role in guild.roles
        if not role.is_default()
    }
    return ChannelFacts(
        name=channel.name,
        kind=kind,
        tags=tags,
        missing=missing,
        may_mention_everyone=permissions.mention_everyone,
        roles=roles,
    )


def allowed_mentions(options: PostOptions) -> discord.AllowedMentions:
    """Exactly the schedule's role, or nobody: never @everyone, users or other roles."""
    role_id = options.role_id
    if role_id is None:
        return discord.AllowedMentions.none()
    return discord.AllowedMentions(
        everyone=False, users=False, roles=[discord.Object(int(role_id))], replied_user=False
    )


Pace = Callable[[str], Awaitable[None]]
PersistUse = Callable[[str, float], Awaitable[None]]
PersistHold = Callable[[str, float], Awaitable[None]]


class Publisher:
    """Publishes posts in announcement channels within the per-channel budget; remembers each
    use (and each 429 hold) through the given callbacks so a restart does not forget them."""

    def __init__(
        self,
        budget: PublishBudget,
        record: PersistUse | None = None,
        forget: PersistUse | None = None,
        hold: PersistHold | None = None,
    ) -> None:
        self.budget = budget
        self._record = record
        self._forget = forget
        self._hold = hold
        self.refused = 0
        """Posts that went out unpublished because the budget was spent (for the benchmark)."""

    async def publish(
        self, messages: Sequence[discord.Message], pace: Pace | None = None
    ) -> str | None:
        """Publish each message; None when all went, else what stopped it (for the log/list)."""
        for done, message in enumerate(messages):
            channel = str(message.channel.id)
            at = self.budget.take(channel)
            if at is None:
                self.refused += 1
                when = self.budget.free_at(channel)
                return (
                    f"posted unpublished: the publish budget of #{_name(message)} is spent "
                    f"({self.budget.limits.per_channel} per "
                    f"{self.budget.limits.period / 3600:g} h; free again at {_clock(when)})"
                )
            if self._record is not None:
                await self._record(channel, at)
            if pace is not None:  # its own key: publishing is not the channel's message bucket
                await pace(f"{channel}:publish")
            try:
                await message.publish()
            except discord.RateLimited as exc:
                await self._undo(channel, at)
                until = self.budget.hold(channel, exc.retry_after)
                if self._hold is not None:
                    await self._hold(channel, until)
                return (
                    f"posted unpublished: Discord refused publishing for {exc.retry_after:.0f} s "
                    f"(429){'' if not done else f' after {done} of {len(messages)} messages'}"
                )
            except discord.HTTPException as exc:
                await self._undo(channel, at)
                if exc.code == ALREADY_CROSSPOSTED:  # a re-sent post: published before
                    continue
                return f"posted unpublished: {exc.status} {exc.text or exc}"
        return None

    async def _undo(self, channel: str, at: float) -> None:
        self.budget.refund(channel, at)
        if self._forget is not None:
            await self._forget(channel, at)


def _name(message: discord.Message) -> str:
    return getattr(message.channel, "name", None) or str(message.channel.id)


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M UTC")


async def open_thread(message: discord.Message, name: str) -> tuple[str | None, str | None]:
    """A discussion thread on a post: (thread id, None) or (None, why not)."""
    try:
        thread = await message.create_thread(name=name[:THREAD_NAME_MAX])
    except discord.RateLimited as exc:
        return None, f"no thread: Discord's thread limit ({exc.retry_after:.0f} s)"
    except discord.HTTPException as exc:
        if exc.code == 160004:  # a re-sent post: its thread exists
            return str(message.id), None
        return None, f"no thread: {exc.status} {exc.text or exc}"
    return str(thread.id), None


class PostRefused(Exception):
    """The channel cannot take this post as configured (wrong kind, unknown tag): the schedule
    is flagged, not retried."""


def _forum_tags(forum: discord.ForumChannel, names: Sequence[str]) -> list[discord.ForumTag]:
    by_name = {tag.name: tag for tag in forum.available_tags}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        have = ", ".join(by_name) or "none"
        raise PostRefused(f"forum #{forum.name} has no tag {', '.join(unknown)} (its tags: {have})")
    return [by_name[name] for name in names]


def _bot_thread(forum: discord.ForumChannel, name: str, me: int) -> discord.Thread | None:
    """A forum post the bot already made under this name: a resumed delivery whose answer was
    lost (forum posts take no nonce) continues in it instead of making a second one."""
    return next((t for t in forum.threads if t.name == name and t.owner_id == me), None)


Postable = (
    discord.abc.GuildChannel
    | discord.Thread
    | discord.abc.PrivateChannel
    | discord.PartialMessageable
)
PARTIAL_TYPES = {"text": discord.ChannelType.text, "announcement": discord.ChannelType.news}


def _partial(
    client: discord.Client, channel_id: int, seen: SeenChannel | None, options: PostOptions
) -> discord.PartialMessageable | None:
    """A channel not in this process's cache, to post into without asking Discord for it (a
    GET per post, doubling a fan-out's requests): only a text or announcement channel whose
    kind is recorded, and no thread per post (discord.py opens one only on a message whose
    server it has cached). None: fetch it."""
    kind = PARTIAL_TYPES.get(seen.kind) if seen is not None else None
    if seen is None or kind is None or options.thread:
        return None
    guild = int(seen.guild) if seen.guild else None
    return client.get_partial_messageable(channel_id, guild_id=guild, type=kind)


async def post_into(
    client: discord.Client,
    channel_id: int,
    groups: Sequence[Sequence[discord.Embed]],
    nonce: str,
    placement: Placement,
    publisher: Publisher | None,
    seen: SeenChannel | None = None,
) -> Posted:
    """One scheduled post, the way its schedule says: into a forum post of the digest, with a
    discussion thread, published, with its role ping. Raises discord's errors for the caller
    to map (403/404 → gone, 429 → rate limited). ``seen``: the channel's kind and server as
    the process that has them cached recorded them (for a channel this one does not cache)."""
    options = placement.options
    pace = placement.pace
    channel: Postable | None = client.get_channel(channel_id)
    if channel is None:  # its server is on a shard another process runs
        channel = _partial(client, channel_id, seen, options)
    if channel is None:  # a forum, a thread, an unknown kind or a thread per post: ask Discord
        if pace is not None:  # a request of its own, within the token's budget
            await pace(f"{channel_id}:fetch")
        channel = await client.fetch_channel(channel_id)
    mentions = allowed_mentions(options)
    ping = f"<@&{options.role_id}>" if options.role_id else None
    name = (placement.title or "Digest")[:THREAD_NAME_MAX]
    if isinstance(channel, discord.ForumChannel):
        return await _into_forum(client, channel, groups, nonce, placement, ping, mentions, name)
    if not isinstance(channel, discord.TextChannel | discord.Thread | discord.PartialMessageable):
        raise PostRefused(f"#{getattr(channel, 'name', channel_id)} cannot take posts")
    sent: list[discord.Message] = []
    for index, group in enumerate(groups):
        if index and pace is not None:
            await pace(str(channel_id))
        sent.append(
            await channel.send(
                content=ping if index == 0 else None,
                embeds=list(group),
                nonce=f"{nonce[:22]}{index:03d}",
                allowed_mentions=mentions,
            )
        )
    notes: list[str] = []
    announcement = (
        channel.type is discord.ChannelType.news
        if isinstance(channel, discord.PartialMessageable)
        else isinstance(channel, discord.TextChannel) and channel.is_news()
    )
    if announcement and options.publish and publisher is not None:
        note = await publisher.publish(sent, pace)
        if note:
            notes.append(note)
    thread: str | None = None
    if options.thread and isinstance(channel, discord.TextChannel):
        if pace is not None:
            await pace(f"{channel_id}:thread")
        thread, why = await open_thread(sent[0], name)
        if why:
            notes.append(why)
    ids = [str(message.id) for message in sent]
    return Posted(ids[0], thread, "; ".join(notes) or None, tuple(ids[1:]))


async def _into_forum(
    client: discord.Client,
    forum: discord.ForumChannel,
    groups: Sequence[Sequence[discord.Embed]],
    nonce: str,
    placement: Placement,
    ping: str | None,
    mentions: discord.AllowedMentions,
    name: str,
) -> Posted:
    """The digest's forum post: made by its first post, joined by every later one."""
    me = client.user.id if client.user else 0
    thread: discord.Thread | None = None
    if placement.thread is not None:
        found = forum.get_thread(int(placement.thread)) or client.get_channel(int(placement.thread))
        if found is None:
            try:
                fetched = await client.fetch_channel(int(placement.thread))
            except discord.NotFound:
                fetched = None
            found = fetched if isinstance(fetched, discord.Thread) else None
        thread = found if isinstance(found, discord.Thread) else None
    rest = list(groups)
    first_id: str | None = None
    ids: list[str] = []
    if thread is None:
        thread = _bot_thread(forum, name, me)
    if thread is None:
        tags = _forum_tags(forum, placement.options.tags)
        made = await forum.create_thread(
            name=name,
            content=ping,
            embeds=list(rest.pop(0)),
            applied_tags=tags,
            allowed_mentions=mentions,
        )
        thread = made.thread
        first_id = str(made.message.id)
        ids.append(f"{thread.id}:{made.message.id}")
    for index, group in enumerate(rest, start=1):
        if placement.pace is not None and (first_id is not None or index > 1):
            await placement.pace(str(thread.id))
        message = await thread.send(
            content=ping if first_id is None and index == 1 else None,
            embeds=list(group),
            nonce=f"{nonce[:22]}{index:03d}",
            allowed_mentions=mentions,
        )
        first_id = first_id or str(message.id)
        ids.append(f"{thread.id}:{message.id}")
    assert first_id is not None
    return Posted(ids[0], str(thread.id), more_ids=tuple(ids[1:]))
