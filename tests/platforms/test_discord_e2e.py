"""The Discord adapter end to end: the real discord.py client against FakeDiscord on loopback.

Every request the bot makes goes through the fake, which rejects what real Discord would
(limits, a second response, a late response, rate limits); ``no_network`` fails any test that
tries to reach anything but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from bot.app import App, DiscordRun, sync_discord
from bot.commands.base import CONSOLE, Caller, Request
from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.digest.model import Digest, Place
from bot.platforms.discord import pages
from bot.platforms.discord.client import DigestBot, DiscordLoginError
from bot.platforms.discord.render import (
    BULLET,
    DASH,
    DESCRIPTION_MAX,
    escape,
    source_text,
)
from bot.reply import Reply
from tests.fakes.discord_limits import embed_length
from tests.fakes.discord_server import (
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    FakeDiscord,
    FakeMessage,
    InteractionRecord,
)
from tests.fakes.sample_digests import BRIDGE_ID, KURSK_ID
from tests.helpers import RunBot, answer, config_for, reading_commands, throwaway_command

pytestmark = pytest.mark.usefixtures("no_network")

Options = Mapping[str, str | int | bool]
COMMANDS = reading_commands()


# -- helpers --------------------------------------------------------------------------------


def expected(library: Library, command: str, options: Options) -> Reply:
    return answer(library, Request(command, (), dict(options)))


def item_lines(reply: Reply) -> list[str]:
    """Each item as the adapter must show it: ``• text — source`` (linked if it has a URL)."""
    return [
        BULLET + escape(line.text) + (DASH + source_text(line.source) if line.source else "")
        for line in reply.lines
    ]


def quote_lines(reply: Reply) -> list[str]:
    return [f"> “{escape(line.quote)}”" for line in reply.lines if line.quote is not None]


def button(message: FakeMessage, label: str) -> dict[str, Any]:
    return next(b for b in message.buttons() if label in b.get("label", ""))


async def all_pages(fake: FakeDiscord, record: InteractionRecord) -> list[dict[str, Any]]:
    """Every page's embed, pressing Next (as the asker) until it is disabled."""
    assert record.reply is not None
    message = record.reply
    pages = [message.embeds[0]]
    while message.buttons() and not button(message, "Next").get("disabled"):
        await fake.click(message, button(message, "Next")["custom_id"], user=record.user)
        message = fake.message(message.id)
        pages.append(message.embeds[0])
    return pages


def rejoin(descriptions: list[str]) -> str:
    """Page descriptions as one text, with the renderer's continuation marks removed."""
    text = "\n".join(descriptions)
    for mark, glue in ((" …\n> … ", " "), (" …\n… ", " "), ("…\n> …", ""), ("…\n…", "")):
        text = text.replace(mark, glue)
    return text


def assert_within_limits(embed: dict[str, Any]) -> None:
    assert len(embed.get("title") or "") <= 256
    assert len(embed.get("description") or "") <= DESCRIPTION_MAX
    assert len(embed.get("fields") or []) <= 25
    assert embed_length(embed) <= 6000


def slow(seconds: float) -> type[Commands]:
    """Commands whose every answer takes ``seconds`` longer (blocking, as a map render does)."""

    class Slow(Commands):
        async def answer(self, request: Request, caller: Caller = CONSOLE) -> Reply:
            await asyncio.to_thread(time.sleep, seconds)
            return await super().answer(request, caller)

    return Slow


# -- registration ---------------------------------------------------------------------------


async def test_sync_registers_every_command_with_its_options(
    fake: FakeDiscord, library: Library
) -> None:
    names = await sync_discord(library, fake.token, None)
    assert names == [*COMMANDS, "schedule"]
    registered = {c["name"]: c for c in fake.commands(None)}
    assert list(registered) == [*COMMANDS, "schedule"]
    # /schedule: hidden from non-admins by default (Manage Server), and checked on use too.
    assert int(registered["schedule"]["default_member_permissions"]) == 32
    kinds = {"digest": 3, "place": 3, "figure": 3, "text": 3, "int": 4, "bool": 5}
    for spec in COMMANDS.values():
        options = registered[spec.name]["options"]
        assert [o["name"] for o in sorted(options, key=lambda o: o["name"])] == sorted(
            o.name for o in spec.options
        )
        by_name = {o["name"]: o for o in options}
        for option in spec.options:
            sent = by_name[option.name]
            assert sent["type"] == kinds[option.kind]
            assert bool(sent.get("required")) == option.required
            assert bool(sent.get("autocomplete")) == (option.kind in {"digest", "place", "figure"})
    assert len(fake.requests_to("PUT /applications/{application_id}/commands")) == 1


