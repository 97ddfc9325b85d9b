"""The Matrix adapter end to end: the real matrix-nio client against a real Synapse on loopback.

Synapse runs once per session (tests/synapse); each test registers its own bot and people, so
tests share nothing but the server. What arrives is read back from the server, as a person's
client would see it.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from bot.app import App
from bot.commands.base import parse
from bot.commands.registry import Commands
from bot.commands.schedule import SCHEDULES_UNAVAILABLE as SCHEDULE_UNAVAILABLE
from bot.digest.library import Library
from bot.digest.model import Digest, Place
from bot.platforms.matrix.bot import MatrixBot
from bot.platforms.matrix.pages import NEXT, PREVIOUS, page_label
from bot.platforms.matrix.render import render_parts
from bot.platforms.matrix.settings import MatrixSettings
from bot.reply import Attribution, Line, Reply, Section
from bot.schedules.options import Placement, PostOptions
from tests.helpers import (
    ARTICLE,
    KURSK,
    answer,
    base_digest,
    config_for,
    dump,
    throwaway_command,
)
from tests.synapse.harness import Account, MatrixUser, Synapse
from tests.synapse.plugin import in_ci

TRAP_ID = "storm-2024-01-08"
TRAP_TEXT = 'Harbour <script>alert("x")</script> closed; @room see <b>this</b>.'


def make_library(folder: Path) -> Library:
    """The Kursk digest plus a small one whose summary tries to inject HTML and ping @room."""
    (folder / "articles").mkdir(parents=True)
    shutil.copy(KURSK, folder / KURSK.name)
    for article in (KURSK.parent / "articles").glob("*.txt"):
        shutil.copy(article, folder / "articles" / article.name)
    (folder / "articles" / "storm.txt").write_text(ARTICLE, "utf-8")
    trap = base_digest()
    trap["summary"][0]["text"] = TRAP_TEXT
    (folder / "storm.yaml").write_text(dump(trap), "utf-8")
    library = Library(folder)
    changes = library.refresh()
    assert not changes.problems, changes.problems
    return library


class PngMaps:
    """A MapSource that draws a small PNG (the real maps are tested elsewhere)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def picture(self, digest: Digest, focus: Place | None = None) -> Path:
        path = self.folder / f"{digest.id}-{focus.name if focus else 'all'}.png"
        Image.new("RGB", (64, 48), (200, 30, 30)).save(path)
        return path

    def describe(self, digest: Digest, focus: Place | None = None) -> str:
        return f"Map: {focus.name if focus else 'all places'}"


@dataclass
class Matrix:
    server: Synapse
    library: Library
    tmp: Path
    alice: MatrixUser
    bot_account: Account
    running: list[tuple[MatrixBot, asyncio.Task[None]]] = field(default_factory=list)

    def settings(self, account: Account | None = None, **options: Any) -> MatrixSettings:
        account = account or self.bot_account
        values: dict[str, Any] = {
            "homeserver": self.server.base_url,
            "user_id": account.user_id,
            "access_token": account.access_token,
            "password": None,
            "store_dir": self.tmp / "store",
        }
        values.update(options)
        return MatrixSettings(**values)

    async def start_bot(self, **options: Any) -> MatrixBot:
        maps = options.pop("maps", None)
        bot = MatrixBot(Commands(self.library, maps), self.settings(**options))
        await bot.start()
        task = asyncio.create_task(bot.serve())
        self.running.append((bot, task))
        return bot

    async def stop_bot(self, bot: MatrixBot) -> None:
        for entry in list(self.running):
            if entry[0] is bot:
                self.running.remove(entry)
                entry[1].cancel()
                await asyncio.gather(entry[1], return_exceptions=True)
                await bot.close()

    def person(self) -> MatrixUser:
        return MatrixUser(self.server, self.server.register())

    async def room_with_bot(self, bot: MatrixBot, **options: Any) -> str:
        room = await self.alice.create_room(invite=[bot.user_id], **options)
        await self.alice.wait_joined(room, bot.user_id)
        for _ in range(200):  # and the bot's own sync has the room (the server knew first)
            if room in bot.client.rooms:
                break
            await asyncio.sleep(0.05)
        return room


@pytest.fixture
async def matrix(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Matrix]:
    alice = MatrixUser(synapse, synapse.register())
    harness = Matrix(
        synapse, make_library(tmp_path / "digests"), tmp_path, alice, synapse.register()
    )
    yield harness
    for bot, _ in list(harness.running):
        await harness.stop_bot(bot)
    await alice.close()


