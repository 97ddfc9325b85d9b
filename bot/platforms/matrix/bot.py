"""Matrix: the registry's commands in Matrix rooms over matrix-nio, and the Matrix adapter.

``!summary``, ``!figures``, ``!where``, ``!sources``, ``!digests``, ``!help`` (and ``!schedule``)
give the same answers as Discord and the console, every item with its source.

* Replies are ``m.notice`` (or ``m.text``, see ``MatrixSettings.msgtype``) with a plain ``body``
  and an escaped HTML ``formatted_body`` (``render``), sent as a reply to the command
  (``m.relates_to`` / ``m.in_reply_to``) and inside its thread when it came from one.
* The bot ignores its own messages, notices, edits, and everything from before it started: the
  first sync after start-up only joins pending invites; commands are read from the next one on.
  The sync token is kept in ``store_dir``, so a restart neither replays nor re-reads history.
* It joins the rooms it is invited to when they pass the allow-list (room ids, or ``:server``
  suffixes; empty = rooms on the bot's own homeserver); other invites are declined.
* Every send goes through one queue that honours ``M_LIMIT_EXCEEDED`` (``retry_after_ms`` in the
  body, else the ``Retry-After`` header) with a bounded number of retries of the *same*
  transaction id (so a retry can never post twice). This is the only layer that retries a 429:
  when the bound is reached a scheduled post raises ``GaveUp``, which the deliverer marks failed
  without retrying it again; an answer gets a ``MatrixSendError``. Never dropped silently.
* Admin commands (``!schedule``) need power level 50 or more in the room (``is_admin``, which
  knows that room version 12 gives creators unlimited power).
* End-to-end encryption is optional (``encryption=True``, needs ``matrix-nio[e2e]``, which uses
  vodozemac): the keys live in a persistent store in ``store_dir``; the bot shares its room keys
  with every device in the room (it does not verify devices).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import nio  # type: ignore[import-untyped]

from bot.commands.base import Caller, parse
from bot.commands.registry import Commands
from bot.platforms.matrix.client import NioClient, Response, new_client, rate_limited, retry_wait
from bot.platforms.matrix.render import message_content, render_parts
from bot.platforms.matrix.rooms import (
    ADMIN_LEVEL,
    is_command,
    png_size,
    power_level,
    reply_relation,
    room_allowed,
    server_of,
    strip_reply_fallback,
)
from bot.platforms.matrix.settings import (
    MatrixConfigError,
    MatrixError,
    MatrixLoginError,
    MatrixSendError,
    MatrixSettings,
)
from bot.reply import Picture, Reply
from bot.schedules.delivery import ChannelGone, GaveUp
from bot.schedules.spec import Limits

log = logging.getLogger(__name__)


class MatrixGaveUp(MatrixSendError, GaveUp):
    """A post still rate limited after ``RATE_LIMIT_RETRIES`` waits: the deliverer marks it
    failed instead of retrying it once more (one retry layer)."""


RATE_LIMIT_RETRIES = 12
"""429s one answer may meet before it gives up with ``MatrixSendError``."""
SYNC_TIMEOUT_MS = 30_000
FIRST_SYNC_FILTER: dict[str, Any] = {"room": {"timeline": {"limit": 1}}}
SYNC_FILTER: dict[str, Any] = {"room": {"timeline": {"limit": 50}}}
SEEN_MAX = 2048
GONE_ERRCODES = frozenset({"M_FORBIDDEN", "M_NOT_FOUND"})
"""A post to a room the bot is not (or no longer) in: the deliverer must not retry it."""
ADMIN_NEED = f"power level {ADMIN_LEVEL} or more in this room (ask a room admin or moderator)"
MATRIX_LIMITS = Limits(per_second=10.0, channel_count=10, channel_period=1.0)
"""Synapse's limits vary per server and are not advertised: the adapter waits out each
M_LIMIT_EXCEEDED exactly (no post dropped), so the deliverer's pacer only spreads bursts."""


@dataclass
class SendStats:
    """What the send path has done since start: for logs and the benchmark."""

    sent: int = 0
    rate_limited: int = 0
    waited: float = 0.0
    failed: int = 0


