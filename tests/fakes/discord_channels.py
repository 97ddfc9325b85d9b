"""What the fake Discord knows about channel kinds, roles, permissions and app installs.

A mixin of :class:`~tests.fakes.discord_server.FakeDiscord`, kept apart so the rest of the fake
stays about messages and interactions. What it serves and enforces, as real Discord does:

* channel types: text (0), announcement (5), forum (15, with ``available_tags``), public
  threads (11, and 10 inside an announcement channel), DMs (1) for user-install interactions;
* ``POST /channels/{id}/messages/{mid}/crosspost`` (publish): only in announcement channels
  (50024), once per message (40033), Send Messages for the bot's own messages and Manage
  Messages for anyone else's (403 50013), and a per-channel publish budget (10 per hour by
  default) answered with a 429 whose body ``retry_after`` is the real wait while the route's
  headers still show requests remaining — a sub-limit, as Discord sends it;
* edits of a published message share a slow per-channel budget (429, code 20028);
* ``POST /channels/{id}/threads``: in a forum a post needs ``message`` and its
  ``applied_tags`` must be tags of that forum (400 50035), at most 5, and one is required when
  the forum says so (40067); ``POST /channels/{id}/messages/{mid}/threads`` opens a thread on a
  message (its id is the message's; a second one is 160004; not in forums: 50024);
  thread creation has a per-parent-channel limit (a 429 sub-limit like publishing);
* roles with ``mentionable`` and the bot's Mention Everyone permission: a role mention pings
  only when ``allowed_mentions`` lets it *and* the role is mentionable (or the bot may mention
  everyone); ``@everyone``/``@here`` ping only with that permission and ``parse: [everyone]``;
* the bot's permissions: a managed bot role plus per-channel overwrites; sending needs View
  Channel + Send Messages (403 50001 / 50013), a thread needs Send Messages in Threads;
* commands registered with ``integration_types`` (0 guild, 1 user) and ``contexts`` (0 guild,
  1 bot DM, 2 private channel); :meth:`FakeDiscord.interact` with ``where=`` sends what a user
  install sends (``authorizing_integration_owners``, no guild for DMs, limited
  ``app_permissions``) and refuses commands not registered for that install or context.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from tests.fakes.discord_limits import DiscordError, form_error
from tests.fakes.discord_payloads import (
    FakeChannel,
    FakeUser,
    Json,
    channel_json,
    iso_now,
    member,
    snowflake,
)

if TYPE_CHECKING:
    from tests.fakes.discord_server import FakeMessage

# Channel types, as Discord numbers them.
TEXT, DM, ANNOUNCEMENT, ANNOUNCEMENT_THREAD, PUBLIC_THREAD, FORUM = 0, 1, 5, 10, 11, 15
THREAD_TYPES = (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, 12)

# Permission bits.
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
USE_EXTERNAL_APPS = 1 << 50

BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
"""The managed role the bot gets from its invite (no Manage Messages, no Mention Everyone).