async def test_sync_to_one_guild(fake: FakeDiscord, library: Library) -> None:
    names = await sync_discord(library, fake.token, fake.guild_id)
    assert names == [*COMMANDS, "schedule"]
    assert [c["name"] for c in fake.commands(fake.guild_id)] == [*COMMANDS, "schedule"]
    assert fake.commands(None) == []
    assert fake.gateway_log == []  # registering needs no gateway connection


async def test_sync_clear_removes_the_guild_copy(fake: FakeDiscord, library: Library) -> None:
    await sync_discord(library, fake.token, fake.guild_id)
    await sync_discord(library, fake.token, None)
    assert await sync_discord(library, fake.token, fake.guild_id, clear=True) == []
    assert fake.commands(fake.guild_id) == []
    assert [c["name"] for c in fake.commands(None)] == [*COMMANDS, "schedule"]


async def test_starting_the_bot_registers_nothing(fake: FakeDiscord, run_bot: RunBot) -> None:
    puts_before = [r for r in fake.requests if r.method == "PUT"]
    await run_bot()
    assert [r for r in fake.requests if r.method == "PUT"] == puts_before
    assert fake.identify_count == 1


async def test_stale_registration_is_logged_at_start(
    fake: FakeDiscord, library: Library, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.platforms.discord.client")
    run = DiscordRun(fake.token, {"guild_ready_timeout": 0.05})
    async with App(config_for(library.folder, tmp_path), library, discord=run) as app:
        await app.discord.ready()
    assert "python -m bot sync" in caplog.text


async def test_a_bad_token_is_one_clear_error(
    fake: FakeDiscord, library: Library, tmp_path: Path
) -> None:
    with pytest.raises(DiscordLoginError, match="DISCORD_TOKEN"):
        await sync_discord(library, "not-the-token", None)
    config = config_for(library.folder, tmp_path)
    with pytest.raises(DiscordLoginError, match="DISCORD_TOKEN"):
        await App(config, library, discord=DiscordRun("not-the-token")).run()
    assert all(r.status == 401 for r in fake.requests)


# -- every command, with and without options --------------------------------------------------

CASES: list[tuple[str, Options]] = [
    ("summary", {}),
    ("summary", {"digest": KURSK_ID, "points": 3, "quotes": True}),
    ("figures", {}),
    ("figures", {"digest": KURSK_ID, "query": "soldiers", "quotes": True}),
    ("where", {}),
    ("where", {"digest": KURSK_ID, "place": "Korenevo", "quotes": True}),
    ("sources", {}),
    ("sources", {"digest": BRIDGE_ID, "quotes": True}),
    ("digests", {}),
    ("help", {}),
    ("help", {"command": "where"}),
]


@pytest.mark.parametrize(("command", "options"), CASES, ids=lambda c: str(c))
async def test_each_command_shows_the_source_next_to_every_item(
    fake: FakeDiscord, bot: DigestBot, library: Library, command: str, options: Options
) -> None:
    record = await fake.interact(command, options)

    assert record.response_type == CHANNEL_MESSAGE
    assert record.latency is not None
    assert record.latency < 3.0
    assert record.rejected == []
    message = record.reply
    assert message is not None
    assert not message.ephemeral
    assert message.allowed_mentions is not None
    assert message.allowed_mentions["parse"] == []
    pages = await all_pages(fake, record)
    for embed in pages:
        assert_within_limits(embed)
    shown = rejoin([embed.get("description") or "" for embed in pages]).split("\n")

    reply = expected(library, command, options)
    assert reply.error is None
    assert pages[0]["title"].startswith(escape(reply.title)[:200])
    for line in item_lines(reply):
        assert line in shown, f"missing or sourceless item: {line!r}"
    for quote in quote_lines(reply):
        assert quote in shown
    if options.get("quotes"):
        assert quote_lines(reply), "quotes:yes must show the verbatim quotes"
    else:
        assert not any(line.startswith("> “") for line in shown)
    sourced = [line for line in reply.lines if line.source is not None]
    if command not in ("digests", "help"):
        assert sourced
        assert len(sourced) == len(reply.lines)


async def test_a_claim_names_its_claimant(fake: FakeDiscord, bot: DigestBot) -> None:
    record = await fake.interact("figures", {"digest": KURSK_ID, "query": "soldiers"})
    assert record.reply is not None
    lines = [line for line in record.reply.text().split("\n") if "945" in line]
    assert lines, "the 945 soldiers figure is shown"
    item, source = lines[0].split(DASH, 1)
    assert "Russia's defence ministry" in item  # in the sentence, not only in the source
    assert source == "Russia's defence ministry, via The Telegraph, 9 Aug 2024"


async def test_a_picture_is_attached_and_shown_in_the_embed(
    fake: FakeDiscord, run_bot: RunBot, tmp_path: Path
) -> None:
    class TinyMap:
        def picture(self, digest: Digest, focus: Place | None = None) -> Path:
            path = tmp_path / f"map {digest.id}.png"
            Image.new("RGB", (8, 8), "teal").save(path)
            return path

        def describe(self, digest: Digest, focus: Place | None = None) -> str:
            return f"Map of {focus.name if focus else digest.title}"

    await run_bot(maps=TinyMap())
    record = await fake.interact("where", {"digest": KURSK_ID, "place": "Korenevo"})
    message = record.reply
    assert message is not None
    [attachment] = message.data["attachments"]
    assert attachment["filename"].endswith(".png")
    assert " " not in attachment["filename"]
    assert message.embeds[0]["image"]["url"] == f"attachment://{attachment['filename']}"
    assert message.files[attachment["filename"]].startswith(b"\x89PNG")
    callback = fake.requests_to("POST /interactions/{interaction_id}/{token}/callback")[-1]
    assert callback.files == [(attachment["filename"], attachment["size"])]


# -- autocomplete -------------------------------------------------------------------------------


async def test_autocomplete_digest_ids(fake: FakeDiscord, bot: DigestBot) -> None:
    assert await fake.autocomplete("summary", "digest", "kur") == [
        {"name": KURSK_ID, "value": KURSK_ID}
    ]
    everything = await fake.autocomplete("sources", "digest", "")
    assert {c["value"] for c in everything} == {KURSK_ID, BRIDGE_ID}


async def test_autocomplete_places_follow_the_chosen_digest(
    fake: FakeDiscord, bot: DigestBot
) -> None:
    kursk = await fake.autocomplete("where", "place", "kor", {"digest": KURSK_ID})
    assert {"name": "Korenevo", "value": "Korenevo"} in kursk
    bridge = await fake.autocomplete("where", "place", "old", {"digest": BRIDGE_ID})
    assert bridge == [{"name": "Old bridge", "value": "Old bridge"}]
    assert await fake.autocomplete("where", "place", "kor", {"digest": "no-such"}) == []


async def test_autocomplete_figure_queries(
    fake: FakeDiscord, bot: DigestBot, library: Library
) -> None:
    choices = await fake.autocomplete("figures", "query", "ukr", {"digest": KURSK_ID})
    labels = [f.label for f in library.get(KURSK_ID).figures]  # type: ignore[union-attr]
    assert choices
    assert all(c["value"] in labels for c in choices)
    assert all(c["value"].lower().startswith("ukr") for c in choices[:1])


async def test_autocomplete_is_trimmed_to_discords_limits(
    fake: FakeDiscord, bot: DigestBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = [f"{n:02d} {'x' * 150}" for n in range(40)] + ["", "short"]
    monkeypatch.setattr(bot.commands, "suggest", lambda *args: many)
    choices = await fake.autocomplete("where", "place", "x")
    assert len(choices) == 25
    assert all(1 <= len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    [record] = [r for r in fake.interactions.values() if r.type == 4]
    assert record.rejected == []


async def test_autocomplete_failure_offers_nothing_and_is_logged(
    fake: FakeDiscord,
    bot: DigestBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object) -> list[str]:
        raise RuntimeError("suggest broke")

    monkeypatch.setattr(bot.commands, "suggest", broken)
    assert await fake.autocomplete("summary", "digest", "k") == []
    assert "suggest broke" in caplog.text


async def test_a_value_not_from_autocomplete_is_checked_again(
    fake: FakeDiscord, bot: DigestBot
) -> None:
    record = await fake.interact("where", {"digest": KURSK_ID, "place": "Atlantis"})
    assert record.reply is not None
    assert record.reply.ephemeral
    assert record.reply.content.startswith("no place 'Atlantis'")
    record = await fake.interact("summary", {"digest": "kursk-incursion-2099"})
    assert record.reply is not None
    assert record.reply.ephemeral
    assert "no digest" in record.reply.content


# -- paging -----------------------------------------------------------------------------------


async def test_a_long_answer_pages_and_only_the_asker_may_turn_pages(
    fake: FakeDiscord, bot: DigestBot, library: Library
) -> None:
    options = {"digest": KURSK_ID, "quotes": True}
    record = await fake.interact("sources", options)
    message = record.reply
    assert message is not None
    first = message.embeds[0]
    total = int(first["footer"]["text"].rsplit(" ", 1)[1])
    assert total >= 2
    assert first["footer"]["text"] == f"Page 1 of {total}"
    assert button(message, "Previous")["disabled"] is True
    assert not button(message, "Next").get("disabled")

    refused = await fake.click(message, button(message, "Next")["custom_id"], user=fake.bob)
    assert refused.reply is not None
    assert refused.reply.ephemeral
    assert "Only the person who ran this command" in refused.reply.content
    assert fake.message(message.id).embeds[0]["footer"]["text"] == f"Page 1 of {total}"

    pages = await all_pages(fake, record)
    assert len(pages) == total
    assert [p["footer"]["text"] for p in pages] == [
        f"Page {n} of {total}" for n in range(1, total + 1)
    ]
    last = fake.message(message.id)
    assert button(last, "Next")["disabled"] is True
    back = await fake.click(last, button(last, "Previous")["custom_id"], user=fake.alice)
    assert back.response_type == 7
    assert fake.message(message.id).embeds[0]["footer"]["text"] == f"Page {total - 1} of {total}"

    shown = rejoin([p["description"] for p in pages]).split("\n")
    for line in item_lines(expected(library, "sources", options)):
        assert line in shown


async def test_page_buttons_are_disabled_after_the_timeout(
    fake: FakeDiscord, run_bot: RunBot
) -> None:
    await run_bot(page_timeout=0.3)
    record = await fake.interact("sources", {"digest": KURSK_ID, "quotes": True})
    message = record.reply
    assert message is not None
    assert len(message.buttons()) == 2
    await fake.wait_for(
        lambda: all(b.get("disabled") for b in fake.message(message.id).buttons()),
        timeout=5.0,
        what="the page buttons to be disabled",
    )
    assert fake.message(message.id).embeds == message.embeds


def write_oversized_digest(folder: Path) -> str:
    """A digest whose /summary quotes:yes is ~30 embeds long, with one item longer than a page."""
    sentences = [
        f"Paragraph {n} reports that "
        + " ".join(f"the council reviewed item {n}-{k} of the plan" for k in range(40))
        + "."
        for n in range(12)
    ]
    heavy = "Markup " + "*bold* _it_ `code` |x| " * 80 + "end."
    article = "Oversized test article\n" + "\n".join([*sentences, heavy]) + "\n"
    (folder / "articles" / "oversized.txt").write_text(article, encoding="utf-8")
    points = [
        f"  - text: {json.dumps(s[:1990])}\n    source: {source}\n    quote: {json.dumps(s[:1990])}"
        for s, source in [*((s, "paper") for s in sentences), (heavy, "long")]
    ]
    long_name = "The *Long* Name " + " ".join(f"part {n} of the name" for n in range(90))
    (folder / "oversized.yaml").write_text(
        "schema: 1\nid: oversized-2024-10-01\ntitle: An oversized digest\n"
        "published: 2024-10-01\narticle:\n  publisher: The Test Paper\n"
        "  headline: Oversized test article\n  url: https://example.invalid/a(1)\n"
        "  text: articles/oversized.txt\n"
        "sources:\n  paper: {name: The Test Paper, kind: publisher}\n"
        f"  long: {{name: {json.dumps(long_name[:1990])}, kind: other}}\nsummary:\n"
        + "\n".join(points)
        + "\n",
        encoding="utf-8",
    )
    return "oversized-2024-10-01"


async def test_an_oversized_answer_is_paged_within_limits_and_nothing_is_lost(
    fake: FakeDiscord, bot: DigestBot, library: Library
) -> None:
    digest_id = write_oversized_digest(library.folder)
    changes = library.refresh()
    assert digest_id in changes.added, [str(p) for p in changes.problems]
    options = {"digest": digest_id, "quotes": True}
    record = await fake.interact("summary", options)
    pages = await all_pages(fake, record)
    assert len(pages) > 5
    for embed in pages:
        assert_within_limits(embed)
    assert all(r.rejected == [] for r in fake.interactions.values())
    assert all(r.status < 400 for r in fake.requests)
    shown = rejoin([p["description"] for p in pages])
    reply = expected(library, "summary", options)
    for line in reply.lines:
        assert escape(line.text) in shown
        assert line.quote is not None
        assert escape(line.quote) in shown
    linked = "[The Test Paper, 1 Oct 2024](https://example.invalid/a%281%29)"
    assert shown.count(linked) == len(reply.lines) - 1
    long_source = reply.lines[-1].source
    assert long_source is not None
    assert escape(str(long_source)) in shown
    assert any(p["description"].endswith(" …") for p in pages), "the long item is split, marked"


# -- deadlines and failures -------------------------------------------------------------------


async def test_a_slow_answer_is_deferred_then_edited_in(fake: FakeDiscord, run_bot: RunBot) -> None:
    await run_bot(defer_after=0.05, commands=slow(0.4))
    record = await fake.interact("summary", {"digest": KURSK_ID})
    assert record.response_type == DEFERRED_CHANNEL_MESSAGE
    assert record.latency is not None
    assert record.latency < 1.0
    assert record.original is not None
    assert not record.original.loading
    assert record.original.embeds
    assert record.rejected == []
    edits = fake.requests_to("PATCH /webhooks/{application_id}/{token}/messages/{message_id}")
    assert len(edits) == 1
    assert edits[0].body["allowed_mentions"]["parse"] == []


async def test_a_slow_error_replaces_the_thinking_message_with_an_ephemeral_one(
    fake: FakeDiscord, run_bot: RunBot
) -> None:
    await run_bot(defer_after=0.05, commands=slow(0.3))
    record = await fake.interact("summary", {"digest": "nope"})
    await fake.wait_for(lambda: record.original is not None and record.original.deleted)
    [followup] = record.followups
    assert followup.ephemeral
    assert followup.content.startswith("no digest 'nope'")


@pytest.mark.fake_discord(interaction_deadline=0.3)
async def test_the_fake_refuses_an_answer_after_the_deadline(
    fake: FakeDiscord, run_bot: RunBot, caplog: pytest.LogCaptureFixture
) -> None:
    """The control for the deferral: a bot that does not defer in time is refused (10062)."""
    await run_bot(defer_after=5.0, commands=slow(0.6))
    record = await fake.interact("summary", {"digest": KURSK_ID}, wait=False)
    await fake.wait_for(lambda: len(record.rejected) >= 1, timeout=5.0)
    assert record.rejected[0][1].code == 10062
    assert record.failed_to_respond
    await fake.wait_for(lambda: "expired" in caplog.text, timeout=5.0)


@pytest.mark.fake_discord(interaction_deadline=0.5)
async def test_deferring_beats_a_short_deadline(fake: FakeDiscord, run_bot: RunBot) -> None:
    await run_bot(defer_after=0.1, commands=slow(0.8))
    record = await fake.interact("figures", {"digest": KURSK_ID})
    assert record.response_type == DEFERRED_CHANNEL_MESSAGE
    assert not record.failed_to_respond
    assert record.original is not None
    assert record.original.embeds


async def test_a_user_error_is_a_short_ephemeral_message(fake: FakeDiscord, bot: DigestBot) -> None:
    record = await fake.interact("summary", {"digest": "nope", "points": 0})
    message = record.reply
    assert message is not None
    assert message.ephemeral
    assert message.embeds == []
    assert message.content.startswith("no digest 'nope'")
    assert len(message.content) < 200


async def test_a_crash_becomes_a_short_ephemeral_message_and_a_log_entry(
    fake: FakeDiscord, run_bot: RunBot, caplog: pytest.LogCaptureFixture
) -> None:
    class Crash(Commands):
        async def answer(self, request: Request, caller: Caller = CONSOLE) -> Reply:
            if request.command == "figures":
                raise RuntimeError("the answer exploded")
            return await super().answer(request, caller)

    await run_bot(commands=Crash)
    record = await fake.interact("figures", {"digest": KURSK_ID})
    message = record.reply
    assert message is not None
    assert message.ephemeral
    assert (
        message.content
        == "Sorry — /figures failed on our side. It has been logged; please try again."
    )
    assert "the answer exploded" not in message.content
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors
    assert errors[0].exc_info
    assert "the answer exploded" in str(errors[0].exc_info[1])
    # The bot is still fine afterwards.
    record = await fake.interact("help", {})
    assert record.reply is not None
    assert not record.reply.ephemeral


async def test_an_error_while_paging_is_reported_ephemerally(
    fake: FakeDiscord, bot: DigestBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = await fake.interact("sources", {"digest": KURSK_ID, "quotes": True})
    assert record.reply is not None

    async def broken(self: Any, interaction: Any, index: int) -> None:
        raise RuntimeError("page turner broke")

    monkeypatch.setattr(pages.PageTurner, "show", broken)
    click = await fake.click(record.reply, button(record.reply, "Next")["custom_id"])
    assert click.reply is not None
    assert click.reply.ephemeral
    assert click.reply.content.startswith("Sorry — That failed on our side.")


async def test_a_stale_registered_command_gets_a_clear_message(
    fake: FakeDiscord, bot: DigestBot, caplog: pytest.LogCaptureFixture
) -> None:
    path = f"{fake.base_url}/applications/{fake.application_id}/guilds/{fake.guild_id}/commands"
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(path, headers=headers) as response:
            commands = await response.json()
        old = {"name": "headlines", "description": "removed since", "type": 1, "options": []}
        async with session.put(path, json=[*commands, old], headers=headers) as response:
            assert response.status == 200
    record = await fake.interact("headlines", {})
    assert record.reply is not None
    assert record.reply.ephemeral
    assert "python -m bot sync" in record.reply.content
    assert "headlines" in caplog.text


# -- mention safety -----------------------------------------------------------------------------


async def test_a_digest_cannot_ping_or_format(fake: FakeDiscord, bot: DigestBot) -> None:
    for command in ("summary", "figures", "where", "sources"):
        record = await fake.interact(command, {"digest": BRIDGE_ID, "quotes": True})
        message = record.reply
        assert message is not None
        assert not message.ephemeral
        assert message.allowed_mentions == {"parse": []}
        assert message.pinged == {"everyone": False, "users": [], "roles": []}
        body = json.dumps(
            fake.requests_to("POST /interactions/{interaction_id}/{token}/callback")[-1].body
        )
        assert "@everyone" not in body
        assert "@here" not in body
        assert "<@&123>" not in body  # shown escaped: \<@&123>
    record = await fake.interact("summary", {"digest": BRIDGE_ID})
    text = record.reply.text()  # type: ignore[union-attr]
    assert "@\u200beveryone must keep off" in text
    assert "\\<@&123\\>" in text
    assert "\\*\\*nobody\\*\\*" in text
    assert "\\`engineer\\`" in text


async def test_a_source_name_cannot_become_a_link(fake: FakeDiscord, bot: DigestBot) -> None:
    record = await fake.interact("figures", {"digest": BRIDGE_ID, "query": "petition"})
    text = record.reply.text()  # type: ignore[union-attr]
    assert "\\[Save the Bridge\\](http://example.invalid/evil)" in text
    assert "[Save the Bridge](" not in text.replace("\\[Save the Bridge\\](", "")


async def test_an_echoed_mention_in_an_error_pings_nobody(
    fake: FakeDiscord, bot: DigestBot
) -> None:
    record = await fake.interact("where", {"digest": BRIDGE_ID, "place": "@everyone <@&123>"})
    message = record.reply
    assert message is not None
    assert message.ephemeral
    assert "@everyone" not in message.content
    assert "<@&123>" not in message.content
    assert message.allowed_mentions is not None
    assert message.allowed_mentions["parse"] == []
    assert message.pinged == {"everyone": False, "users": [], "roles": []}


# -- gateway --------------------------------------------------------------------------------------


async def test_commands_still_work_after_reconnect_and_resume(
    fake: FakeDiscord, bot: DigestBot
) -> None:
    before = await fake.interact("summary", {"digest": KURSK_ID, "points": 1})
    assert before.reply is not None
    await fake.force_reconnect()
    assert fake.identify_count == 1
    assert fake.resume_count == 1
    resumed = [entry for entry in fake.gateway_log if entry[1] == 6]
    assert resumed[0][0] == "/resume"  # the client used READY's resume_gateway_url
    after = await fake.interact("summary", {"digest": KURSK_ID, "points": 1})
    assert after.reply is not None
    assert after.reply.embeds == before.reply.embeds
    assert await fake.autocomplete("where", "place", "kor", {"digest": KURSK_ID})

    await fake.drop_connection()
    assert fake.identify_count == 1
    assert fake.resume_count == 2
    record = await fake.interact("digests", {})
    assert record.response_type == CHANNEL_MESSAGE


async def test_an_interaction_sent_during_reconnect_is_replayed_and_answered(
    fake: FakeDiscord, bot: DigestBot
) -> None:
    reconnect = asyncio.create_task(fake.force_reconnect())
    await asyncio.sleep(0)  # op 7 is on its way; this interaction races the reconnect
    record = await fake.interact("help", {})
    await reconnect
    assert "INTERACTION_CREATE" in fake.replayed  # sent after op 7: only RESUME delivered it
    assert record.reply is not None
    assert not record.reply.ephemeral
    assert len([r for r in fake.interactions.values() if r.responded]) == 1


async def test_the_app_serves_and_reloads_until_cancelled(
    fake: FakeDiscord, library: Library, tmp_path: Path
) -> None:
    await sync_discord(library, fake.token, fake.guild_id)
    config = config_for(library.folder, tmp_path, reload_seconds=0.05)
    run = DiscordRun(fake.token, {"guild_id": fake.guild_id})
    runner = asyncio.create_task(App(config, library, discord=run, use_maps=False).run())
    try:
        await fake.wait_until_connected()
        await fake.wait_for(lambda: len(fake.gateway_log) >= 2, what="the guild to load")
        record = await fake.interact("digests", {})
        assert record.reply is not None
        assert KURSK_ID in record.reply.text()
        extra = library.folder / "second.yaml"
        shutil.copy(library.folder / "bridge-notice.yaml", extra)
        text = extra.read_text(encoding="utf-8").replace(BRIDGE_ID, "second-notice-2024-09-03")
        extra.write_text(text, encoding="utf-8")
        await fake.wait_for(lambda: library.get("second-notice-2024-09-03") is not None)
        choices = await fake.autocomplete("summary", "digest", "second")
        assert choices == [
            {"name": "second-notice-2024-09-03", "value": "second-notice-2024-09-03"}
        ]
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
    assert not fake.connected or fake.gateway_log


async def test_a_command_added_in_bot_commands_appears_on_discord(
    fake: FakeDiscord, run_bot: RunBot, library: Library
) -> None:
    with throwaway_command():
        names = await sync_discord(library, fake.token, fake.guild_id)
        assert "echo" in names
        await run_bot()
        record = await fake.interact("echo", {"word": "hello"})
    assert record.reply is not None
    text = record.reply.text()
    assert "echo: hello" in text
    assert "asked on discord" in text


async def test_options_carry_descriptions_choices_and_autocomplete_from_their_specs(
    fake: FakeDiscord, library: Library
) -> None:
    """Set through discord.py's public app_commands decorators, from the registry's specs."""
    await sync_discord(library, fake.token, None)
    registered = {c["name"]: c for c in fake.commands(None)}
    action = {o["name"]: o for o in registered["schedule"]["options"]}["action"]
    assert [c["value"] for c in action["choices"]] == ["list", "add", "remove", "test"]
    assert registered["schedule"].get("dm_permission") is False  # guild only: an admin command
    digest = {o["name"]: o for o in registered["summary"]["options"]}["digest"]
    assert digest["description"] == "Digest id (default: the newest)"
    assert digest["autocomplete"] is True