@dataclass
class _State:
    """What survives a restart, in ``store_dir/state.json``."""

    next_batch: str | None = None
    device_id: str | None = None
    access_token: str | None = None
    """Only for password logins (so a restart does not create a new device); file mode 0600."""
    user_id: str | None = None
    homeserver: str | None = None


class MatrixBot:
    """The bot in Matrix rooms: ``start()`` (login, first sync), ``serve()`` until cancelled,
    ``close()``; ``post()`` for scheduled posts (the scheduler's ``Poster``), ``is_admin()``."""

    name = "matrix"

    def __init__(
        self, commands: Commands, settings: MatrixSettings, limits: Limits = MATRIX_LIMITS
    ) -> None:
        self.commands = commands
        self.settings = settings
        self.limits = limits
        self.user_id = settings.user_id
        self.stats = SendStats()
        self._client: NioClient | None = None
        self._state = _State()
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._seen: deque[str] = deque(maxlen=SEEN_MAX)
        self._seen_set: set[str] = set()
        self._room_servers: dict[str, str] = {}
        self._started = False

    @property
    def client(self) -> NioClient:
        if self._client is None:
            raise MatrixError("the Matrix client is not started")
        return self._client

    # -- life cycle -----------------------------------------------------------------------
    @property
    def _state_path(self) -> Path:
        return self.settings.store_dir / "state.json"

    def _load_state(self) -> _State:
        try:
            data = json.loads(self._state_path.read_text("utf-8"))
        except FileNotFoundError:
            return _State()
        except (OSError, ValueError) as exc:
            log.warning("matrix: ignoring unreadable %s (%s)", self._state_path, exc)
            return _State()
        if not isinstance(data, dict):
            log.warning("matrix: ignoring %s: not a JSON object", self._state_path)
            return _State()
        state = _State(
            **{k: data.get(k) for k in ("next_batch", "device_id", "access_token", "user_id")}
        )
        state.homeserver = data.get("homeserver")
        if state.user_id != self.settings.user_id or state.homeserver != self.settings.homeserver:
            return _State()  # another account's store: start afresh
        return state

    def _save_state(self) -> None:
        data = {
            "next_batch": self._state.next_batch,
            "device_id": self._state.device_id,
            "access_token": self._state.access_token,
            "user_id": self.settings.user_id,
            "homeserver": self.settings.homeserver,
        }
        tmp = self._state_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, self._state_path)

    async def start(self) -> None:
        """Log in, then one sync whose messages are ignored (they predate us); join invites."""
        if self._started:
            return
        settings = self.settings
        if settings.encryption and not nio.crypto.ENCRYPTION_ENABLED:
            raise MatrixConfigError(
                "encryption is on but matrix-nio[e2e] is not installed: "
                "pip install 'matrix-nio[e2e]' (it uses vodozemac; no system libolm needed)"
            )
        settings.store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._state = self._load_state()
        self._client = new_client(
            settings.homeserver,
            settings.user_id,
            self._state.device_id or "",
            str(settings.store_dir),
            encryption=settings.encryption,
        )
        try:
            await self._login()
            await self._first_sync()
        except (aiohttp.ClientError, OSError) as exc:
            await self.client.close()
            raise MatrixLoginError(f"cannot reach {settings.homeserver}: {exc}") from exc
        except BaseException:
            await self.client.close()
            raise
        self._started = True
        log.info(
            "matrix: logged in as %s (device %s) on %s; %d room(s)%s",
            self.user_id,
            self.client.device_id,
            settings.homeserver,
            len(self.client.rooms),
            ", end-to-end encryption on" if settings.encryption else "",
        )

    async def _login(self) -> None:
        client, settings = self.client, self.settings
        token = settings.access_token or self._state.access_token
        if token:
            client.access_token = token
            who = await client.whoami()
            if isinstance(who, nio.WhoamiResponse):
                if who.user_id != settings.user_id:
                    raise MatrixConfigError(
                        f"the access token belongs to {who.user_id}, "
                        f"not to MATRIX_USER_ID {settings.user_id}"
                    )
                self._restore(who.device_id or "", token)
                return
            if settings.access_token or not settings.password:
                raise MatrixLoginError(
                    f"{settings.homeserver} refused MATRIX_ACCESS_TOKEN: {who.message}"
                )
            log.info("matrix: the saved login was refused (%s); logging in again", who.message)
            client.access_token = ""
        resp = await client.login(settings.password, device_name=settings.device_name)
        if not isinstance(resp, nio.LoginResponse):
            raise MatrixLoginError(f"{settings.homeserver} refused the login: {resp.message}")
        self._state.access_token = resp.access_token
        self._state.device_id = resp.device_id
        self._save_state()

    def _restore(self, device_id: str, token: str) -> None:
        client = self.client
        if self.settings.encryption and not device_id:
            raise MatrixConfigError(
                "end-to-end encryption needs an access token bound to a device "
                "(log in with MATRIX_PASSWORD, or make the token with a login)"
            )
        if device_id:
            client.restore_login(self.settings.user_id, device_id, token)
        else:
            client.user_id, client.access_token = self.settings.user_id, token
        if self._state.device_id != device_id:
            self._state.device_id = device_id
            self._save_state()

    async def _first_sync(self) -> None:
        since = self._state.next_batch
        resp = await self.client.sync(
            timeout=0, sync_filter=FIRST_SYNC_FILTER, since=since, full_state=True
        )
        if isinstance(resp, nio.SyncError) and since is not None:
            self._check_auth(resp)
            log.warning("matrix: the saved sync token was refused (%s); syncing afresh", resp)
            resp = await self.client.sync(timeout=0, sync_filter=FIRST_SYNC_FILTER, full_state=True)
        if isinstance(resp, nio.SyncError):
            self._check_auth(resp)
            raise MatrixError(f"the first sync with {self.settings.homeserver} failed: {resp}")
        await self._crypto_upkeep()
        self._learn_rooms(resp)
        await self._handle_invites(resp)
        self._state.next_batch = resp.next_batch
        self._save_state()

    def _check_auth(self, resp: Any) -> None:
        if getattr(resp, "status_code", None) in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
            raise MatrixLoginError(f"{self.settings.homeserver} refused the login: {resp.message}")

    async def serve(self) -> None:
        """Answer commands until cancelled. Sync failures back off and retry; a refused login
        raises ``MatrixLoginError``."""
        await self.start()
        backoff = 1.0
        while True:
            try:
                resp = await self.client.sync(
                    timeout=SYNC_TIMEOUT_MS,
                    sync_filter=SYNC_FILTER,
                    since=self._state.next_batch,
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                resp = exc
            if not isinstance(resp, nio.SyncResponse):
                self._check_auth(resp)
                log.warning("matrix: sync failed (%s); retrying in %.0f s", resp, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            await self._crypto_upkeep()
            self._learn_rooms(resp)
            await self._handle_invites(resp)
            self._dispatch(resp)
            self._state.next_batch = resp.next_batch
            self._save_state()

    async def close(self) -> None:
        """Let answers in flight finish (briefly), then close the connection."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        self._started = False

    async def __aenter__(self) -> MatrixBot:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _crypto_upkeep(self) -> None:
        """What nio's sync_forever does between syncs for end-to-end encryption."""
        client = self.client
        if client.olm is None:
            return
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    # -- rooms ------------------------------------------------------------------------------
    def _learn_rooms(self, resp: Any) -> None:
        """Remember each room's creator server (room v12 ids carry no server)."""
        for room_id, info in resp.rooms.join.items():
            if room_id in self._room_servers:
                continue
            for event in [*info.state, *info.timeline.events]:
                source = getattr(event, "source", None) or {}
                if source.get("type") == "m.room.create" and source.get("sender"):
                    self._room_servers[room_id] = server_of(source["sender"]) or ""

    def _allowed(self, room_id: str, room_server: str | None = None) -> bool:
        return room_allowed(
            room_id,
            self.settings.allowed,
            self.settings.server_name,
            room_server or self._room_servers.get(room_id),
        )

    async def _handle_invites(self, resp: Any) -> None:
        for room_id, info in resp.rooms.invite.items():
            inviter = creator = None
            for event in info.invite_state:
                source = getattr(event, "source", None) or {}
                if source.get("type") == "m.room.create":
                    creator = source.get("sender")
                elif (
                    source.get("type") == "m.room.member"
                    and source.get("state_key") == self.user_id
                ):
                    inviter = source.get("sender")
            where = server_of(creator or "") or server_of(inviter or "")
            if not self._allowed(room_id, where):
                log.info("matrix: declining the invite to %s from %s", room_id, inviter)
                with contextlib.suppress(MatrixError):
                    await self._request("declining an invite", self._leave(room_id))
                continue
            try:
                await self._request("joining", self._join(room_id))
            except MatrixError as exc:
                log.warning("matrix: could not join %s: %s", room_id, exc)
                continue
            if where:
                self._room_servers.setdefault(room_id, where)
            log.info("matrix: joined %s (invited by %s)", room_id, inviter)

    def _join(self, room_id: str) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            resp = await self.client.join(room_id)
            return resp if isinstance(resp, nio.ErrorResponse) else None

        return call

    def _leave(self, room_id: str) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            resp = await self.client.room_leave(room_id)
            return resp if isinstance(resp, nio.ErrorResponse) else None

        return call

    async def is_admin(self, room_id: str, user_id: str) -> bool:
        """Power level ≥ 50 in the room, read from the server (room v12 creators included)."""

        async def call() -> Any:
            return await self.client.room_get_state(room_id)

        resp = await self._request("reading the room's power levels", call)
        return power_level(resp.events, user_id) >= ADMIN_LEVEL

    # -- commands ---------------------------------------------------------------------------
    def _dispatch(self, resp: Any) -> None:
        for room_id, info in resp.rooms.join.items():
            for event in info.timeline.events:
                self._consider(room_id, event)

    def _consider(self, room_id: str, event: Any) -> None:
        if isinstance(event, nio.MegolmEvent):
            log.warning(
                "matrix: could not decrypt %s in %s (no room key yet)", event.event_id, room_id
            )
            return
        if not isinstance(event, nio.RoomMessageText) or event.sender == self.user_id:
            return
        if event.event_id in self._seen_set:
            return
        content = event.source.get("content") or {}
        relates = content.get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace" or "m.new_content" in content:
            return  # an edit: answering it again would answer twice
        text = strip_reply_fallback(event.body or "").strip()
        if not is_command(text) or not self._allowed(room_id):
            return
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(event.event_id)
        self._seen_set.add(event.event_id)
        relation = reply_relation(event.event_id, content)
        self._spawn(self._answer(room_id, event.sender, text, relation), room_id, relation)

    def _spawn(self, work: Awaitable[None], room_id: str, relation: dict[str, Any] | None) -> None:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:  # the one error handler for answers: log it, tell the user
                log.exception("matrix: answering in %s failed", room_id)
                with contextlib.suppress(Exception):
                    failure = Reply.failure("sorry, that failed — the details are in the bot's log")
                    await self._send_reply(room_id, failure, relation)

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, room_id: str, sender: str, text: str, relation: dict[str, Any]) -> None:
        async def admin() -> bool:
            return await self.is_admin(room_id, sender)

        caller = Caller("matrix", room_id, sender, check_admin=admin, admin_need=ADMIN_NEED)
        reply = await self.commands.answer(parse(text), caller)
        await self._send_reply(room_id, reply, relation)

    # -- sending ----------------------------------------------------------------------------
    async def post(self, room_id: str, reply: Reply, nonce: str | None = None) -> str:
        """Post ``reply`` as a new message (not a reply); returns the first event's id.

        The scheduler's ``Poster``. ``nonce`` (the delivery's ledger nonce) makes the transaction
        ids stable, so a repeat of the same post (after a crash, or a retry by the deliverer) is
        deduplicated by the homeserver. 429s are waited out here (the one retry layer for them:
        past the bound it raises ``GaveUp``, which the deliverer does not retry); a room the bot
        is not in raises ``ChannelGone``; anything else ``MatrixSendError`` (retried there).
        """
        try:
            ids = await self._send_reply(room_id, reply, None, key=nonce)
        except MatrixSendError as exc:
            if exc.errcode in GONE_ERRCODES:
                raise ChannelGone(str(exc)) from exc
            if exc.errcode == "M_LIMIT_EXCEEDED":  # waited out RATE_LIMIT_RETRIES times here
                raise MatrixGaveUp(str(exc), exc.errcode) from exc
            raise
        return ids[0]

    async def _send_reply(
        self,
        room_id: str,
        reply: Reply,
        relation: dict[str, Any] | None,
        *,
        key: str | None = None,
    ) -> list[str]:
        ids: list[str] = []
        for number, (body, html) in enumerate(render_parts(reply)):
            content = message_content(body, html, self.settings.msgtype, relation)
            txn = f"{key}.{number}" if key else None
            ids.append(await self.send_event(room_id, content, txn=txn))
        if reply.picture is not None:
            txn = f"{key}.picture" if key else None
            ids.append(await self._send_picture(room_id, reply.picture, relation, txn))
        return ids

    async def send_event(
        self,
        room_id: str,
        content: dict[str, Any],
        event_type: str = "m.room.message",
        *,
        txn: str | None = None,
    ) -> str:
        """Send one event through the rate-limit-honouring queue; returns its event id."""
        txn_id = txn or uuid.uuid4().hex

        async def call() -> Response:
            return await self.client.room_send(
                room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True
            )

        async with self._send_lock:  # one send at a time: a 429 pauses the whole queue
            resp = await self._request(f"sending to {room_id}", call)
        self.stats.sent += 1
        return str(resp.event_id)

    async def _request(self, what: str, call: Callable[[], Awaitable[Response]]) -> Response:
        """Call until it is not rate limited (at most RATE_LIMIT_RETRIES waits).

        A successful response (or None) is returned; any other error raises ``MatrixSendError``.
        """
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                resp = await call()
            except nio.LocalProtocolError as exc:  # e.g. an encrypted room nio does not know
                self.stats.failed += 1
                raise MatrixSendError(f"{what}: {exc}", "M_NOT_FOUND") from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.stats.failed += 1
                raise MatrixSendError(f"{what}: {type(exc).__name__}: {exc}") from exc
            if not isinstance(resp, nio.ErrorResponse):
                return resp
            if not rate_limited(resp) or attempt == RATE_LIMIT_RETRIES:
                self.stats.failed += 1
                raise MatrixSendError(f"{what}: {resp}", resp.status_code)
            wait = retry_wait(resp)
            self.stats.rate_limited += 1
            self.stats.waited += wait
            log.info("matrix: rate limited %s; retrying in %.2f s", what, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    def _encrypted(self, room_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return bool(self.client.olm is not None and room is not None and room.encrypted)

    async def _send_picture(
        self,
        room_id: str,
        picture: Picture,
        relation: dict[str, Any] | None,
        txn: str | None,
    ) -> str:
        data = await asyncio.to_thread(picture.path.read_bytes)
        encrypt = self._encrypted(room_id)
        keys: dict[str, Any] | None = None

        async def call() -> Response:
            nonlocal keys
            resp, keys = await self.client.upload(
                io.BytesIO(data),
                content_type="image/png",
                filename=picture.path.name,
                encrypt=encrypt,
                filesize=len(data),
            )
            return resp

        upload = await self._request("uploading a picture", call)
        info: dict[str, Any] = {"mimetype": "image/png", "size": len(data)}
        size = png_size(data)
        if size is not None:
            info["w"], info["h"] = size
        content: dict[str, Any] = {"msgtype": "m.image", "body": picture.alt, "info": info}
        if encrypt and keys:
            content["file"] = {"url": upload.content_uri, "mimetype": "image/png", **keys}
        else:
            content["url"] = upload.content_uri
        if relation:
            content["m.relates_to"] = relation
        return await self.send_event(room_id, content, txn=txn)