The fake's default adds Mention Everyone (``bot_permissions``): the worst case for proving
that nothing in a digest pings anyone, and common where bots are given broad roles."""
USER_INSTALL_APP_PERMISSIONS = ATTACH_FILES | EMBED_LINKS | MENTION_EVERYONE
"""``app_permissions`` where the bot is not a member (Discord's value for user installs)."""

CROSSPOSTED = 1 << 0
HAS_THREAD = 1 << 5
FORUM_REQUIRE_TAG = 1 << 4
APPLIED_TAGS_MAX = 5
THREAD_NAME_MAX = 100

# Integration types and interaction contexts.
GUILD_INSTALL, USER_INSTALL = 0, 1
GUILD, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2
CONTEXT_NAMES = {"guild": GUILD, "bot_dm": BOT_DM, "private_channel": PRIVATE_CHANNEL}


@dataclass(frozen=True)
class FakeRole:
    id: int
    name: str
    mentionable: bool = False
    permissions: int = 0
    position: int = 1
    managed: bool = False
    bot_id: int | None = None

    def to_json(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(frozen=True)
class Where:
    """Where and how the app is installed for one interaction (see :meth:`FakeDiscord.interact`).

    ``install``: ``guild`` (the bot is a member of the server) or ``user`` (the user added
    the app to their account); ``context``: ``guild``, ``bot_dm`` or ``private_channel``.
    A ``user`` install in a ``guild`` context is a server the bot is *not* in.
    """

    install: Literal["guild", "user"] = "guild"
    context: Literal["guild", "bot_dm", "private_channel"] = "guild"
    external_apps: bool = True
    """Whether the member may use external apps there (if not, Discord makes replies ephemeral)."""


@dataclass
class _Window:
    """Successful actions in a sliding window (Discord's sub-limits count what was done)."""

    limit: int
    period: float
    times: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return max(self.times[0] + self.period - now, 0.001)


def pings(
    content: str,
    allowed: Json | None,
    roles: Mapping[int, FakeRole],
    *,
    may_mention_everyone: bool,
) -> Json:
    """Whom a message pings: what ``allowed_mentions`` permits *and* what the author may ping.

    Without ``allowed_mentions`` Discord parses everything. A role ping needs the role to be
    mentionable or the author to have Mention Everyone; ``@everyone``/``@here`` need that
    permission. Unknown roles ping nobody.
    """
    import re

    everyone = "@everyone" in content or "@here" in content
    users = {int(x) for x in re.findall(r"<@!?(\d+)>", content)}
    mentioned_roles = {int(x) for x in re.findall(r"<@&(\d+)>", content)}
    if allowed is None:
        parse = {"everyone", "users", "roles"}
        allowed_users: set[int] = set()
        allowed_roles: set[int] = set()
    else:
        parse = set(allowed.get("parse") or ())
        allowed_users = {int(x) for x in allowed.get("users") or ()}
        allowed_roles = {int(x) for x in allowed.get("roles") or ()}
    pinged_roles = []
    for role_id in sorted(mentioned_roles):
        found = roles.get(role_id)
        if found is None or not ("roles" in parse or role_id in allowed_roles):
            continue
        if found.mentionable or may_mention_everyone:
            pinged_roles.append(role_id)
    return {
        "everyone": everyone and "everyone" in parse and may_mention_everyone,
        "users": sorted(u for u in users if "users" in parse or u in allowed_users),
        "roles": pinged_roles,
    }


class ChannelFeatures:
    """Announcement channels, forums, threads, roles, permissions and user installs."""

    # Provided by FakeDiscord.
    guild_id: int
    application_id: int
    bot_user: FakeUser
    channels: list[FakeChannel]
    _messages: dict[int, FakeMessage]
    _channel_messages: dict[int, list[FakeMessage]]
    _commands: dict[int | None, list[Json]]

    def _init_channel_features(
        self,
        *,
        announcements: Sequence[str],
        forums: Mapping[str, Sequence[str]],
        roles: Mapping[str, bool],
        publishes: tuple[int, float],
        published_edits: tuple[int, float],
        thread_creates: tuple[int, float],
        bot_permissions: int,
    ) -> None:
        self.publish_limit = publishes
        self.published_edit_limit = published_edits
        self.thread_create_limit = thread_creates
        self.bot_role = FakeRole(
            snowflake(),
            "digest-bot",
            permissions=bot_permissions,
            position=2,
            managed=True,
            bot_id=self.application_id,
        )
        self.roles: dict[int, FakeRole] = {self.bot_role.id: self.bot_role}
        for name, mentionable in roles.items():
            self.add_role(name, mentionable=mentionable)
        self.threads: dict[int, FakeChannel] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.other_guild_id = snowflake()
        """A server the bot is not in (user-install interactions in a guild context)."""
        self.other_guild_channel = FakeChannel(snowflake(), "elsewhere")
        self.publishes: list[tuple[int, int]] = []
        """(channel id, message id) of every successful publish, in order."""
        self._publish_windows: dict[int, _Window] = {}
        self._published_edit_windows: dict[int, _Window] = {}
        self._thread_windows: dict[int, _Window] = {}
        position = len(self.channels)
        for name in announcements:
            self.channels.append(FakeChannel(snowflake(), name, position, type=ANNOUNCEMENT))
            position += 1
        for name, tags in forums.items():
            self.channels.append(
                FakeChannel(
                    snowflake(),
                    name,
                    position,
                    type=FORUM,
                    available_tags=tuple(forum_tag(tag) for tag in tags),
                )
            )
            position += 1

    # -- set-up and inspection -------------------------------------------------------------

    def add_role(self, name: str, *, mentionable: bool = False) -> FakeRole:
        made = FakeRole(snowflake(), name, mentionable=mentionable, position=1)
        self.roles[made.id] = made
        return made

    def role_id(self, name: str) -> int:
        return next(r.id for r in self.roles.values() if r.name == name)

    def set_channel(self, channel_id: int, **changes: Any) -> FakeChannel:
        """Change a channel (type, tags, the bot's overwrites …) as an admin would."""
        for index, channel in enumerate(self.channels):
            if channel.id == channel_id:
                self.channels[index] = replace(channel, **changes)
                return self.channels[index]
        raise LookupError(f"no channel {channel_id}")

    def deny_bot(self, channel_id: int, permissions: int) -> FakeChannel:
        """A channel overwrite that takes ``permissions`` away from the bot there."""
        overwrite = {"id": str(self.bot_user.id), "type": 1, "allow": "0", "deny": str(permissions)}
        return self.set_channel(channel_id, overwrites=(overwrite,))

    def post_as(self, user: FakeUser, channel_id: int, content: str) -> FakeMessage:
        """A message a person wrote (not the bot): e.g. to publish someone else's post."""
        create = getattr(self, "_create_message")  # noqa: B009 - FakeDiscord's
        made: FakeMessage = create(channel_id, {"content": content}, [])
        made.data = dict(made.data) | {"author": user.to_json()}
        return made

    def tag_id(self, forum_id: int, name: str) -> int:
        forum = self._known_channel(forum_id)
        return next(int(t["id"]) for t in forum.available_tags if t["name"] == name)

    def threads_in(self, parent_id: int) -> list[FakeChannel]:
        return [t for t in self.threads.values() if t.parent_id == parent_id]

    def bot_permissions(self, channel: FakeChannel) -> int:
        """The bot's permissions in a channel (a thread has its parent's)."""
        if channel.type in THREAD_TYPES and channel.parent_id is not None:
            channel = self._known_channel(channel.parent_id)
        allowed = self.bot_role.permissions
        for overwrite in channel.overwrites:
            if overwrite["id"] in (str(self.bot_user.id), str(self.bot_role.id)):
                allowed = (allowed & ~int(overwrite["deny"])) | int(overwrite["allow"])
        return allowed

    def channel_payload(self, channel: FakeChannel) -> Json:
        if channel.id in self.threads:
            return self._thread_json(channel)
        return channel_json(self.guild_id, channel)

    def _known_channel(self, channel_id: int) -> FakeChannel:
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        found = self.threads.get(channel_id) or self.dm_channels.get(channel_id)
        if found is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return found

    # -- enforcement hooks called by FakeDiscord ------------------------------------------

    def check_can_send(self, channel: FakeChannel) -> None:
        """Before a message is created in a channel by the bot (not interaction responses)."""
        if channel.type == DM:
            return
        allowed = self.bot_permissions(channel)
        if not allowed & VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        if channel.type == FORUM:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        needed = SEND_MESSAGES_IN_THREADS if channel.type in THREAD_TYPES else SEND_MESSAGES
        if not allowed & needed:
            raise DiscordError(403, 50013, "Missing Permissions")

    def message_pings(self, content: str, allowed: Json | None, *, by_bot: bool) -> Json:
        may = bool(self.bot_role.permissions & MENTION_EVERYONE) if by_bot else True
        return pings(content, allowed, self.roles, may_mention_everyone=may)

    def sublimit(self, route: str, params: Mapping[str, str]) -> tuple[str, float, Json] | None:
        """A per-channel sub-limit hit by this request: (bucket, retry_after, body) or None.

        Discord sends these with the route's ordinary headers (requests remaining), so a
        client must trust the body's ``retry_after``.
        """
        now = time.monotonic()
        channel = (
            int(params.get("channel_id") or 0) if params.get("channel_id", "").isdigit() else 0
        )
        if route == "POST /channels/{channel_id}/messages/{message_id}/crosspost":
            wait = self._window(self._publish_windows, channel, self.publish_limit).wait(now)
            body: Json = {"message": "You are being rate limited.", "global": False}
            bucket = "publish"
        elif route == "POST /channels/{channel_id}/threads" or (
            route == "POST /channels/{channel_id}/messages/{message_id}/threads"
        ):
            wait = self._window(self._thread_windows, channel, self.thread_create_limit).wait(now)
            body = {"message": "You are being rate limited.", "global": False}
            bucket = "thread-create"
        elif route == "PATCH /channels/{channel_id}/messages/{message_id}":
            target = self._messages.get(int(params.get("message_id") or 0))
            if target is None or not int(target.data["flags"]) & CROSSPOSTED:
                return None
            window = self._window(self._published_edit_windows, channel, self.published_edit_limit)
            wait = window.wait(now)
            body = {
                "message": "The write action you are performing on the channel has hit the "
                "write rate limit.",
                "code": 20028,
                "global": False,
            }
            bucket = "published-edit"
            if not wait:
                window.times.append(now)  # counted when allowed: the edit itself cannot fail here
        else:
            return None
        if not wait:
            return None
        return bucket, round(wait, 3), body | {"retry_after": round(wait, 3)}

    def _window(
        self, windows: dict[int, _Window], channel: int, limit: tuple[int, float]
    ) -> _Window:
        window = windows.get(channel)
        if window is None:
            window = windows[channel] = _Window(*limit)
        return window

    # -- routes ----------------------------------------------------------------------------

    def channel_feature_routes(self) -> list[tuple[str, str, Any, bool, str]]:
        return [
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/crosspost",
                self._crosspost,
                True,
                "route",
            ),
            ("POST", "/channels/{channel_id}/threads", self._start_thread, True, "route"),
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
                self._thread_from_message,
                True,
                "route",
            ),
            ("GET", "/guilds/{guild_id}/roles", self._get_roles, True, "route"),
        ]

    async def _crosspost(self, req: Any) -> tuple[int, Any]:
        channel = self._known_channel(_int(req.params["channel_id"]))
        target = self._messages.get(_int(req.params["message_id"]))
        if target is None or target.deleted or target.channel_id != channel.id:
            raise DiscordError(404, 10008, "Unknown Message")
        if channel.type != ANNOUNCEMENT:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        allowed = self.bot_permissions(channel)
        own = int(target.data["author"]["id"]) == self.bot_user.id
        needed = SEND_MESSAGES if own else SEND_MESSAGES | MANAGE_MESSAGES
        if not allowed & VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        if allowed & needed != needed:
            raise DiscordError(403, 50013, "Missing Permissions")
        if int(target.data["flags"]) & CROSSPOSTED:
            raise DiscordError(400, 40033, "This message has already been crossposted.")
        self._window(self._publish_windows, channel.id, self.publish_limit).times.append(
            time.monotonic()
        )
        target.data = dict(target.data) | {"flags": int(target.data["flags"]) | CROSSPOSTED}
        self.publishes.append((channel.id, target.id))
        return 200, target.data

    async def _start_thread(self, req: Any) -> tuple[int, Any]:
        parent = self._known_channel(_int(req.params["channel_id"]))
        body = req.body or {}
        name = _thread_name(body)
        allowed = self.bot_permissions(parent)
        if not allowed & VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        if parent.type == FORUM:
            return 201, await self._forum_post(parent, name, body, req.files)
        if parent.type not in (TEXT, ANNOUNCEMENT):
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if not allowed & CREATE_PUBLIC_THREADS:
            raise DiscordError(403, 50013, "Missing Permissions")
        kind = ANNOUNCEMENT_THREAD if parent.type == ANNOUNCEMENT else int(body.get("type", 11))
        thread = self._open_thread(parent, snowflake(), name, kind, ())
        await self._announce(thread)
        return 201, self._thread_json(thread)

    async def _forum_post(
        self, forum: FakeChannel, name: str, body: Json, files: list[tuple[str, str, bytes]]
    ) -> Json:
        from tests.fakes.discord_limits import check_message

        if not self.bot_permissions(forum) & SEND_MESSAGES:
            raise DiscordError(403, 50013, "Missing Permissions")
        starter = body.get("message")
        if not isinstance(starter, dict):
            raise form_error(
                {
                    "message": {
                        "_errors": [
                            {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
                        ]
                    }
                }
            )
        tags = [str(t) for t in body.get("applied_tags") or ()]
        known = {str(t["id"]) for t in forum.available_tags}
        errors: Json = {}
        if len(tags) > APPLIED_TAGS_MAX:
            errors["applied_tags"] = {
                "_errors": [
                    {
                        "code": "BASE_TYPE_MAX_LENGTH",
                        "message": f"Must be {APPLIED_TAGS_MAX} or fewer in length.",
                    }
                ]
            }
        for index, tag in enumerate(tags):
            if tag not in known:
                errors.setdefault("applied_tags", {})[str(index)] = {
                    "_errors": [
                        {
                            "code": "CHANNEL_THREAD_INVALID_TAG",
                            "message": f"Tag {tag} is not a tag of this forum.",
                        }
                    ]
                }
        if errors:
            raise form_error(errors)
        if forum.flags & FORUM_REQUIRE_TAG and not tags:
            raise DiscordError(
                400, 40067, "A tag is required to create a forum post in this channel"
            )
        try:
            check_message(starter, creating=True, files=len(files))
        except DiscordError as error:
            if error.errors:
                raise form_error({"message": error.errors}) from None
            raise
        thread_id = snowflake()
        thread = self._open_thread(forum, thread_id, name, PUBLIC_THREAD, tuple(tags))
        create = getattr(self, "_create_message")  # noqa: B009 - FakeDiscord's
        created = create(thread.id, starter, files, message_id=thread_id)
        await self._announce(thread)
        return self._thread_json(thread) | {"message": created.data}

    async def _thread_from_message(self, req: Any) -> tuple[int, Any]:
        parent = self._known_channel(_int(req.params["channel_id"]))
        target = self._messages.get(_int(req.params["message_id"]))
        if target is None or target.deleted or target.channel_id != parent.id:
            raise DiscordError(404, 10008, "Unknown Message")
        if parent.type not in (TEXT, ANNOUNCEMENT):
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if not self.bot_permissions(parent) & CREATE_PUBLIC_THREADS:
            raise DiscordError(403, 50013, "Missing Permissions")
        if target.id in self.threads:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        name = _thread_name(req.body or {})
        kind = ANNOUNCEMENT_THREAD if parent.type == ANNOUNCEMENT else PUBLIC_THREAD
        thread = self._open_thread(parent, target.id, name, kind, ())
        data = dict(target.data)
        data["flags"] = int(data["flags"]) | HAS_THREAD
        data["thread"] = self._thread_json(thread)
        target.data = data
        await self._announce(thread)
        return 201, self._thread_json(thread)

    async def _get_roles(self, req: Any) -> tuple[int, Any]:
        if req.params["guild_id"] != str(self.guild_id):
            raise DiscordError(403, 50001, "Missing Access")
        return 200, [r.to_json() for r in self.roles.values()]

    def _open_thread(
        self, parent: FakeChannel, thread_id: int, name: str, kind: int, tags: tuple[str, ...]
    ) -> FakeChannel:
        self._window(self._thread_windows, parent.id, self.thread_create_limit).times.append(
            time.monotonic()
        )
        thread = FakeChannel(
            thread_id,
            name,
            0,
            type=kind,
            parent_id=parent.id,
            applied_tags=tags,
            owner_id=self.bot_user.id,
        )
        self.threads[thread_id] = thread
        self._channel_messages.setdefault(thread_id, [])
        return thread

    def _thread_json(self, thread: FakeChannel) -> Json:
        data = channel_json(self.guild_id, thread)
        data["message_count"] = len(self._channel_messages.get(thread.id, []))
        data["total_message_sent"] = data["message_count"]
        return data

    async def _announce(self, thread: FakeChannel) -> None:
        """THREAD_CREATE to the connected client (the bot is the thread's first member)."""
        if getattr(self, "_session", None) is None:
            return
        data = self._thread_json(thread) | {"newly_created": True}
        data["member"] = {
            "id": str(thread.id),
            "user_id": str(self.bot_user.id),
            "join_timestamp": iso_now(),
            "flags": 1,
        }
        await getattr(self, "dispatch")("THREAD_CREATE", data)  # noqa: B009 - FakeDiscord's

    # -- app installs ------------------------------------------------------------------------

    def check_install(self, command: Json, where: Where) -> None:
        """Discord shows a command only where it is registered to be usable."""
        install = GUILD_INSTALL if where.install == "guild" else USER_INSTALL
        context = CONTEXT_NAMES[where.context]
        types = command.get("integration_types") or [GUILD_INSTALL]
        contexts = command.get("contexts")
        if contexts is None and command.get("dm_permission") is False:
            contexts = [GUILD]
        elif contexts is None:
            contexts = (
                [GUILD, BOT_DM, PRIVATE_CHANNEL] if install == USER_INSTALL else [GUILD, BOT_DM]
            )
        name = command["name"]
        if install not in types:
            raise LookupError(f"/{name} is not registered for {where.install} installs")
        if context not in contexts:
            raise LookupError(f"/{name} is not registered for the {where.context} context")
        if where.install == "guild" and where.context == "private_channel":
            raise ValueError(
                "a guild install cannot be used in a private channel: use install=user"
            )

    def relocate(self, payload: Json, where: Where, who: FakeUser) -> int:
        """Rewrite an interaction payload for a user install / DM; return its channel id."""
        if where.install == "guild" and where.context == "guild":
            return int(payload["channel_id"])
        owners: Json = {"1": str(who.id)}
        if where.install == "guild":
            owners["0"] = str(self.guild_id)
        payload["authorizing_integration_owners"] = owners
        payload["context"] = CONTEXT_NAMES[where.context]
        if where.context == "guild":  # a server the bot is not in
            payload["guild_id"] = str(self.other_guild_id)
            payload["guild"] = {"id": str(self.other_guild_id), "locale": "en-US", "features": []}
            permissions = 0x0000_0000_0004_0C40 | (USE_EXTERNAL_APPS if where.external_apps else 0)
            payload["member"] = member(who, permissions=permissions)
            channel = self.other_guild_channel
            payload["channel"] = channel_json(self.other_guild_id, channel)
            payload["app_permissions"] = str(USER_INSTALL_APP_PERMISSIONS)
        else:
            payload.pop("guild_id", None)
            payload.pop("guild", None)
            payload.pop("member", None)
            payload.pop("guild_locale", None)
            payload["user"] = who.to_json()
            channel = self._dm_with(who, bot=where.context == "bot_dm")
            data = channel_json(None, channel)
            data["recipients"] = [who.to_json() if where.context == "bot_dm" else _stranger()]
            payload["channel"] = data
            payload["app_permissions"] = str(
                USER_INSTALL_APP_PERMISSIONS
                | (VIEW_CHANNEL | SEND_MESSAGES if where.context == "bot_dm" else 0)
            )
        payload["channel_id"] = str(channel.id)
        return channel.id

    def _dm_with(self, who: FakeUser, *, bot: bool) -> FakeChannel:
        name = f"dm-{who.username}-{'bot' if bot else 'friend'}"
        for channel in self.dm_channels.values():
            if channel.name == name:
                return channel
        channel = FakeChannel(snowflake(), name, 0, type=DM)
        self.dm_channels[channel.id] = channel
        self._channel_messages.setdefault(channel.id, [])
        return channel


def forum_tag(name: str, *, moderated: bool = False) -> Json:
    return {
        "id": str(snowflake()),
        "name": name,
        "moderated": moderated,
        "emoji_id": None,
        "emoji_name": None,
    }


def _thread_name(body: Json) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= THREAD_NAME_MAX:
        raise form_error(
            {
                "name": {
                    "_errors": [
                        {
                            "code": "BASE_TYPE_BAD_LENGTH",
                            "message": f"Must be between 1 and {THREAD_NAME_MAX} in length.",
                        }
                    ]
                }
            }
        )
    return name


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DiscordError(404, 10003, "Unknown Channel") from None


def _stranger() -> Json:
    return FakeUser(snowflake(), "friend").to_json()
