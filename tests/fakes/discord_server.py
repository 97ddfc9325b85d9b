"""A fake Discord (REST API v10 + gateway) on 127.0.0.1 for end-to-end tests and benchmarks.

The real discord.py client runs against it unmodified apart from two attributes, which
:func:`pointed_at` sets and restores::

    async with FakeDiscord() as fake, pointed_at(fake):
        client = discord.Client(...)          # any client; the bot: App(..., discord=...)
        task = asyncio.create_task(client.start(fake.token))
        await fake.wait_until_connected()
        record = await fake.interact("summary", {"digest": "kursk"})

What it enforces, as real Discord does (each with Discord's status, code and error shape):

* message limits: content 2000, 10 embeds, title 256, description 4096, 25 fields, field name
  256 / value 1024, footer 2048, author 256, 6000 characters over all embeds; components
  (5 rows of 5 buttons, custom ids 100); allowed_mentions shape; empty messages (50006);
* interactions: exactly one initial response (40060 after that), within the deadline (3 s;
  10062 "Unknown interaction" after it), the response type must suit the interaction, followups
  only after the initial response (10015) and while the token lives (15 min);
  autocomplete results at most 25 choices of at most 100 characters;
* rate limits: a global 50 requests/s per bot (interaction endpoints exempt) and per-route
  buckets (5 messages per 5 s per channel, 5 per 2 s per interaction webhook), with
  ``X-RateLimit-*`` headers on every response and 429s that carry a JSON ``retry_after``,
  ``global`` and a ``Via`` header; 200 command creates per scope per day (30034);
* ``nonce`` + ``enforce_nonce``: the same nonce in the same channel within ``nonce_window``
  returns the first message instead of posting a second one;
* authentication (401 on REST, close code 4004 on the gateway);
* channel kinds, roles, permissions and app installs — announcement publishing and its budget,
  forum posts and tags, threads, role pings, subcommands, user installs — in
  :mod:`tests.fakes.discord_channels` (a mixin of this class).
* sharding: any number of gateway connections, each IDENTIFYing with its ``shard``
  ``[id, count]`` (4010 for an invalid one, 4011 when the count disagrees with the shards
  already connected); the guild and its events, interactions included, go to the shard
  ``(guild_id >> 22) % count`` as on Discord; ``/gateway/bot`` recommends ``shard_count``.

Responses carry ``Content-Type: application/json`` exactly (discord.py compares it literally);
gateway frames are JSON text frames (the ``compress`` query the client sends is recorded and
ignored, and text frames are never decompressed by discord.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import aiohttp
import discord
import yarl
from aiohttp import web

from tests.fakes.discord_channels import (
    BOT_PERMISSIONS,
    MENTION_EVERYONE,
    ChannelFeatures,
    Where,
)
from tests.fakes.discord_limits import (
    DiscordError,
    check_choices,
    check_commands,
    check_message,
)
from tests.fakes.discord_payloads import (
    FakeChannel,
    FakeUser,
    Json,
    application,
    guild,
    member,
    message,
    role,
    snowflake,
)

API_VERSION = 10
EPHEMERAL = 1 << 6
LOADING = 1 << 7
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 50) - 1
GUILD_MESSAGES_INTENT = 1 << 9
INTERACTION_TOKEN_LIFETIME = 15 * 60.0

# Interaction types and callback types, as Discord numbers them.
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}
OPTION_TYPES: dict[type, int] = {str: 3, int: 4, bool: 5, float: 10}
ClientT = TypeVar("ClientT", bound=discord.Client)


@dataclass(frozen=True)
class RateLimits:
    """Limits the fake enforces. ``(count, seconds)`` pairs are fixed windows per bucket."""

    global_per_second: int = 50
    channel_messages: tuple[int, float] = (5, 5.0)
    webhook: tuple[int, float] = (5, 2.0)
    other_routes: tuple[int, float] = (50, 1.0)
    command_creates_per_day: int = 200
    publishes: tuple[int, float] = (10, 3600.0)
    """Publishes (crossposts) per announcement channel: about 10 an hour."""
    published_edits: tuple[int, float] = (5, 3600.0)
    """Edits of published messages per channel (Discord's figure is unpublished: an assumption)."""
    thread_creates: tuple[int, float] = (10, 60.0)
    """Threads (and forum posts) created per parent channel (unpublished: an assumption)."""


@dataclass
class RecordedRequest:
    method: str
    path: str
    """Path below ``/api/v10``, e.g. ``/channels/123/messages``."""
    route: str
    """The route template, e.g. ``POST /channels/{channel_id}/messages`` (``?`` if unknown)."""
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    """The JSON body (or ``payload_json`` of a multipart body), else None."""
    files: list[tuple[str, int]]
    """(filename, size) of each uploaded file."""
    at: float
    status: int = 0
    response: Any = None


@dataclass(frozen=True)
class RateLimitHit:
    route: str
    scope: str
    """``global`` or ``user`` (a per-route bucket), as in ``X-RateLimit-Scope``."""
    bucket: str
    retry_after: float
    at: float


@dataclass
class FakeMessage:
    data: Json
    """The message object as Discord returns it."""
    allowed_mentions: Json | None
    """As sent with the create request (None: the client sent none, so Discord parses all)."""
    files: dict[str, bytes] = field(default_factory=dict)
    interaction_id: int | None = None
    deleted: bool = False
    edits: list[Json] = field(default_factory=list)
    """Every edit request body, in order."""

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def channel_id(self) -> int:
        return int(self.data["channel_id"])

    @property
    def content(self) -> str:
        return str(self.data["content"])

    @property
    def embeds(self) -> list[Json]:
        return list(self.data["embeds"])

    @property
    def components(self) -> list[Json]:
        return list(self.data["components"])

    @property
    def flags(self) -> int:
        return int(self.data["flags"])

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def pinged(self) -> Json:
        """Whom this message notified: ``{"everyone": bool, "users": [...], "roles": [...]}``."""
        return {
            "everyone": bool(self.data["mention_everyone"]),
            "users": [int(user["id"]) for user in self.data["mentions"]],
            "roles": [int(role_id) for role_id in self.data["mention_roles"]],
        }

    def buttons(self) -> list[Json]:
        return [child for row in self.components for child in row.get("components", [])]

    def text(self) -> str:
        """Content plus every embed's visible text, for assertions."""
        parts = [self.content]
        for embed in self.embeds:
            parts.append(embed.get("title") or "")
            parts.append(embed.get("description") or "")
            for item in embed.get("fields") or ():
                parts.extend((item.get("name") or "", item.get("value") or ""))
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(part for part in parts if part)


@dataclass
class InteractionRecord:
    id: int
    token: str
    type: int
    payload: Json
    user: FakeUser
    channel_id: int
    created_at: float
    deadline: float
    target_message_id: int | None = None
    """For a component interaction: the message whose button was pressed."""
    callbacks: list[Json] = field(default_factory=list)
    """Accepted callback bodies (``{"type": ..., "data": ...}``); the first is the response."""
    callback_times: list[float] = field(default_factory=list)
    rejected: list[tuple[Json, DiscordError]] = field(default_factory=list)
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    choices: list[Json] | None = None

    @property
    def responded(self) -> bool:
        return bool(self.callbacks)

    @property
    def response_type(self) -> int | None:
        return int(self.callbacks[0]["type"]) if self.callbacks else None

    @property
    def failed_to_respond(self) -> bool:
        """What a user would see as "The application did not respond"."""
        return not self.responded and time.monotonic() > self.deadline

    @property
    def latency(self) -> float | None:
        """Seconds from dispatch to the initial callback."""
        return self.callback_times[0] - self.created_at if self.callback_times else None

    @property
    def reply(self) -> FakeMessage | None:
        """What the user now sees as the answer: the last followup, else the original."""
        if self.followups:
            return self.followups[-1]
        return self.original

    def answered(self) -> bool:
        """True once the bot has said something final (not only "thinking…")."""
        kind = self.response_type
        if kind is None:
            return False
        if kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL):
            return True
        if self.followups:
            return True
        if kind == DEFERRED_CHANNEL_MESSAGE:
            return self.original is not None and (
                self.original.deleted or not self.original.loading
            )
        return self.original is not None and bool(self.original.edits)


