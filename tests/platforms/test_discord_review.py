"""Review in a Discord channel: each draft's card has Approve and Reject buttons; only reviewers
may press them, the card is updated with who decided and when, and a second press is told."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.digest.library import Library
from bot.digest.load import load_digest
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.ingest import FeedSpec, Ingestor
from bot.pipeline.queue import DraftRow, Queue
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import RunBot
from tests.pipeline.articles import BRIDGE, FERRY, page
from tests.pipeline.conftest import Gazetteer
from tests.pipeline.site import Item, Page, Site, rss
from tests.pipeline.site import site as site  # the fixture


@pytest.fixture
def library(tmp_path: Path) -> Library:
    """An empty digests folder: approvals write into it (overrides conftest's)."""
    folder = tmp_path / "live"
    folder.mkdir()
    library = Library(folder)
    library.refresh()
    return library


async def drafts(site: Site, queue: Queue, folder: Path) -> list[DraftRow]:
    site.pages["/ferry"] = Page(page(*FERRY))
    site.pages["/bridge"] = Page(page(*BRIDGE))
    items = [Item(FERRY[0], site.url("/ferry"), "f"), Item(BRIDGE[0], site.url("/bridge"), "b")]
    site.pages["/rss"] = Page(rss(items), content_type="application/rss+xml")
    fetcher = Fetcher(FetchLimits(host_interval=0))
    ingestor = Ingestor(queue, fetcher, folder, gazetteer=Gazetteer())
    outcome = await ingestor.poll(FeedSpec(site.url("/rss"), "The Portwell Post"))
    await fetcher.close()
    return outcome.queued


@pytest.mark.fake_discord(channels=("newsdesk",))
async def test_review_buttons(
    fake: FakeDiscord, run_bot: RunBot, site: Site, library: Library
) -> None:
    app = await run_bot()
    queue, board, folder = app.newsroom.queue, app.newsroom.board, library.folder
    ferry, bridge = await drafts(site, queue, folder)
    desk = str(fake.channel_id("newsdesk"))
    assert await board.announce("discord", desk, app.discord) == 2
    assert await board.announce("discord", desk, app.discord) == 0  # never twice
    cards = fake.messages_in(int(desk))
    assert len(cards) == 2
    text = cards[0].text()
    assert f"Draft {ferry.id}: {FERRY[0]}" in text
    assert "212 passengers" in text  # items with their claimants
    assert "Westway Ferries" in text
    assert "For the reviewer" in text  # the drafter's notes
    assert "review:" in text
    ids = {b["custom_id"] for b in cards[0].buttons()}
    assert ids == {f"review:approve:{ferry.id}", f"review:reject:{ferry.id}"}

    # Alice is not a reviewer: she is told so, privately, and nothing changes.
    refused = await fake.click(cards[0], f"review:approve:{ferry.id}", user=fake.alice)
    assert refused.reply is not None
    assert refused.reply.ephemeral
    assert "Only reviewers" in refused.reply.text()
    assert queue.get(ferry.id).state == "draft"  # type: ignore[union-attr]

    # The owner (Manage Messages) presses Approve twice at once: one approval, one "already".
    first, second = await asyncio.gather(
        fake.click(cards[0], f"review:approve:{ferry.id}", user=fake.owner, wait=False),
        fake.click(cards[0], f"review:approve:{ferry.id}", user=fake.owner, wait=False),
    )
    await fake.wait_for_answer(first)
    await fake.wait_for_answer(second)
    row = queue.get(ferry.id)
    assert row is not None
    assert (row.state, row.via) == ("approved", "discord")
    live = load_digest(folder / f"{ferry.digest_id}.yaml").digest
    assert live.reviewed is not None
    assert live.reviewed.via == "discord"
    updated = fake.message(cards[0].id)
    assert "Approved by" in updated.content
    assert "is live" in updated.content
    assert updated.buttons() == []  # decided: the buttons are gone
    answers = [r.reply for r in (first, second) if r.reply is not None and r.reply.ephemeral]
    assert len(answers) == 1
    assert "was already approved by" in answers[0].text()

    # Reject the other one.
    await fake.click(cards[1], f"review:reject:{bridge.id}", user=fake.owner)
    assert queue.get(bridge.id).state == "rejected"  # type: ignore[union-attr]
    assert "Rejected by" in fake.message(cards[1].id).content


@pytest.mark.fake_discord(channels=("newsdesk",))
async def test_the_buttons_work_after_a_restart_and_cards_are_not_posted_again(
    fake: FakeDiscord, run_bot: RunBot, site: Site, library: Library
) -> None:
    first = await run_bot()
    ferry, _ = await drafts(site, first.newsroom.queue, library.folder)
    desk = str(fake.channel_id("newsdesk"))
    assert await first.newsroom.board.announce("discord", desk, first.discord) == 2
    await first.stop()
    second = await run_bot()  # a new process: the same database, a new client
    assert await second.newsroom.board.announce("discord", desk, second.discord) == 0
    cards = fake.messages_in(int(desk))
    assert len(cards) == 2
    await fake.click(cards[0], f"review:approve:{ferry.id}", user=fake.owner)
    row = second.newsroom.queue.get(ferry.id)
    assert row is not None
    assert row.state == "approved"
    assert "Approved by" in fake.message(cards[0].id).content