def in_reply_to(event: dict[str, Any]) -> str | None:
    relates = event["content"].get("m.relates_to") or {}
    target = relates.get("m.in_reply_to") or {}
    return target.get("event_id")


async def answers(
    user: MatrixUser, room: str, bot: MatrixBot, commands: dict[str, str], parts: int
) -> dict[str, list[dict[str, Any]]]:
    """The bot's messages in ``room``, grouped by the command event they reply to."""
    events = await user.wait_replies(room, bot.user_id, parts)
    grouped: dict[str, list[dict[str, Any]]] = {event_id: [] for event_id in commands}
    for event in events:
        target = in_reply_to(event)
        assert target in grouped, f"a message that answers no command: {event['content']}"
        grouped[target].append(event)
    return grouped


async def quiet(check: Callable[[], Awaitable[int]], expected: int, seconds: float = 1.5) -> None:
    """Nothing more arrives for a while (the bot had every chance to answer again)."""
    await asyncio.sleep(seconds)
    assert await check() == expected


async def test_every_command_is_answered_with_each_item_and_its_source(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    room = await matrix.room_with_bot(bot)
    lines = [
        "!summary",
        "!summary 2 quotes:yes",
        "!figures",
        "!figures soldiers",
        "!where",
        "!where Korenevo quotes:yes",
        "!sources",
        "!sources quotes:yes",
        "!digests",
        "!help",
        "!help where",
        "!where Atlantis",
        "!sumary",
        "!schedule list",
    ]
    expected = {}
    paged: dict[str, bool] = {}
    commands = {}
    for line in lines:
        commands[await matrix.alice.say(room, line)] = line
        if line.startswith("!schedule"):
            expected[line] = [(f"error: {SCHEDULE_UNAVAILABLE}", "")]
        else:
            parts = render_parts(answer(matrix.library, parse(line)))
            # a long answer comes as its first page, to be turned with ◀ ▶
            expected[line] = [page_label(*parts[0], 1, len(parts))] if len(parts) > 1 else parts
            paged[line] = len(parts) > 1
    total = sum(len(parts) for parts in expected.values())
    grouped = await answers(matrix.alice, room, bot, commands, total)
    for event_id, line in commands.items():
        got = grouped[event_id]
        assert [e["content"]["body"] for e in got] == [b for b, _ in expected[line]], line
        for event in got:
            content = event["content"]
            assert content["msgtype"] == "m.notice"
            assert content["format"] == "org.matrix.custom.html"
            assert content["m.mentions"] == {}
            assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": event_id}}
        if not line.startswith("!schedule"):
            formatted = [e["content"]["formatted_body"] for e in got]
            assert formatted == [h for _, h in expected[line]], line
        reply = answer(matrix.library, parse(line))
        body = "\n".join(e["content"]["body"] for e in got)
        if paged.get(line):
            continue  # its other pages: test_a_long_answer_pages_for_its_asker
        for item in reply.lines:
            if item.source is not None:
                assert f"{item.text} \u2014 {item.source}" in body
    assert paged["!sources quotes:yes"]  # long enough to be paged


async def test_a_command_in_a_thread_is_answered_in_the_thread(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    room = await matrix.room_with_bot(bot)
    root = await matrix.alice.say(room, "What do we know about Kursk?")
    thread = {"m.relates_to": {"rel_type": "m.thread", "event_id": root}}
    command = await matrix.alice.say(room, "!figures soldiers", **thread)
    (event,) = await matrix.alice.wait_replies(room, bot.user_id)
    assert event["content"]["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": command},
    }
    assert event["content"]["body"].startswith("Ukraine's Kursk incursion")


async def test_digest_html_and_room_pings_arrive_inert(matrix: Matrix) -> None:
    bot = await matrix.start_bot(msgtype="m.text")  # m.notice would never notify anyway
    room = await matrix.room_with_bot(bot)
    await matrix.alice.set_power(room, bot.user_id, 50)  # enough to notify @room, if it tried
    await matrix.alice.say(room, f"!summary {TRAP_ID}")
    (event,) = await matrix.alice.wait_replies(room, bot.user_id)
    content = event["content"]
    assert content["msgtype"] == "m.text"
    assert TRAP_TEXT in content["body"]
    formatted = content["formatted_body"]
    assert "<script" not in formatted
    assert "<b>" not in formatted
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in formatted
    assert content["m.mentions"] == {}
    # The control: the same words without m.mentions do ping @room — so the check can fail.
    control = await bot.send_event(room, {"msgtype": "m.text", "body": "@room control"})

    async def highlights() -> list[str]:
        data = await matrix.alice.call("GET", "/notifications", params={"only": "highlight"})
        return [n["event"]["event_id"] for n in data["notifications"]]

    pinged = await matrix.alice.wait_for(highlights, what="the control to notify @room")
    assert control in pinged
    assert event["event_id"] not in pinged


async def test_ignores_its_own_messages_notices_and_what_came_before_it(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    room = await matrix.room_with_bot(bot)
    await matrix.stop_bot(bot)
    await matrix.alice.say(room, "!help")  # while the bot is away: from before it started
    bot = await matrix.start_bot()
    await matrix.alice.send(room, {"msgtype": "m.notice", "body": "!figures"})
    await bot.send_event(room, {"msgtype": "m.text", "body": "!digests"})
    await matrix.alice.send(room, {"msgtype": "m.emote", "body": "!where"})
    sentinel = await matrix.alice.say(room, "!sources")
    replies = await matrix.alice.wait_replies(room, bot.user_id, 2)  # its own !digests + answer
    assert [in_reply_to(e) for e in replies] == [None, sentinel]

    async def count() -> int:
        return len(await matrix.alice.from_user(room, bot.user_id))

    await quiet(count, 2)


async def test_a_restart_replays_nothing_and_keeps_its_device(matrix: Matrix) -> None:
    options = {"access_token": None, "password": matrix.bot_account.password}
    bot = await matrix.start_bot(**options)
    device = bot.client.device_id
    room = await matrix.room_with_bot(bot)
    first = await matrix.alice.say(room, "!help")
    await matrix.alice.wait_replies(room, bot.user_id, 1)
    await matrix.stop_bot(bot)
    assert (matrix.tmp / "store" / "state.json").stat().st_mode & 0o077 == 0  # holds a token

    bot = await matrix.start_bot(**options)
    assert bot.client.device_id == device  # no new device (and no new login) per restart
    second = await matrix.alice.say(room, "!digests")
    replies = await matrix.alice.wait_replies(room, bot.user_id, 2)
    assert [in_reply_to(e) for e in replies] == [first, second]

    async def count() -> int:
        return len(await matrix.alice.from_user(room, bot.user_id))

    await quiet(count, 2)
    async with MatrixUser(matrix.server, matrix.bot_account) as account:
        devices = await account.call("GET", "/devices")
    assert len(devices["devices"]) == 2  # the registration's and the bot's one login


async def test_a_command_added_in_bot_commands_appears_on_matrix(matrix: Matrix) -> None:
    with throwaway_command():
        bot = await matrix.start_bot()
        room = await matrix.room_with_bot(bot)
        asked = await matrix.alice.say(room, "!echo hello")
        (event,) = await matrix.alice.wait_replies(room, bot.user_id, 1)
    assert in_reply_to(event) == asked
    assert event["content"]["body"].startswith("echo: hello")
    assert "asked on matrix" in event["content"]["body"]


async def test_schedule_needs_power_level_50(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    room = await matrix.room_with_bot(bot)
    bob = matrix.person()
    await matrix.alice.invite(room, bob.user_id)
    await bob.join(room)
    refused = await bob.say(room, '!schedule add cron:"0 8 * * mon-fri"')
    (event,) = await matrix.alice.wait_replies(room, bot.user_id, 1)
    assert in_reply_to(event) == refused
    assert event["content"]["body"].startswith("error: !schedule needs power level 50")
    allowed = await matrix.alice.say(room, "!schedule list")  # alice created the room
    events = await matrix.alice.wait_replies(room, bot.user_id, 2)
    assert in_reply_to(events[1]) == allowed
    assert events[1]["content"]["body"] == f"error: {SCHEDULE_UNAVAILABLE}"
    await bob.close()


async def test_is_admin_reads_power_levels_from_the_server(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    bob = matrix.person()
    for version in ("12", "10"):
        room = await matrix.room_with_bot(bot, room_version=version)
        await matrix.alice.invite(room, bob.user_id)
        await bob.join(room)
        assert await bot.is_admin(room, matrix.alice.user_id), version  # the creator
        assert not await bot.is_admin(room, bob.user_id), version
        assert not await bot.is_admin(room, bot.user_id), version
        await matrix.alice.set_power(room, bob.user_id, 50)
        assert await bot.is_admin(room, bob.user_id), version
    await bob.close()


async def test_post_sends_a_notice_to_each_room(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    rooms = [await matrix.room_with_bot(bot) for _ in range(2)]
    reply = answer(matrix.library, parse("!summary"))
    ids = [(await bot.post(room, reply)).message_id for room in rooms]
    ((body, formatted),) = render_parts(reply)
    for room, event_id in zip(rooms, ids, strict=True):
        (event,) = await matrix.alice.wait_replies(room, bot.user_id, 1)
        assert event["event_id"] == event_id
        content = event["content"]
        assert content["msgtype"] == "m.notice"
        assert "m.relates_to" not in content  # a post, not a reply
        assert (content["body"], content["formatted_body"]) == (body, formatted)


async def test_a_post_too_big_for_one_event_arrives_whole_in_parts(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    room = await matrix.room_with_bot(bot)
    source = Attribution("The coastguard", "The Portwell Post", date(2024, 1, 8))
    items = tuple(Line(f"Item {i:03d}: " + "w\u00f6rd " * 60, source) for i in range(400))
    reply = Reply("A very long digest", (Section(None, items),))
    parts = render_parts(reply)
    assert len(parts) >= 3
    await bot.post(room, reply)
    events = await matrix.alice.wait_replies(room, bot.user_id, len(parts))
    assert [e["content"]["body"] for e in events] == [b for b, _ in parts]


async def test_a_map_is_uploaded_and_sent_as_an_image_after_the_text(matrix: Matrix) -> None:
    bot = await matrix.start_bot(maps=PngMaps(matrix.tmp / "maps"))
    room = await matrix.room_with_bot(bot)
    command = await matrix.alice.say(room, "!where Korenevo")
    text, image = await matrix.alice.wait_replies(room, bot.user_id, 2)
    assert text["content"]["msgtype"] == "m.notice"
    content = image["content"]
    assert content["msgtype"] == "m.image"
    assert content["body"] == "Map: Korenevo"
    assert content["info"] == {
        "mimetype": "image/png",
        "size": content["info"]["size"],
        "w": 64,
        "h": 48,
    }
    assert in_reply_to(image) == command
    server, media = content["url"].removeprefix("mxc://").split("/")
    data = await download(matrix, server, media)
    assert data == (matrix.tmp / "maps" / "kursk-incursion-2024-08-09-Korenevo.png").read_bytes()


async def download(matrix: Matrix, server: str, media: str) -> bytes:
    url = f"{matrix.server.base_url}/_matrix/client/v1/media/download/{server}/{media}"
    headers = {"Authorization": f"Bearer {matrix.alice.account.access_token}"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        assert response.status == 200
        return await response.read()


async def test_invites_outside_the_allow_list_are_declined(matrix: Matrix) -> None:
    bot = await matrix.start_bot(allowed=("!somewhere-else:localhost",))
    room = await matrix.alice.create_room(invite=[bot.user_id])

    async def declined() -> bool:
        return (await matrix.alice.members(room)).get(bot.user_id) == "leave"

    await matrix.alice.wait_for(declined, what="the bot to decline the invite")
    await matrix.stop_bot(bot)
    listed = await matrix.start_bot(allowed=(":localhost",))
    await matrix.room_with_bot(listed)  # a listed server: joins


async def test_nothing_is_lost_under_the_default_rc_message(
    synapse_limited: Synapse,
    tmp_path: Path,
) -> None:
    """Synapse's default rc_message (0.2/s, burst 10): 12 posts at once, all arrive, once."""
    server = synapse_limited
    account = server.register()
    admin = MatrixUser(server, server.admin)  # exempt from rate limits; sets up the rooms
    rooms = [await admin.create_room() for _ in range(12)]
    for room in rooms:
        server.force_join(room, account.user_id)  # costs the bot no rate budget
    settings = MatrixSettings(
        homeserver=server.base_url,
        user_id=account.user_id,
        access_token=account.access_token,
        password=None,
        store_dir=tmp_path / "store",
    )
    library = make_library(tmp_path / "digests")
    bot = MatrixBot(Commands(library), settings)
    await bot.start()
    try:
        reply = answer(library, parse("!figures"))
        loop = asyncio.get_running_loop()
        start = loop.time()
        ids = await asyncio.gather(*(bot.post(room, reply) for room in rooms))
        elapsed = loop.time() - start
    finally:
        await bot.close()
    assert bot.stats.rate_limited >= 1  # Synapse did refuse some: the limit was really in force
    assert elapsed >= 5 * (12 - 10) - 1.5
    for room, posted in zip(rooms, ids, strict=True):
        events = await admin.from_user(room, account.user_id)
        assert [e["event_id"] for e in events] == [
            posted.message_id
        ]  # exactly once: none lost, none twice
    await admin.close()


async def decrypted_answer(nio: Any, alice: Any, room: str, bot: str, command: str) -> Any:
    """Sync alice's E2EE client until the bot's answer to ``command`` arrives decrypted."""
    for _ in range(100):
        response = await alice.sync(timeout=300)
        await alice.send_to_device_messages()
        if alice.should_query_keys:
            await alice.keys_query()
        joined = response.rooms.join.get(room)
        for event in joined.timeline.events if joined else ():
            if isinstance(event, nio.MegolmEvent) and event.sender == bot:
                raise AssertionError(f"alice could not decrypt the bot's {event.event_id}")
            if (
                isinstance(event, nio.RoomMessageNotice)
                and event.sender == bot
                and event.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == command
            ):
                return event
    raise AssertionError("no answer from the bot")


async def test_an_encrypted_room(matrix: Matrix) -> None:
    """E2EE on (matrix-nio[e2e], vodozemac): alice's own nio client encrypts the commands and
    decrypts the answers; the server only ever sees m.room.encrypted; the bot's keys survive a
    restart (same device, persistent store)."""
    nio = pytest.importorskip("nio")
    if not nio.crypto.ENCRYPTION_ENABLED:
        unavailable_e2ee = "matrix-nio[e2e] is not installed (pip install 'matrix-nio[e2e]')"
        if in_ci():
            pytest.fail(unavailable_e2ee)
        pytest.skip(unavailable_e2ee)
    bot = await matrix.start_bot(encryption=True)
    assert list((matrix.tmp / "store").glob("*.db")), "no persistent key store"
    account = matrix.alice.account
    config = nio.AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
    alice = nio.AsyncClient(
        matrix.server.base_url, account.user_id, store_path=str(matrix.tmp), config=config
    )
    alice.restore_login(account.user_id, account.device_id, account.access_token)
    try:
        await alice.keys_upload()
        room = await matrix.room_with_bot(bot, encrypted=True)
        await alice.sync(timeout=0, full_state=True)
        for restart, line in enumerate(["!figures soldiers", "!digests"]):
            if restart:
                device = bot.client.device_id
                await matrix.stop_bot(bot)
                bot = await matrix.start_bot(encryption=True)
                assert bot.client.device_id == device
            content = {"msgtype": "m.text", "body": line}
            command = await alice.room_send(
                room, "m.room.message", content, ignore_unverified_devices=True
            )
            assert isinstance(command, nio.RoomSendResponse), command
            event = await decrypted_answer(nio, alice, room, bot.user_id, command.event_id)
            ((body, formatted),) = render_parts(answer(matrix.library, parse(line)))
            assert (event.body, event.formatted_body) == (body, formatted)
        raw = await matrix.alice.from_user(room, bot.user_id, kind="m.room.encrypted")
        assert len(raw) == 2
        assert await matrix.alice.from_user(room, bot.user_id) == []  # nothing in the clear
    finally:
        await alice.close()


async def test_a_scheduled_post_reaches_two_rooms_once(matrix: Matrix, tmp_path: Path) -> None:
    """The scheduler's slot, the ledger and the Matrix sender together, on a real Synapse."""
    from datetime import UTC, datetime, timedelta

    from bot.schedules.spec import ScheduleSpec

    slot = datetime(2024, 8, 9, 5, 0, tzinfo=UTC)  # Friday 08:00 in Kyiv
    now = [slot - timedelta(minutes=1)]
    config = config_for(matrix.library.folder, tmp_path)
    app = App(
        config,
        matrix.library,
        matrix=matrix.settings(),
        use_maps=False,
        run_jobs=False,
        clock=lambda: now[0],
    )
    await app.start()
    serving = asyncio.create_task(app.serve())
    bot = app.adapter("matrix")
    assert isinstance(bot, MatrixBot)
    scheduler, store = app.scheduler, app.store
    rooms = [await matrix.room_with_bot(bot) for _ in range(2)]
    specs = [ScheduleSpec("matrix", room, "0 8 * * mon-fri", "Europe/Kyiv") for room in rooms]
    for spec in specs:  # added before the slot, as a chat /schedule add would
        await scheduler.add(spec)
    now[0] = slot + timedelta(seconds=3)
    for spec in specs:
        await scheduler.tick(spec.id)
        await scheduler.tick(spec.id)  # a second wake-up in the same slot posts nothing
    await scheduler.deliverers["matrix"].join()
    for room in rooms:
        (event,) = await matrix.alice.wait_replies(room, bot.user_id, 1)
        content = event["content"]
        assert content["msgtype"] == "m.notice"
        assert "m.relates_to" not in content
        items = [line for line in content["body"].splitlines() if line.startswith("\u2022 ")]
        assert items
        assert all(" \u2014 " in line for line in items)
    listed = await matrix.alice.say(rooms[0], "!schedule list")
    events = await matrix.alice.wait_replies(rooms[0], bot.user_id, 2)
    assert in_reply_to(events[1]) == listed
    assert "last: posted" in events[1]["content"]["body"]
    assert [r.state for r in store.all_deliveries()] == ["sent", "sent"]
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    await app.stop()


async def test_a_long_answer_pages_for_its_asker(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    room = await matrix.room_with_bot(bot)
    bob = matrix.person()
    await matrix.alice.invite(room, bob.user_id)
    await bob.join(room)
    parts = render_parts(answer(matrix.library, parse("!sources quotes:yes")))
    assert len(parts) > 1
    await matrix.alice.say(room, "!sources quotes:yes")
    (first,) = await matrix.alice.wait_replies(room, bot.user_id, 1)
    assert first["content"]["body"] == page_label(*parts[0], 1, len(parts))[0]

    async def reactions() -> list[dict[str, Any]] | None:
        found = await matrix.alice.from_user(room, bot.user_id, "m.reaction")
        return found if len(found) == 2 else None

    keys = [e["content"]["m.relates_to"]["key"] for e in await matrix.alice.wait_for(reactions)]
    assert sorted(keys) == sorted([PREVIOUS, NEXT])

    def react(key: str) -> dict[str, Any]:
        return {
            "m.relates_to": {"rel_type": "m.annotation", "event_id": first["event_id"], "key": key}
        }

    await bob.send(room, react(NEXT), "m.reaction")  # not the asker: nothing turns
    sentinel = await matrix.alice.say(room, "!digests")
    await matrix.alice.wait_replies(room, bot.user_id, 2)
    await matrix.alice.send(room, react(NEXT), "m.reaction")

    async def edits() -> list[dict[str, Any]] | None:
        found = [
            e
            for e in await matrix.alice.from_user(room, bot.user_id)
            if (e["content"].get("m.relates_to") or {}).get("rel_type") == "m.replace"
        ]
        return found or None

    (edit,) = await matrix.alice.wait_for(edits)
    assert edit["content"]["m.relates_to"]["event_id"] == first["event_id"]
    assert edit["content"]["m.new_content"]["body"] == page_label(*parts[1], 2, len(parts))[0]
    assert sentinel
    await bob.close()


async def test_later_posts_of_a_digest_go_into_the_thread_of_its_first(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    room = await matrix.room_with_bot(bot)
    reply = answer(matrix.library, parse("!summary"))
    threaded = PostOptions(thread=True)
    first = await bot.post(room, reply, "t1", Placement(threaded, "Kursk"))
    assert first.thread == first.message_id
    later = await bot.post(room, reply, "t2", Placement(threaded, "Kursk", thread=first.thread))
    assert later.thread == first.message_id
    events = await matrix.alice.wait_replies(room, bot.user_id, 2)
    relation = events[1]["content"]["m.relates_to"]
    assert (relation["rel_type"], relation["event_id"]) == ("m.thread", first.message_id)
    assert "m.relates_to" not in events[0]["content"]


async def test_a_room_ping_needs_the_power_level_for_it(matrix: Matrix) -> None:
    bot = await matrix.start_bot()
    room = await matrix.room_with_bot(bot)
    ping = PostOptions(mention="room")
    facts = await bot.inspect(room, ping)
    assert facts is not None
    assert not facts.may_ping_room  # the bot has power level 0; @room needs 50
    await matrix.alice.set_power(room, bot.user_id, 50)
    facts = await bot.inspect(room, ping)
    assert facts is not None
    assert facts.may_ping_room
    await bot.post(room, answer(matrix.library, parse("!summary")), "p1", Placement(ping, "K"))
    (event,) = await matrix.alice.wait_replies(room, bot.user_id, 1)
    assert event["content"]["m.mentions"] == {"room": True}
    assert event["content"]["body"].startswith("@room ")
    assert await bot.inspect("!nowhere:localhost", ping) is None


async def test_a_correction_replaces_the_posted_events_in_three_rooms(
    matrix: Matrix, tmp_path: Path
) -> None:
    """A digest posted by a schedule to three rooms is corrected in its file: each posted event
    gets an ``m.replace`` with the corrected content and the correction line, once."""
    from datetime import UTC, datetime, timedelta

    from bot.digest.load import load_digest
    from bot.schedules.spec import ScheduleSpec

    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    config = config_for(matrix.library.folder, tmp_path)
    app = App(
        config,
        matrix.library,
        matrix=matrix.settings(),
        use_maps=False,
        run_jobs=False,
        clock=lambda: slot + timedelta(seconds=3),
    )
    await app.start()
    serving = asyncio.create_task(app.serve())
    bot = app.adapter("matrix")
    assert isinstance(bot, MatrixBot)
    scheduler, store = app.scheduler, app.store
    rooms = [await matrix.room_with_bot(bot) for _ in range(3)]
    specs = [ScheduleSpec("matrix", room, "* * * * *", post="new") for room in rooms]
    await scheduler.load(specs)
    for spec in specs:
        store.set_last_slot(spec.id, (slot - timedelta(seconds=30)).isoformat())
        await scheduler.tick(spec.id)
    await scheduler.deliverers["matrix"].join()
    posted = {room: await matrix.alice.wait_replies(room, bot.user_id, 2) for room in rooms}
    storm = [e for events in posted.values() for e in events if "Portwell" in e["content"]["body"]]
    assert len(storm) == 3
    await app.corrector.check()  # the watcher's tick (every 5 s): it knows these versions now
    # The editor corrects the storm digest's boats figure (14 → 15) in article and file.
    folder = matrix.library.folder
    article = folder / "articles" / "storm.txt"
    article.write_text(article.read_text().replace("14 boats", "15 boats"), "utf-8")
    path = folder / "storm.yaml"
    path.write_text(
        path.read_text()
        .replace("value: 14", "value: 15")
        .replace("damaged 14 boats", "damaged 15 boats"),
        "utf-8",
    )
    matrix.library.refresh()
    await app.corrector.check()  # or the watcher's own tick got there first: the same, once
    [entry] = load_digest(path).digest.corrections
    assert entry.what == "Boats damaged: 14 boats \u2192 15 boats"
    await scheduler.deliverers["matrix"].join()
    for original in storm:
        room = original["room_id"]
        events = await matrix.alice.wait_replies(room, bot.user_id, 3)
        [edit] = [
            e for e in events if e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"
        ]
        assert edit["content"]["m.relates_to"]["event_id"] == original["event_id"]
        new = edit["content"]["m.new_content"]
        assert "15 boats" in new["body"]
        assert "Corrected " in new["body"]
        assert "UTC: Boats damaged: 14 boats \u2192 15 boats" in new["body"]
        assert edit["content"]["body"].startswith("* ")
    assert {state for _, _, state in store.edit_states(TRAP_ID)} == {"done"}
    assert await app.corrector.check() == []  # nothing repeated
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    await app.stop()


async def test_review_by_reaction_then_posts_then_corrections(
    matrix: Matrix, tmp_path: Path
) -> None:
    """A draft's card in the review room: ✅ from anyone below power level 50 is refused, from a
    moderator it approves (the digest goes live, the bot replies with the decision); a
    ``post: new`` schedule posts it to three rooms; its figure is corrected in the file and each
    posted event gets an ``m.replace``."""
    from datetime import UTC, datetime, timedelta

    from bot.digest.load import load_digest
    from bot.pipeline.fetch import Fetcher
    from bot.pipeline.ingest import Ingestor
    from bot.schedules.spec import ScheduleSpec
    from tests.pipeline.articles import FERRY
    from tests.pipeline.conftest import Gazetteer

    folder = tmp_path / "live"
    folder.mkdir()
    (tmp_path / "ferry.txt").write_text(FERRY[0] + "\n\n" + "\n".join(FERRY[1]), "utf-8")
    app = App(
        config_for(folder, tmp_path), Library(folder), matrix=matrix.settings(), use_maps=False
    )
    await app.start()
    serving = asyncio.create_task(app.serve())
    bot = app.adapter("matrix")
    assert isinstance(bot, MatrixBot)
    queue, board = app.newsroom.queue, app.newsroom.board
    fetcher = Fetcher()  # a saved file: nothing is fetched
    ingestor = Ingestor(queue, fetcher, folder, gazetteer=Gazetteer())
    [draft] = (await ingestor.ingest_file(tmp_path / "ferry.txt", "The Portwell Post", None)).queued
    await fetcher.close()
    room = await matrix.room_with_bot(bot)
    bob = matrix.person()
    await matrix.alice.invite(room, bob.user_id)
    await bob.join(room)
    assert await board.announce("matrix", room, bot) == 1
    (card,) = await matrix.alice.wait_replies(room, bot.user_id, 1)
    assert f"Draft {draft.id}" in card["content"]["body"]
    assert "React" in card["content"]["body"]

    def reaction(key: str) -> dict[str, Any]:
        relates = {"rel_type": "m.annotation", "event_id": card["event_id"], "key": key}
        return {"m.relates_to": relates}

    await bob.send(room, reaction("\u2705"), "m.reaction")  # power level 0: refused
    events = await matrix.alice.wait_replies(room, bot.user_id, 2)
    assert "needs power level 50" in events[1]["content"]["body"]
    assert queue.get(draft.id).state == "draft"  # type: ignore[union-attr]
    await matrix.alice.send(room, reaction("\u2705"), "m.reaction")  # the room's creator
    events = await matrix.alice.wait_replies(room, bot.user_id, 3)
    assert "Approved by " + matrix.alice.user_id in events[2]["content"]["body"]
    assert in_reply_to(events[2]) == card["event_id"]
    row = queue.get(draft.id)
    assert row is not None
    assert row.state == "approved"
    assert row.via == "matrix"
    path = folder / f"{draft.digest_id}.yaml"
    assert load_digest(path).digest.reviewed is not None
    await bob.close()
    # Live at once: a `post: new` schedule posts it to three rooms on the next slot.
    app.library.refresh()
    await app.corrector.check()  # the watcher's tick: it knows the version that is posted
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    app.scheduler.clock = lambda: slot + timedelta(seconds=3)
    rooms = [await matrix.room_with_bot(bot) for _ in range(3)]
    specs = [ScheduleSpec("matrix", r, "* * * * *", post="new") for r in rooms]
    await app.scheduler.load(specs)
    for spec in specs:
        app.store.set_last_slot(spec.id, (slot - timedelta(seconds=30)).isoformat())
        await app.scheduler.tick(spec.id)
    await app.scheduler.deliverers["matrix"].join()
    posts = [(await matrix.alice.wait_replies(r, bot.user_id, 1))[0] for r in rooms]
    assert all("212 passengers" in p["content"]["body"] for p in posts)
    # The figure is corrected in the file: every posted event gets its m.replace.
    article = folder / draft.article
    article.write_text(article.read_text().replace("212 passengers", "214 passengers"), "utf-8")
    path.write_text(
        path.read_text()
        .replace("value: 212", "value: 214")
        .replace("said 212 passengers", "said 214 passengers"),
        "utf-8",
    )
    app.library.refresh()
    await app.corrector.check()
    await app.scheduler.deliverers["matrix"].join()
    for room, post in zip(rooms, posts, strict=True):
        events = await matrix.alice.wait_replies(room, bot.user_id, 2)
        [edit] = [e for e in events if "m.new_content" in e["content"]]
        assert edit["content"]["m.relates_to"] == {
            "rel_type": "m.replace",
            "event_id": post["event_id"],
        }
        assert (
            "Passengers: 212 passengers \u2192 214 passengers"
            in edit["content"]["m.new_content"]["body"]
        )
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    await app.stop()