class _Changes:
    """Wakes whoever waits for a condition on the fake's state (and polls, for conditions on
    anything else, such as log records)."""

    POLL = 0.02

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fake Discord: timed out after {timeout}s waiting for {what}")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, min(remaining, self.POLL))


class _Connection:
    def __init__(self, ws: web.WebSocketResponse, path: str, query: Mapping[str, str]) -> None:
        self.ws = ws
        self.path = path
        self.query = dict(query)
        self.ready = False
        self._lock = asyncio.Lock()

    async def send(self, payload: Json) -> None:
        async with self._lock:
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(payload))


@dataclass
class _Session:
    id: str
    intents: int
    seq: int = 0
    buffer: deque[Json] = field(default_factory=lambda: deque(maxlen=5000))
    conn: _Connection | None = None
    shard: tuple[int, int] | None = None
    """IDENTIFY's ``[shard_id, num_shards]``; None for an unsharded client."""


@dataclass
class _Bucket:
    limit: int
    window: float
    count: int = 0
    reset_at: float = 0.0


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Callable[..., Any]
    auth: bool = True
    bucket: str = "route"
    """``route`` (per template and major parameter), ``channel``, ``webhook`` or ``none``."""


class _Incoming:
    def __init__(
        self,
        request: web.Request,
        params: dict[str, str],
        body: Any,
        files: list[tuple[str, str, bytes]],
    ) -> None:
        self.request = request
        self.params = params
        self.body = body
        self.files = files
        self.query = request.query


Response = tuple[int, Any]


