"""Review: approval validates and writes the digest atomically; one decision per draft."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.commands.base import parse
from bot.digest.library import Library
from bot.digest.load import load_digest
from bot.pipeline.board import Board
from bot.pipeline.ingest import FeedSpec, Ingestor
from bot.pipeline.queue import AlreadyDecided, DraftRow, Queue, ReviewError, Superseded
from bot.pipeline.review import NotApprovable, approve, publish_pending, reject
from bot.reply import Reply
from tests.helpers import answer
from tests.pipeline.articles import FERRY, page
from tests.pipeline.conftest import Clock
from tests.pipeline.site import Item, Page, Site, rss


def names(folder: Path, *, hidden: bool = False) -> list[str]:
    """What the digests folder holds (``hidden``: only temporary files, which must not stay)."""
    return sorted(p.name for p in folder.iterdir() if not hidden or p.name.startswith("."))


async def queue_ferry(
    site: Site, ingestor: Ingestor, paragraphs: list[str] | None = None, minute: int = 0
) -> DraftRow:
    site.pages["/ferry"] = Page(page(FERRY[0], paragraphs or FERRY[1]))
    updated = datetime(2024, 8, 9, 10, minute, tzinfo=UTC)
    item = Item(FERRY[0], site.url("/ferry"), "post-1", updated=updated)
    site.pages["/rss"] = Page(rss([item]), content_type="application/rss+xml")
    outcome = await ingestor.poll(FeedSpec(site.url("/rss"), "The Portwell Post"))
    assert outcome.problems == []
    assert len(outcome.queued) == 1
    return outcome.queued[0]


async def test_approval_writes_the_digest_live_with_reviewed(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path, clock: Clock
) -> None:
    row = await queue_ferry(site, ingestor)
    done = approve(queue, folder, row.id, by="  Alice  Reviewer ", via="cli", now=clock.now)
    assert done.path == folder / f"{row.digest_id}.yaml"
    assert done.correction is None
    loaded = load_digest(done.path)  # passes `check`
    reviewed = loaded.digest.reviewed
    assert reviewed is not None
    assert (reviewed.by, reviewed.at, reviewed.via) == ("Alice Reviewer", clock.now, "cli")
    decided = queue.get(row.id)
    assert decided is not None
    assert decided.state == "approved"
    assert decided.decided_by == "Alice Reviewer"
    assert decided.live_at == clock.now
    assert decided.decision() == "approved by Alice Reviewer, 9 Aug 2024 12:00 UTC, via cli"
    assert names(folder, hidden=True) == []  # no temp left
    library = Library(folder)
    library.refresh()
    reply = answer(library, parse(f"/summary {row.digest_id}"))
    assert reply.error is None
    assert reply.title == FERRY[0]
    assert queue.listed() == []


async def test_a_draft_that_fails_check_cannot_be_approved(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path, clock: Clock
) -> None:
    row = await queue_ferry(site, ingestor)
    (folder / row.article).write_text("Someone replaced the article.\n", encoding="utf-8")
    with pytest.raises(NotApprovable) as caught:
        approve(queue, folder, row.id, by="Alice", via="cli", now=clock.now)
    assert caught.value.problems
    assert all(line.startswith(f"draft {row.id}:") for line in caught.value.problems)
    assert any("not found verbatim in the article" in line for line in caught.value.problems)
    assert queue.get(row.id).state == "draft"  # type: ignore[union-attr]
    assert names(folder) == ["articles"]


async def test_two_reviewers_at_once_make_one_approval(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path, clock: Clock
) -> None:
    row = await queue_ferry(site, ingestor)

    def attempt(name: str) -> str:
        try:
            approve(queue, folder, row.id, by=name, via="discord", now=clock.now)
            return "won"
        except AlreadyDecided as exc:
            return str(exc)

    results = await asyncio.gather(
        asyncio.to_thread(attempt, "Alice"), asyncio.to_thread(attempt, "Bob")
    )
    assert sorted(results)[-1] == "won"
    winner = queue.get(row.id)
    assert winner is not None
    assert winner.decided_by in ("Alice", "Bob")
    assert sorted(results)[0] == (
        f"draft {row.id} was already approved by {winner.decided_by}, 9 Aug 2024 12:00 UTC, "
        "via discord"
    )
    live = load_digest(folder / f"{row.digest_id}.yaml").digest
    assert live.reviewed is not None
    assert live.reviewed.by == winner.decided_by
    assert names(folder, hidden=True) == []


async def test_an_approval_whose_draft_changed_underneath_is_refused(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path, clock: Clock
) -> None:
    first = await queue_ferry(site, ingestor)
    changed = [p.replace("212 passengers", "214 passengers") for p in FERRY[1]]
    second = await queue_ferry(site, ingestor, changed, minute=30)
    with pytest.raises(Superseded, match=f"draft {first.id} changed underneath.*draft {second.id}"):
        approve(queue, folder, first.id, by="Alice", via="cli", now=clock.now)
    assert not (folder / f"{first.digest_id}.yaml").exists()
    approve(queue, folder, second.id, by="Alice", via="cli", now=clock.now)


async def test_an_approved_revision_records_the_correction(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path, clock: Clock
) -> None:
    first = await queue_ferry(site, ingestor)
    approve(queue, folder, first.id, by="Alice", via="cli", now=clock.now)
    changed = [p.replace("212 passengers", "214 passengers") for p in FERRY[1]]
    second = await queue_ferry(site, ingestor, changed, minute=30)
    assert second.flag == "article updated after approval"
    clock.advance(timedelta(hours=2, minutes=5))
    done = approve(queue, folder, second.id, by="Bob", via="matrix", now=clock.now)
    assert done.correction is not None
    assert "Passengers: 212 passengers \u2192 214 passengers" in done.correction.what
    live = load_digest(done.path).digest
    assert [c.what for c in live.corrections] == [done.correction.what]
    assert live.article.text == second.article
    assert (folder / first.article).exists()  # the first revision's text is kept
    library = Library(folder)
    library.refresh()
    text = [line.text for line in answer(library, parse("/summary")).lines]
    assert f"Corrected 9 Aug 2024 14:05 UTC: {done.correction.what}" in text


async def test_reject_needs_a_reason_and_then_the_draft_is_decided(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path, clock: Clock
) -> None:
    row = await queue_ferry(site, ingestor)
    with pytest.raises(ReviewError, match="say why"):
        reject(queue, row.id, by="Carol", why="  ", via="cli", now=clock.now)
    done = reject(
        queue, row.id, by="Carol", why="duplicate of a wire story", via="cli", now=clock.now
    )
    assert done.state == "rejected"
    assert done.reason == "duplicate of a wire story"
    with pytest.raises(AlreadyDecided, match=r"already rejected by Carol.*duplicate of a wire"):
        approve(queue, folder, row.id, by="Alice", via="cli", now=clock.now)
    with pytest.raises(ReviewError, match="no draft 999"):
        approve(queue, folder, 999, by="Alice", via="cli", now=clock.now)


async def test_an_expired_draft_is_never_approved(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path, clock: Clock
) -> None:
    row = await queue_ferry(site, ingestor)
    later = clock.now + timedelta(days=8)
    with pytest.raises(ReviewError, match="expired 16 Aug 2024 12:00 UTC unreviewed"):
        approve(queue, folder, row.id, by="Alice", via="cli", now=later)
    assert not (folder / f"{row.digest_id}.yaml").exists()


async def test_an_approval_interrupted_before_the_write_is_finished_once(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path, clock: Clock
) -> None:
    row = await queue_ferry(site, ingestor)
    queue.decide(row.id, "approved", by="Alice", via="cli", now=clock.now)  # then: a crash
    assert not (folder / f"{row.digest_id}.yaml").exists()
    [done] = publish_pending(queue, folder, clock.now)
    assert done.path.exists()
    assert load_digest(done.path).digest.reviewed is not None
    assert publish_pending(queue, folder, clock.now) == []  # never twice


class Cards:
    """A ReviewPoster that records cards and can die once, as a killed process would."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.die = False

    async def post_review(self, channel: str, draft_id: int, card: Reply, nonce: str) -> str:
        if self.die:
            self.die = False
            raise SystemExit("killed while sending")
        self.sent.append((draft_id, nonce))
        return f"m{len(self.sent)}"


async def test_review_cards_are_posted_once_across_a_crash(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path
) -> None:
    row = await queue_ferry(site, ingestor)
    board = Board(queue, folder)
    cards = Cards()
    cards.die = True
    with pytest.raises(SystemExit):
        await board.announce("discord", "100", cards)
    assert queue.review_post(row.id, "discord") == ("100", "")  # claimed before sending
    assert await board.announce("discord", "100", cards) == 1
    assert await board.announce("discord", "100", cards) == 0
    assert cards.sent == [(row.id, f"review-{row.id}-discord")]  # the same nonce each attempt
    assert board.find("discord", "m1") == row.id
