"""The Matrix adapter's parts that need no Synapse: settings, allow-list, power levels, command
recognition, and the send path's 429 handling against a tiny scripted homeserver on loopback
(Synapse always sends ``retry_after_ms``; proxies and other servers may send only the header)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.platforms.matrix import bot as matrix_bot
from bot.platforms.matrix.bot import MatrixBot
from bot.platforms.matrix.rooms import (
    is_command,
    power_level,
    reply_relation,
    retry_after_header,
    room_allowed,
    strip_reply_fallback,
)
from bot.platforms.matrix.settings import MatrixConfigError, MatrixSendError, MatrixSettings
from bot.reply import Reply
from bot.schedules.delivery import ChannelGone

ENV = {
    "MATRIX_HOMESERVER": "https://matrix.example.org/",
    "MATRIX_USER_ID": "@digest:example.org",
    "MATRIX_ACCESS_TOKEN": "syt_secret",
}


def test_settings_from_env(tmp_path: Path) -> None:
    assert MatrixSettings.from_env({}, tmp_path) is None
    settings = MatrixSettings.from_env(ENV, tmp_path, allowed=[":example.org"])
    assert settings is not None
    assert settings.homeserver == "https://matrix.example.org"
    assert settings.server_name == "example.org"
    assert settings.allowed == (":example.org",)
    assert settings.msgtype == "m.notice"
    assert settings.encryption is False
    assert "syt_secret" not in repr(settings)
    assert "access_token=set" in repr(settings)
    with_password = {**ENV, "MATRIX_ACCESS_TOKEN": "", "MATRIX_PASSWORD": "pw"}
    settings = MatrixSettings.from_env(with_password, tmp_path)
    assert settings is not None
    assert settings.password == "pw"
    assert settings.access_token is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MATRIX_ACCESS_TOKEN": "x"}, "set MATRIX_HOMESERVER, MATRIX_USER_ID"),
        ({**ENV, "MATRIX_ACCESS_TOKEN": ""}, "MATRIX_ACCESS_TOKEN (or MATRIX_PASSWORD)"),
        ({**ENV, "MATRIX_USER_ID": "digest"}, "must look like @bot:example.org"),
        ({**ENV, "MATRIX_HOMESERVER": "matrix.org"}, "must be an http(s) URL"),
    ],
)
def test_half_configured_matrix_is_an_error(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(MatrixConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MatrixSettings.from_env(env, tmp_path)


def test_allowed_entries_are_checked(tmp_path: Path) -> None:
    with pytest.raises(MatrixConfigError, match="neither a room id"):
        MatrixSettings.from_env(ENV, tmp_path, allowed=["example.org"])


def test_room_allow_list() -> None:
    own = "example.org"
    assert room_allowed("!a:example.org", (), own)
    assert not room_allowed("!a:evil.org", (), own)
    assert not room_allowed("!v12roomid", (), own)  # no server known: refused
    assert room_allowed("!v12roomid", (), own, room_server="example.org")
    assert not room_allowed("!v12roomid", (), own, room_server="evil.org")
    assert room_allowed("!a:evil.org", ("!a:evil.org",), own)
    assert room_allowed("!b:friend.org", (":friend.org",), own)
    assert not room_allowed("!c:example.org", (":friend.org",), own)  # a list replaces the default


def state(version: str, creator: str, users: dict[str, int] | None, **extra: Any) -> list[Any]:
    create: dict[str, Any] = {"room_version": version, **extra}
    if version in ("1", "10"):
        create["creator"] = creator
    events: list[dict[str, Any]] = [
        {"type": "m.room.create", "state_key": "", "sender": creator, "content": create},
        {"type": "m.room.member", "state_key": creator, "sender": creator, "content": {}},
    ]
    if users is not None:
        events.append(
            {
                "type": "m.room.power_levels",
                "state_key": "",
                "sender": creator,
                "content": {"users": users, "users_default": 0},
            }
        )
    return events


def test_power_levels_follow_the_room_version() -> None:
    v10 = state("10", "@creator:x", {"@creator:x": 100, "@mod:x": 50})
    assert power_level(v10, "@creator:x") == 100
    assert power_level(v10, "@mod:x") == 50
    assert power_level(v10, "@someone:x") == 0
    v12 = state("12", "@creator:x", {"@mod:x": 50}, additional_creators=["@co:x"])
    assert power_level(v12, "@creator:x") >= 2**53  # creators are not in the users map in v12
    assert power_level(v12, "@co:x") >= 2**53
    assert power_level(v12, "@mod:x") == 50
    assert power_level(v12, "@someone:x") == 0
    no_levels = state("10", "@creator:x", None)
    assert power_level(no_levels, "@creator:x") == 100
    assert power_level(no_levels, "@someone:x") == 0
    defaults = state("10", "@c:x", {})
    defaults[-1]["content"]["users_default"] = 60
    assert power_level(defaults, "@anyone:x") == 60


def test_commands_are_recognised() -> None:
    assert is_command("!summary 5")
    assert is_command("!WHERE Korenevo")
    assert is_command("!schedule list")
    assert is_command("!sumary")  # a typo close to a command gets the "did you mean" answer
    assert not is_command("!ban @spammer")  # another bot's command: none of our business
    assert not is_command("summary")
    assert not is_command("! summary")
    assert not is_command("/summary")  # Element eats slash commands; we answer '!' only
    fallback = "> <@alice:x> what happened?\n> more\n\n!figures"
    assert strip_reply_fallback(fallback) == "!figures"
    assert strip_reply_fallback("!help") == "!help"


def test_reply_relation_stays_in_the_thread() -> None:
    assert reply_relation("$cmd", {}) == {"m.in_reply_to": {"event_id": "$cmd"}}
    threaded = {"m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}
    assert reply_relation("$cmd", threaded) == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$cmd"},
    }


def test_retry_after_header() -> None:
    assert retry_after_header("3") == 3000
    assert retry_after_header(None) is None
    assert retry_after_header("soon") is None
    assert retry_after_header("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0) == 5000


# -- the send path against a scripted homeserver --------------------------------------------


@dataclass
class Scripted:
    """Answers /send with the next scripted (status, body, headers); 200 when the script ends."""

    script: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    sends: list[tuple[str, str, float]] = field(default_factory=list)
    """(room, txn id, monotonic time) of every send request."""
    url: str = ""


@pytest.fixture
async def homeserver() -> AsyncIterator[Scripted]:
    fake = Scripted()

    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"user_id": "@bot:localhost", "device_id": "DEV"})

    async def sync(request: web.Request) -> web.Response:
        return web.json_response({"next_batch": "s1", "rooms": {}})

    async def send(request: web.Request) -> web.Response:
        room, txn = request.match_info["room"], request.match_info["txn"]
        fake.sends.append((room, txn, time.monotonic()))
        if fake.script:
            status, body, headers = fake.script.pop(0)
            if isinstance(body, str):
                return web.Response(status=status, text=body, headers=headers)
            return web.json_response(body, status=status, headers=headers)
        return web.json_response({"event_id": f"$ev{len(fake.sends)}"})

    app = web.Application()
    app.router.add_get("/_matrix/client/v3/account/whoami", whoami)
    app.router.add_get("/_matrix/client/v3/sync", sync)
    app.router.add_put("/_matrix/client/v3/rooms/{room}/send/{type}/{txn}", send)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


@pytest.fixture
async def started(homeserver: Scripted, tmp_path: Path) -> AsyncIterator[MatrixBot]:
    settings = MatrixSettings(
        homeserver=homeserver.url,
        user_id="@bot:localhost",
        access_token="token",
        password=None,
        store_dir=tmp_path / "store",
    )
    bot = MatrixBot(Commands(Library(tmp_path)), settings)
    await bot.start()
    yield bot
    await bot.close()


LIMITED = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests"}
REPLY = Reply("Title", note="a post")


async def test_retry_after_header_is_honoured_with_the_same_transaction(
    homeserver: Scripted, started: MatrixBot
) -> None:
    homeserver.script = [(429, LIMITED, {"Retry-After": "1"})]
    event_id = await started.post("!room:localhost", REPLY)
    assert event_id == "$ev2"
    (_, first, t0), (_, second, t1) = homeserver.sends
    assert first == second  # a retry reuses the txn id: the server can never post it twice
    assert t1 - t0 >= 0.95
    assert started.stats.rate_limited == 1
    assert started.stats.sent == 1


async def test_retry_after_ms_in_the_body_wins_and_a_bare_429_is_retried(
    homeserver: Scripted, started: MatrixBot
) -> None:
    homeserver.script = [
        (429, {**LIMITED, "retry_after_ms": 150}, {"Retry-After": "30"}),
        (429, "slow down", {"Retry-After": "0"}),  # not JSON at all (a proxy)
    ]
    start = time.monotonic()
    await started.post("!room:localhost", REPLY)
    assert 0.15 <= time.monotonic() - start < 5
    assert len(homeserver.sends) == 3
    assert len({txn for _, txn, _ in homeserver.sends}) == 1


async def test_retries_are_bounded_and_end_in_an_error_not_a_silent_drop(
    homeserver: Scripted, started: MatrixBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matrix_bot, "RATE_LIMIT_RETRIES", 3)
    homeserver.script = [(429, {**LIMITED, "retry_after_ms": 10}, {})] * 10
    with pytest.raises(MatrixSendError, match="M_LIMIT_EXCEEDED"):
        await started.post("!room:localhost", REPLY)
    assert len(homeserver.sends) == 4
    assert started.stats.failed == 1
    assert started.stats.sent == 0


async def test_a_room_the_bot_is_not_in_is_gone_for_the_scheduler(
    homeserver: Scripted, started: MatrixBot
) -> None:
    homeserver.script = [(403, {"errcode": "M_FORBIDDEN", "error": "not in room"}, {})]
    with pytest.raises(ChannelGone, match="M_FORBIDDEN"):
        await started.post("!room:localhost", REPLY)
    assert len(homeserver.sends) == 1


async def test_a_nonce_gives_stable_transaction_ids(
    homeserver: Scripted, started: MatrixBot
) -> None:
    await started.post("!room:localhost", REPLY, "delivery-7")
    await started.post("!room:localhost", REPLY, "delivery-7")
    assert [txn for _, txn, _ in homeserver.sends] == ["delivery-7.0", "delivery-7.0"]


async def test_concurrent_sends_queue_behind_a_rate_limit(
    homeserver: Scripted, started: MatrixBot
) -> None:
    homeserver.script = [(429, {**LIMITED, "retry_after_ms": 300}, {})]
    start = time.monotonic()
    await asyncio.gather(*(started.post(f"!r{i}:localhost", REPLY) for i in range(5)))
    # The first send's 429 held the whole queue: no other send hit the server in the meantime.
    assert len(homeserver.sends) == 6
    assert all(sent - start >= 0.29 for _, _, sent in homeserver.sends[1:])