def _json_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> web.Response:
    all_headers = dict(headers or {})
    if status == 204:
        return web.Response(status=204, headers=all_headers)
    all_headers["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(body).encode(), headers=all_headers)


class FakeDiscord(ChannelFeatures):
    """Discord's REST API and gateway for one bot in one guild, on 127.0.0.1.

    Everything the bot does is recorded: :attr:`requests`, :attr:`rate_limited`,
    :meth:`messages_in`, :attr:`interactions`, :attr:`gateway_log`.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        channels: tuple[str, ...] = ("general", "news", "digests"),
        announcements: tuple[str, ...] = (),
        forums: Mapping[str, tuple[str, ...]] | None = None,
        roles: Mapping[str, bool] | None = None,
        bot_permissions: int = BOT_PERMISSIONS | MENTION_EVERYONE,
        rate_limits: RateLimits | None = None,
        interaction_deadline: float = 3.0,
        heartbeat_interval: float = 41.25,
        nonce_window: float = 300.0,
        shard_count: int = 1,
        host: str = "127.0.0.1",
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fake Discord only listens on loopback")
        self.token = token
        self.limits = rate_limits or RateLimits()
        self.interaction_deadline = interaction_deadline
        self.heartbeat_interval = heartbeat_interval
        self.nonce_window = nonce_window
        self.shard_count = shard_count
        self.host = host

        self.application_id = snowflake()
        self.bot_user = FakeUser(self.application_id, "digest-bot", bot=True)
        self.owner = FakeUser(snowflake(), "owner")
        self.alice = FakeUser(snowflake(), "alice")
        self.bob = FakeUser(snowflake(), "bob")
        self.guild_id = snowflake()
        self.guild_name = "Fake Guild"
        self.moderator_role_id = snowflake()
        self.channels = [
            FakeChannel(snowflake(), name, index) for index, name in enumerate(channels)
        ]
        self._init_channel_features(
            announcements=announcements,
            forums=forums or {},
            roles=roles if roles is not None else {"news-pings": True, "staff": False},
            publishes=self.limits.publishes,
            published_edits=self.limits.published_edits,
            thread_creates=self.limits.thread_creates,
            bot_permissions=bot_permissions,
        )

        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        """Requests to routes the fake does not know: a test should expect this to stay empty."""
        self.rate_limited: list[RateLimitHit] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self.gateway_log: list[tuple[str, int, Json | None]] = []
        """(path, op, d) of every gateway frame the client sent."""
        self.gateway_queries: list[dict[str, str]] = []
        self.replayed: list[str] = []
        """Events re-sent on RESUME because the client had not received them."""

        self._messages: dict[int, FakeMessage] = {}
        self._channel_messages: dict[int, list[FakeMessage]] = {c.id: [] for c in self.channels}
        self._nonces: dict[tuple[int, str], tuple[float, FakeMessage]] = {}
        self._commands: dict[int | None, list[Json]] = {}
        self._command_creates: dict[int | None, deque[float]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._global_window: deque[float] = deque()
        self._tokens: dict[str, InteractionRecord] = {}
        self._sessions: dict[str, _Session] = {}
        self._session: _Session | None = None
        self._connections: set[_Connection] = set()
        self._changes = _Changes()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._routes = self._build_routes()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/v{version:\\d+}{path:/.*}", self._handle_rest)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._handle_cdn)
        app.router.add_get("/", self._handle_gateway)
        app.router.add_get("/resume", self._handle_gateway)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=1001, message=b"fake Discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def http_root(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """What ``discord.http.Route.BASE`` must be."""
        return f"{self.http_root}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """What ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` must be."""
        return f"ws://{self.host}:{self._port}/"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self._port}/resume"

    # -- what the bot did ----------------------------------------------------------------

    def messages_in(self, channel_id: int, *, include_ephemeral: bool = False) -> list[FakeMessage]:
        """Messages now in a channel (oldest first); deleted ones are gone."""
        return [
            m
            for m in self._channel_messages.get(channel_id, [])
            if not m.deleted and (include_ephemeral or not m.ephemeral)
        ]

    def message(self, message_id: int) -> FakeMessage:
        return self._messages[message_id]

    def channel_id(self, name: str) -> int:
        return next(c.id for c in self.channels if c.name == name)

    def commands(self, guild_id: int | None = None) -> list[Json]:
        """Commands registered by the last bulk overwrite, globally or in a guild."""
        return list(self._commands.get(guild_id, []))

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Recorded requests for a route template, e.g. ``POST /channels/{channel_id}/messages``."""
        return [r for r in self.requests if r.route == route]

    @property
    def count_429(self) -> int:
        return len(self.rate_limited)

    @property
    def identify_count(self) -> int:
        return sum(1 for _, op, _ in self.gateway_log if op == 2)

    @property
    def resume_count(self) -> int:
        return sum(1 for _, op, _ in self.gateway_log if op == 6)

    @property
    def identified_shards(self) -> list[tuple[int, int]]:
        """The ``shard`` of every IDENTIFY that opened a session, in order."""
        return [session.shard for session in self._sessions.values() if session.shard is not None]

    @property
    def connected_shards(self) -> list[int]:
        """Ids of the shards with a live, READY gateway connection."""
        return sorted(
            session.shard[0]
            for session in self._sessions.values()
            if session.shard is not None and session.conn is not None and session.conn.ready
        )

    def guild_shard(self, count: int) -> int:
        """The shard that receives the guild's events when the bot runs ``count`` shards."""
        return (self.guild_id >> 22) % count

    @property
    def connected(self) -> bool:
        session = self._session
        return session is not None and session.conn is not None and session.conn.ready

    async def wait_until_connected(self, timeout: float = 10.0) -> None:
        """Until a client has IDENTIFYed (or RESUMEd) and received READY."""
        await self._changes.wait_for(lambda: self.connected, timeout, "a gateway session")

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "a condition"
    ) -> None:
        """Wait until ``predicate()`` holds; it is re-checked whenever the fake's state changes."""
        await self._changes.wait_for(predicate, timeout, what)

    # -- driving the bot -----------------------------------------------------------------

    async def interact(
        self,
        command: str,
        options: Mapping[str, str | int | bool | float] | None = None,
        *,
        user: FakeUser | None = None,
        channel_id: int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
        where: Where | None = None,
    ) -> InteractionRecord:
        """A user runs ``/command`` (``"schedule add"`` for a subcommand): dispatch
        INTERACTION_CREATE and (by default) wait for the bot's answer (an initial response
        and, after a deferral, the followup or edit). ``where``: a user install or a DM."""
        data = self._command_data(command, options or {}, focused=None, where=where)
        record = await self.dispatch_interaction(
            APPLICATION_COMMAND, data, user=user, channel_id=channel_id, where=where
        )
        if wait:
            await self.wait_for_answer(record, timeout)
        return record

    async def autocomplete(
        self,
        command: str,
        focused: str,
        value: str,
        options: Mapping[str, str | int | bool | float] | None = None,
        *,
        user: FakeUser | None = None,
        timeout: float = 5.0,
        where: Where | None = None,
    ) -> list[Json]:
        """A user types ``value`` into option ``focused``: return the choices the bot offers."""
        typed: dict[str, str | int | bool | float] = dict(options or {})
        typed[focused] = value
        data = self._command_data(command, typed, focused=focused, where=where)
        record = await self.dispatch_interaction(AUTOCOMPLETE, data, user=user, where=where)
        await self.wait_for_answer(record, timeout)
        return list(record.choices or [])

    async def click(
        self,
        target: FakeMessage | int,
        custom_id: str,
        *,
        user: FakeUser | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> InteractionRecord:
        """A user presses a button on a message the bot sent."""
        found = self.message(target if isinstance(target, int) else target.id)
        button = next((b for b in found.buttons() if b.get("custom_id") == custom_id), None)
        if button is None:
            raise LookupError(f"message {found.id} has no component {custom_id!r}")
        if button.get("disabled"):
            raise ValueError(f"button {custom_id!r} is disabled: a user cannot press it")
        data = {"custom_id": custom_id, "component_type": int(button["type"])}
        record = await self.dispatch_interaction(
            MESSAGE_COMPONENT, data, user=user, channel_id=found.channel_id, message=found
        )
        if wait:
            await self.wait_for_answer(record, timeout)
        return record

    async def wait_for_answer(self, record: InteractionRecord, timeout: float = 5.0) -> None:
        def done() -> bool:
            return record.answered()

        try:
            await self.wait_for(done, timeout, f"an answer to interaction {record.id}")
        except TimeoutError as exc:
            rejected = "; ".join(
                f"{err.status} {err.code} {err.message}" for _, err in record.rejected
            )
            raise TimeoutError(f"{exc} (rejected callbacks: {rejected or 'none'})") from None

    async def dispatch_interaction(
        self,
        kind: int,
        data: Json,
        *,
        user: FakeUser | None = None,
        channel_id: int | None = None,
        message: FakeMessage | None = None,
        where: Where | None = None,
    ) -> InteractionRecord:
        """Send an INTERACTION_CREATE of any type; the deadline starts now."""
        who = user or self.alice
        channel = channel_id if channel_id is not None else self.channels[0].id
        interaction_id = snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        payload: Json = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(self.guild_id),
            "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel),
            "channel": self.channel_payload(self._channel(channel)),
            "member": member(who, permissions=self._permissions(who)),
            "token": token,
            "version": 1,
            "app_permissions": str(self.bot_permissions(self._channel(channel))),
            "locale": "en-GB",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message.data
        if where is not None:
            channel = self.relocate(payload, where, who)
        now = time.monotonic()
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            type=kind,
            payload=payload,
            user=who,
            channel_id=channel,
            created_at=now,
            deadline=now + self.interaction_deadline,
            target_message_id=message.id if message is not None else None,
        )
        self.interactions[interaction_id] = record
        self._tokens[token] = record
        await self.dispatch("INTERACTION_CREATE", payload)
        return record

    async def dispatch(self, event: str, data: Json) -> None:
        """Send a gateway DISPATCH (queued for replay if the client is between connections)."""
        session = self._session
        if session is None:
            raise RuntimeError("no gateway session: has the client connected?")
        await self._dispatch_to(session, event, data)

    async def _dispatch_to(self, session: _Session, event: str, data: Json) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.buffer.append(frame)
        if session.conn is not None and session.conn.ready:
            await session.conn.send(frame)

    async def force_reconnect(self, timeout: float = 10.0) -> None:
        """Send op 7 RECONNECT and wait until the client has RESUMEd on a new connection."""
        session = self._require_session()
        conn = session.conn
        if conn is None:
            raise RuntimeError("no live gateway connection")
        resumes = self.resume_count
        await conn.send({"op": 7, "d": None})
        await self.wait_for(
            lambda: self.resume_count > resumes and self.connected and session.conn is not conn,
            timeout,
            "the client to RESUME after RECONNECT",
        )

    async def drop_connection(self, code: int = 4000, timeout: float = 10.0) -> None:
        """Close the gateway socket as a network fault would; the client should RESUME."""
        session = self._require_session()
        conn = session.conn
        if conn is None:
            raise RuntimeError("no live gateway connection")
        resumes = self.resume_count
        await conn.ws.close(code=code, message=b"fake Discord dropped the connection")
        await self.wait_for(
            lambda: self.resume_count > resumes and self.connected,
            timeout,
            "the client to RESUME after a dropped connection",
        )

    # -- gateway -------------------------------------------------------------------------

    def _require_session(self) -> _Session:
        if self._session is None:
            raise RuntimeError("no gateway session: has the client connected?")
        return self._session

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws, request.path, request.query)
        self.gateway_queries.append(dict(request.query))
        self._connections.add(conn)
        try:
            if request.query.get("encoding", "json") != "json":
                await ws.close(code=4002, message=b"only encoding=json is served")
                return ws
            await conn.send(
                {"op": 10, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}}
            )
            async for frame in ws:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    await ws.close(code=4002, message=b"send JSON text frames")
                    break
                try:
                    payload = json.loads(frame.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                await self._on_gateway_frame(conn, payload)
        finally:
            self._connections.discard(conn)
            for session in self._sessions.values():
                if session.conn is conn:
                    session.conn = None
            self._changes.notify()
        return ws

    async def _on_gateway_frame(self, conn: _Connection, payload: Json) -> None:
        op = payload.get("op")
        data = payload.get("d")
        self.gateway_log.append((conn.path, int(op) if isinstance(op, int) else -1, data))
        if op == 1:
            await conn.send({"op": 11})
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif op in (3, 4, 8):
            pass  # presence, voice state, request members: accepted and ignored
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")
        self._changes.notify()

    async def _identify(self, conn: _Connection, data: Json) -> None:
        if conn.ready:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = data.get("shard")
        if shard is not None:
            valid = (
                isinstance(shard, list)
                and len(shard) == 2
                and all(isinstance(n, int) for n in shard)
                and 0 <= shard[0] < shard[1]
            )
            if not valid:
                await conn.ws.close(code=4010, message=b"Invalid shard.")
                return
            live = {s.shard[1] for s in self._sessions.values() if s.shard and s.conn}
            if live and live != {shard[1]}:
                await conn.ws.close(code=4011, message=b"Sharding required.")
                return
        session = _Session(id=secrets.token_hex(16), intents=int(data.get("intents", 0)))
        session.shard = (shard[0], shard[1]) if shard is not None else None
        owns_guild = shard is None or self.guild_shard(shard[1]) == shard[0]
        self._sessions[session.id] = session
        if owns_guild:
            self._session = session
        session.conn = conn
        session.seq += 1
        ready = {
            "op": 0,
            "t": "READY",
            "s": session.seq,
            "d": {
                "v": API_VERSION,
                "user": self.bot_user.to_json(),
                "guilds": [{"id": str(self.guild_id), "unavailable": True}] if owns_guild else [],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.resume_gateway_url,
                "application": {"id": str(self.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "geo_ordered_rtc_regions": [],
                "_trace": ["fake-discord"],
            },
        }
        if shard is not None:
            ready["d"]["shard"] = list(shard)
        await conn.send(ready)
        conn.ready = True
        if owns_guild:
            await self.dispatch("GUILD_CREATE", self._guild_json())

    async def _resume(self, conn: _Connection, data: Json) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        if session is None:
            await conn.send({"op": 9, "d": False})
            return
        old = session.conn
        session.conn = conn
        if session.shard is None or self.guild_shard(session.shard[1]) == session.shard[0]:
            self._session = session
        if old is not None and old is not conn:
            await old.ws.close(code=4000, message=b"resumed elsewhere")
        seen = int(data.get("seq") or 0)
        for frame in list(session.buffer):
            if frame["s"] > seen:
                self.replayed.append(str(frame["t"]))
                await conn.send(frame)
        conn.ready = True
        await self._dispatch_to(session, "RESUMED", {"_trace": ["fake-discord"]})

    # -- REST plumbing -------------------------------------------------------------------

    def _build_routes(self) -> list[_Route]:
        table: list[tuple[str, str, Callable[..., Any], bool, str]] = [
            ("GET", "/users/@me", self._get_me, True, "route"),
            ("GET", "/gateway", self._get_gateway, False, "route"),
            ("GET", "/gateway/bot", self._get_gateway_bot, True, "route"),
            ("GET", "/oauth2/applications/@me", self._get_application, True, "route"),
            ("GET", "/applications/@me", self._get_application, True, "route"),
            ("GET", "/applications/{application_id}/commands", self._get_commands, True, "route"),
            ("PUT", "/applications/{application_id}/commands", self._put_commands, True, "route"),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._get_commands,
                True,
                "route",
            ),
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._put_commands,
                True,
                "route",
            ),
            (
                "POST",
                "/interactions/{interaction_id}/{token}/callback",
                self._post_callback,
                False,
                "none",
            ),
            ("POST", "/webhooks/{application_id}/{token}", self._post_followup, False, "webhook"),
            (
                "GET",
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                self._get_webhook_message,
                False,
                "webhook",
            ),
            (
                "PATCH",
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                self._patch_webhook_message,
                False,
                "webhook",
            ),
            (
                "DELETE",
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                self._delete_webhook_message,
                False,
                "webhook",
            ),
            ("GET", "/channels/{channel_id}", self._get_channel, True, "route"),
            ("GET", "/channels/{channel_id}/messages", self._list_messages, True, "route"),
            ("POST", "/channels/{channel_id}/messages", self._post_message, True, "channel"),
            (
                "GET",
                "/channels/{channel_id}/messages/{message_id}",
                self._get_message,
                True,
                "route",
            ),
            (
                "PATCH",
                "/channels/{channel_id}/messages/{message_id}",
                self._patch_message,
                True,
                "route",
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}",
                self._delete_message,
                True,
                "route",
            ),
            ("GET", "/guilds/{guild_id}", self._get_guild, True, "route"),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels, True, "route"),
        ]
        table += self.channel_feature_routes()
        routes = []
        for method, template, handler, auth, bucket in table:
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            routes.append(_Route(method, template, re.compile(f"^{regex}$"), handler, auth, bucket))
        return routes

    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        for route in self._routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
        return None

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[str, str, bytes]]]:
        files: list[tuple[str, str, bytes]] = []
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            body: Any = None
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                raw = await part.read()
                if part.name == "payload_json":
                    body = json.loads(raw)
                elif part.name and part.name.startswith("files["):
                    files.append((part.name, part.filename or "file", bytes(raw)))
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        if content_type.split(";")[0].strip() != "application/json":
            raise DiscordError(400, 50109, "The request body contains invalid JSON.")
        try:
            return json.loads(raw), files
        except ValueError:
            raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None

    async def _handle_rest(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        record = RecordedRequest(
            method=request.method,
            path=path,
            route="?",
            query=dict(request.query),
            headers=dict(request.headers),
            body=None,
            files=[],
            at=time.monotonic(),
        )
        self.requests.append(record)
        headers: dict[str, str] = {}
        try:
            matched = self._match(request.method, path)
            if matched is None:
                self.unhandled.append(record)
                raise DiscordError(404, 0, "404: Not Found")
            route, params = matched
            record.route = f"{route.method} {route.template}"
            authorised = request.headers.get("Authorization") == f"Bot {self.token}"
            if route.auth and not authorised:
                raise DiscordError(401, 0, "401: Unauthorized")
            body, files = await self._read_body(request)
            record.body = body
            record.files = [(name, len(blob)) for _, name, blob in files]
            limited = self._rate_limit(route, params, authorised, headers, record)
            if limited is not None:
                status, payload = limited
            else:
                status, payload = await route.handler(_Incoming(request, params, body, files))
        except DiscordError as error:
            status, payload = error.status, error.body()
        record.status = status
        record.response = payload
        self._changes.notify()
        return _json_response(status, payload, headers)

    def _rate_limit(
        self,
        route: _Route,
        params: Mapping[str, str],
        authorised: bool,
        headers: dict[str, str],
        record: RecordedRequest,
    ) -> Response | None:
        now = time.monotonic()
        if route.auth and authorised:
            window = self._global_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.limits.global_per_second:
                retry = round(window[0] + 1.0 - now, 3)
                return self._too_many(record, "global", "global", retry, headers)
            window.append(now)
        if route.bucket == "none":
            return None
        if route.bucket == "channel":
            limit, period = self.limits.channel_messages
            major = params["channel_id"]
        elif route.bucket == "webhook":
            limit, period = self.limits.webhook
            major = params["token"]
        else:
            limit, period = self.limits.other_routes
            major = params.get("channel_id") or params.get("guild_id") or ""
        bucket_hash = hashlib.sha1(f"{route.method} {route.template}".encode()).hexdigest()[:16]
        key = f"{bucket_hash}:{major}"
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(limit, period)
        if now >= bucket.reset_at:
            bucket.count = 0
            bucket.reset_at = now + bucket.window
        reset_after = max(bucket.reset_at - now, 0.0)
        headers["X-RateLimit-Limit"] = str(bucket.limit)
        headers["X-RateLimit-Reset"] = f"{time.time() + reset_after:.3f}"
        headers["X-RateLimit-Reset-After"] = f"{reset_after:.3f}"
        headers["X-RateLimit-Bucket"] = bucket_hash
        if bucket.count >= bucket.limit:
            headers["X-RateLimit-Remaining"] = "0"
            return self._too_many(record, "user", bucket_hash, round(reset_after, 3), headers)
        bucket.count += 1
        headers["X-RateLimit-Remaining"] = str(bucket.limit - bucket.count)
        hit = self.sublimit(f"{route.method} {route.template}", params)
        if hit is not None:
            name, retry_after, body = hit
            status, _ = self._too_many(record, "user", name, retry_after, headers)
            return status, body
        return None

    def _too_many(
        self,
        record: RecordedRequest,
        scope: str,
        bucket: str,
        retry_after: float,
        headers: dict[str, str],
    ) -> Response:
        retry_after = max(retry_after, 0.001)
        is_global = scope == "global"
        headers["Retry-After"] = str(max(1, int(retry_after + 0.999)))
        headers["X-RateLimit-Scope"] = scope
        headers["Via"] = "1.1 google"
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        self.rate_limited.append(
            RateLimitHit(record.route, scope, bucket, retry_after, time.monotonic())
        )
        return 429, {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }

    async def _handle_cdn(self, request: web.Request) -> web.Response:
        attachment_id = int(request.match_info["attachment"])
        for found in self._messages.values():
            for attachment in found.data["attachments"]:
                if int(attachment["id"]) == attachment_id:
                    blob = found.files.get(attachment["filename"], b"")
                    return web.Response(body=blob, content_type="application/octet-stream")
        return web.Response(status=404)

    # -- REST handlers -------------------------------------------------------------------

    async def _get_me(self, req: _Incoming) -> Response:
        return 200, self.bot_user.to_json()

    async def _get_gateway(self, req: _Incoming) -> Response:
        return 200, {"url": self.gateway_url.rstrip("/")}

    async def _get_gateway_bot(self, req: _Incoming) -> Response:
        return 200, {
            "url": self.gateway_url.rstrip("/"),
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _get_application(self, req: _Incoming) -> Response:
        return 200, application(self.application_id, self.bot_user, self.owner)

    def _check_application(self, req: _Incoming) -> None:
        if req.params["application_id"] != str(self.application_id):
            raise DiscordError(403, 50001, "Missing Access")

    def _scope(self, req: _Incoming) -> int | None:
        guild_id = req.params.get("guild_id")
        if guild_id is None:
            return None
        if guild_id != str(self.guild_id):
            raise DiscordError(403, 50001, "Missing Access")
        return int(guild_id)

    async def _get_commands(self, req: _Incoming) -> Response:
        self._check_application(req)
        return 200, self._commands.get(self._scope(req), [])

    async def _put_commands(self, req: _Incoming) -> Response:
        self._check_application(req)
        scope = self._scope(req)
        check_commands(req.body)
        existing = {(c.get("type", 1), c["name"]): c for c in self._commands.get(scope, [])}
        now = time.monotonic()
        creates = self._command_creates.setdefault(scope, deque())
        while creates and creates[0] <= now - 86_400:
            creates.popleft()
        new = [c for c in req.body if (c.get("type", 1), c["name"]) not in existing]
        if len(creates) + len(new) > self.limits.command_creates_per_day:
            raise DiscordError(
                429,
                30034,
                "Max number of daily application command creates has been reached (200)",
            )
        creates.extend(now for _ in new)
        stored = []
        for command in req.body:
            before = existing.get((command.get("type", 1), command["name"]))
            saved = dict(command)
            saved["id"] = before["id"] if before else str(snowflake())
            saved["application_id"] = str(self.application_id)
            saved["version"] = str(snowflake())
            saved.setdefault("type", 1)
            saved.setdefault("options", [])
            saved.setdefault("default_member_permissions", None)
            saved.setdefault("nsfw", False)
            if scope is not None:
                saved["guild_id"] = str(scope)
            stored.append(saved)
        self._commands[scope] = stored
        return 200, stored

    async def _post_callback(self, req: _Incoming) -> Response:
        record = self.interactions.get(int(req.params["interaction_id"]))
        body = req.body or {}
        if record is None or record.token != req.params["token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        try:
            result = self._respond(record, body, req.files)
        except DiscordError as error:
            record.rejected.append((body, error))
            raise
        if req.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        return 200, result

    def _respond(
        self, record: InteractionRecord, body: Json, files: list[tuple[str, str, bytes]]
    ) -> Json:
        now = time.monotonic()
        if record.responded:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if now > record.deadline:
            raise DiscordError(404, 10062, "Unknown interaction")
        kind = body.get("type")
        if kind not in ALLOWED_CALLBACKS.get(record.type, set()):
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": "Interaction response type is invalid",
                            }
                        ]
                    }
                },
            )
        data = body.get("data") or {}
        interaction_info: Json = {"id": str(record.id), "type": record.type}
        resource: Json | None = None
        if kind == AUTOCOMPLETE_RESULT:
            check_choices(data.get("choices"))
            record.choices = list(data["choices"])
        elif kind == CHANNEL_MESSAGE:
            check_message(data, creating=True, files=len(files))
            created = self._create_message(record.channel_id, data, files, interaction=record)
            record.original = created
            interaction_info["response_message_id"] = str(created.id)
            interaction_info["response_message_loading"] = False
            interaction_info["response_message_ephemeral"] = created.ephemeral
            resource = {"type": kind, "message": created.data}
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            created = self._create_message(
                record.channel_id, {"flags": flags}, [], interaction=record
            )
            record.original = created
            interaction_info["response_message_id"] = str(created.id)
            interaction_info["response_message_loading"] = True
            interaction_info["response_message_ephemeral"] = created.ephemeral
            resource = {"type": kind, "message": created.data}
        elif kind in (UPDATE_MESSAGE, DEFERRED_UPDATE):
            target = self._messages[record.target_message_id or 0]
            record.original = target
            if kind == UPDATE_MESSAGE:
                check_message(data, creating=False, files=len(files))
                self._edit_message(target, data, files)
            interaction_info["response_message_id"] = str(target.id)
            resource = {"type": kind, "message": target.data}
        record.callbacks.append({"type": kind, "data": data})
        record.callback_times.append(now)
        result: Json = {"interaction": interaction_info}
        if resource is not None:
            result["resource"] = resource
        return result

    def _webhook_record(self, req: _Incoming) -> InteractionRecord:
        if req.params["application_id"] != str(self.application_id):
            raise DiscordError(404, 10015, "Unknown Webhook")
        record = self._tokens.get(req.params["token"])
        if record is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        if time.monotonic() > record.created_at + INTERACTION_TOKEN_LIFETIME:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if not record.responded:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return record

    def _webhook_message(self, record: InteractionRecord, message_id: str) -> FakeMessage:
        if message_id == "@original":
            found = record.original
        else:
            found = next((m for m in record.followups if str(m.id) == message_id), None)
        if found is None or found.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        return found

    async def _post_followup(self, req: _Incoming) -> Response:
        record = self._webhook_record(req)
        body = req.body or {}
        check_message(body, creating=True, files=len(req.files))
        created = self._create_message(record.channel_id, body, req.files, interaction=record)
        record.followups.append(created)
        if req.query.get("wait") in ("true", "1", "True"):
            return 200, created.data
        return 204, None

    async def _get_webhook_message(self, req: _Incoming) -> Response:
        record = self._webhook_record(req)
        return 200, self._webhook_message(record, req.params["message_id"]).data

    async def _patch_webhook_message(self, req: _Incoming) -> Response:
        record = self._webhook_record(req)
        target = self._webhook_message(record, req.params["message_id"])
        body = req.body or {}
        check_message(body, creating=False, files=len(req.files))
        self._edit_message(target, body, req.files)
        return 200, target.data

    async def _delete_webhook_message(self, req: _Incoming) -> Response:
        record = self._webhook_record(req)
        self._webhook_message(record, req.params["message_id"]).deleted = True
        return 204, None

    def _channel(self, channel_id: int) -> FakeChannel:
        return self._known_channel(channel_id)

    def _channel_param(self, req: _Incoming) -> FakeChannel:
        try:
            return self._channel(int(req.params["channel_id"]))
        except ValueError:
            raise DiscordError(404, 10003, "Unknown Channel") from None

    def _channel_message(self, req: _Incoming) -> FakeMessage:
        channel = self._channel_param(req)
        found = self._messages.get(int(req.params["message_id"]))
        if found is None or found.deleted or found.channel_id != channel.id or found.ephemeral:
            raise DiscordError(404, 10008, "Unknown Message")
        return found

    async def _get_channel(self, req: _Incoming) -> Response:
        return 200, self.channel_payload(self._channel_param(req))

    async def _list_messages(self, req: _Incoming) -> Response:
        channel = self._channel_param(req)
        limit = min(max(int(req.query.get("limit", "50")), 1), 100)
        found = self.messages_in(channel.id)
        if "before" in req.query:
            found = [m for m in found if m.id < int(req.query["before"])]
        if "after" in req.query:
            found = [m for m in found if m.id > int(req.query["after"])]
            found = found[:limit]
        else:
            found = found[-limit:]
        return 200, [m.data for m in reversed(found)]

    async def _post_message(self, req: _Incoming) -> Response:
        channel = self._channel_param(req)
        self.check_can_send(channel)
        body = req.body or {}
        check_message(body, creating=True, files=len(req.files))
        nonce = body.get("nonce")
        now = time.monotonic()
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel.id, str(nonce)))
            if seen is not None and now - seen[0] <= self.nonce_window:
                return 200, seen[1].data
        created = self._create_message(channel.id, body, req.files)
        if nonce is not None:
            self._nonces[(channel.id, str(nonce))] = (now, created)
        session = self._session
        if session is not None and session.intents & GUILD_MESSAGES_INTENT:
            await self.dispatch("MESSAGE_CREATE", created.data | {"guild_id": str(self.guild_id)})
        return 200, created.data

    async def _get_message(self, req: _Incoming) -> Response:
        return 200, self._channel_message(req).data

    async def _patch_message(self, req: _Incoming) -> Response:
        target = self._channel_message(req)
        body = req.body or {}
        check_message(body, creating=False, files=len(req.files))
        self._edit_message(target, body, req.files)
        return 200, target.data

    async def _delete_message(self, req: _Incoming) -> Response:
        self._channel_message(req).deleted = True
        return 204, None

    async def _get_guild(self, req: _Incoming) -> Response:
        if self._scope(req) is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return 200, self._guild_json()

    async def _get_guild_channels(self, req: _Incoming) -> Response:
        self._scope(req)
        return 200, [self.channel_payload(c) for c in self.channels]

    # -- state helpers -------------------------------------------------------------------

    def _permissions(self, user: FakeUser) -> int:
        return ALL_PERMISSIONS if user in (self.owner,) else 0x0000_0000_0004_0C40

    def _guild_json(self) -> Json:
        roles = [
            role(self.guild_id, self.guild_id, "@everyone", 0, 0x0000_0000_0004_0C40),
            role(self.guild_id, self.moderator_role_id, "moderators", 1, ADMINISTRATOR),
            *(r.to_json() for r in self.roles.values()),
        ]
        members = [
            member(
                user,
                permissions=self._permissions(user),
                roles=(self.bot_role.id,) if user == self.bot_user else (),
            )
            for user in (self.bot_user, self.owner, self.alice, self.bob)
        ]
        return guild(
            self.guild_id,
            self.guild_name,
            owner_id=self.owner.id,
            channels=self.channels,
            roles=roles,
            members=members,
            application_id=self.application_id,
        )

    def _attachments(
        self,
        channel_id: int,
        body: Json,
        files: list[tuple[str, str, bytes]],
        keep: list[Json],
        store: dict[str, bytes],
    ) -> list[Json]:
        result = list(keep)
        for _, filename, blob in files:
            attachment_id = snowflake()
            url = f"{self.http_root}/attachments/{channel_id}/{attachment_id}/{filename}"
            result.append(
                {
                    "id": str(attachment_id),
                    "filename": filename,
                    "size": len(blob),
                    "url": url,
                    "proxy_url": url,
                    "content_type": "image/png" if filename.endswith(".png") else None,
                }
            )
            store[filename] = blob
        return result

    def _create_message(
        self,
        channel_id: int,
        body: Json,
        files: list[tuple[str, str, bytes]],
        *,
        interaction: InteractionRecord | None = None,
        message_id: int | None = None,
    ) -> FakeMessage:
        allowed = body.get("allowed_mentions")
        store: dict[str, bytes] = {}
        message_id = message_id or snowflake()
        attachments = self._attachments(channel_id, body, files, [], store)
        metadata = None
        if interaction is not None:
            metadata = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.to_json(),
                "authorizing_integration_owners": {"0": str(self.guild_id)},
            }
        data = message(
            message_id=message_id,
            channel_id=channel_id,
            author=self.bot_user,
            body=body,
            attachments=attachments,
            webhook_id=self.application_id if interaction is not None else None,
            interaction=metadata,
            application_id=self.application_id if interaction is not None else None,
            mentions=self.message_pings(str(body.get("content") or ""), allowed, by_bot=True),
        )
        if interaction is not None:
            data["flags"] = int(body.get("flags") or 0) & (EPHEMERAL | LOADING | 4 | 4096)
        created = FakeMessage(
            data=data,
            allowed_mentions=allowed,
            files=store,
            interaction_id=interaction.id if interaction is not None else None,
        )
        self._messages[message_id] = created
        self._channel_messages.setdefault(channel_id, []).append(created)
        return created

    def _edit_message(
        self, target: FakeMessage, body: Json, files: list[tuple[str, str, bytes]]
    ) -> None:
        data = dict(target.data)
        for key in ("content", "embeds", "components"):
            if key in body:
                data[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "attachments" in body:
            wanted = {str(a.get("id")) for a in body["attachments"] or ()}
            keep = [a for a in data["attachments"] if str(a["id"]) in wanted]
        else:
            keep = list(data["attachments"])
        data["attachments"] = self._attachments(target.channel_id, body, files, keep, target.files)
        data["flags"] = int(data["flags"]) & ~LOADING
        if "allowed_mentions" in body:
            target.allowed_mentions = body["allowed_mentions"]
        pinged = self.message_pings(
            str(data.get("content") or ""), target.allowed_mentions, by_bot=True
        )
        data["mention_everyone"] = pinged["everyone"]
        data["mention_roles"] = [str(r) for r in pinged["roles"]]
        data["edited_timestamp"] = data["timestamp"]
        if not (data["content"] or data["embeds"] or data["components"] or data["attachments"]):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        target.data = data
        target.edits.append(body)

    def _command_data(
        self,
        name: str,
        options: Mapping[str, str | int | bool | float],
        *,
        focused: str | None,
        where: Where | None = None,
    ) -> Json:
        """The ``data`` of an application command interaction, typed by the registered command.

        ``name`` may name a subcommand (``"schedule add"``) or one in a group
        (``"config channel set"``): the options are then nested as Discord nests them.
        """
        words = name.split()
        user_install = where is not None and where.install == "user"
        scope: int | None = None if user_install else self.guild_id  # users see global ones
        command = next((c for c in self._commands.get(scope, []) if c["name"] == words[0]), None)
        if command is None and scope is not None:
            scope = None
            command = next((c for c in self._commands.get(None, []) if c["name"] == words[0]), None)
        if command is None:
            raise LookupError(f"/{words[0]} is not registered with the fake Discord: sync first")
        self.check_install(command, where or Where())
        path: list[Json] = []
        level = command
        for word in words[1:]:
            found = next(
                (
                    o
                    for o in level.get("options") or ()
                    if o["name"] == word and o["type"] in (1, 2)
                ),
                None,
            )
            if found is None:
                raise LookupError(f"/{name}: no subcommand {word!r}")
            path.append(found)
            level = found
        declared_all = level.get("options") or ()
        if any(o["type"] in (1, 2) for o in declared_all):
            raise ValueError(f"/{name} has subcommands: Discord sends one of them, name it")
        declared = {o["name"]: o for o in declared_all}
        for option_name, spec in declared.items():
            if spec.get("required") and option_name not in options and option_name != focused:
                raise ValueError(f"/{name} needs option {option_name!r}: Discord would not send it")
        sent: list[Json] = []
        for option_name, value in options.items():
            spec = declared.get(option_name)
            if spec is None:
                raise ValueError(f"/{name} has no option {option_name!r}")
            item: Json = {"name": option_name, "type": spec["type"], "value": value}
            if option_name == focused:
                item["focused"] = True
                item["value"] = str(value)
            elif spec["type"] == 7:  # a channel: its id, as a string
                if not isinstance(value, int):
                    raise TypeError(f"option {option_name!r} of /{name} takes a channel id")
                self._check_channel_option(spec, value, name, option_name)
                item["value"] = str(value)
            elif spec["type"] == 8:  # a role
                if not isinstance(value, int) or value not in self.roles:
                    raise TypeError(f"option {option_name!r} of /{name} takes a role id")
                item["value"] = str(value)
            elif OPTION_TYPES.get(type(value)) != spec["type"] and not (
                spec["type"] == 10 and isinstance(value, int)
            ):
                raise TypeError(f"option {option_name!r} of /{name} takes type {spec['type']}")
            sent.append(item)
        for sub in reversed(path):
            sent = [{"name": sub["name"], "type": sub["type"], "options": sent}]
        data: Json = {"id": command["id"], "name": words[0], "type": 1, "options": sent}
        resolved = self._resolved(sent)
        if resolved:
            data["resolved"] = resolved
        if scope is not None:
            data["guild_id"] = str(scope)
        return data

    def _check_channel_option(self, spec: Json, value: int, name: str, option: str) -> None:
        """Discord's picker offers only channels of the option's ``channel_types``."""
        channel = self._channel(value)
        types = spec.get("channel_types")
        if types and channel.type not in types:
            raise ValueError(
                f"/{name} {option}: Discord offers only channel types {types}, not {channel.type}"
            )

    def _resolved(self, options: list[Json]) -> Json:
        """``data.resolved`` for channel and role options, as Discord sends it."""
        resolved: Json = {}
        stack = list(options)
        while stack:
            item = stack.pop()
            stack.extend(item.get("options") or ())
            if item["type"] == 7 and not item.get("focused"):
                channel = self._channel(int(item["value"]))
                data = self.channel_payload(channel)
                data["permissions"] = str(self.bot_permissions(channel))
                resolved.setdefault("channels", {})[str(channel.id)] = data
            elif item["type"] == 8 and not item.get("focused"):
                resolved.setdefault("roles", {})[item["value"]] = self.roles[
                    int(item["value"])
                ].to_json()
        return resolved


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py at the fake (the two attributes), restoring them afterwards."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running_fake(**options: Any) -> AsyncIterator[FakeDiscord]:
    """A started fake with discord.py pointed at it."""
    async with FakeDiscord(**options) as fake:
        with pointed_at(fake):
            yield fake


@contextlib.asynccontextmanager
async def serve_client(
    fake: FakeDiscord, client: ClientT, timeout: float = 10.0
) -> AsyncIterator[ClientT]:
    """Run ``client.start()`` against the fake until it is READY; close it on exit.

    A client that fails to start (bad token, refused IDENTIFY) raises here instead of hanging.
    """
    async with client:
        task = asyncio.create_task(client.start(fake.token), name="discord-client")
        ready = asyncio.create_task(client.wait_until_ready(), name="discord-ready")
        try:
            done, _ = await asyncio.wait(
                {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if task in done:
                task.result()
                raise RuntimeError("the discord.py client stopped before it was ready")
            if ready not in done:
                raise TimeoutError(f"the discord.py client was not ready after {timeout}s")
            yield client
        finally:
            ready.cancel()
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout)
