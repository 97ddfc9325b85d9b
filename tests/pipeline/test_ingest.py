"""Feeds → drafts: dedup, revisions, and every kind of bad input as one recorded line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.digest.yamlsafe import parse
from bot.pipeline.feeds import parse_feed
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.ingest import FeedSpec, Ingestor
from bot.pipeline.poller import Poller
from bot.pipeline.queue import Queue
from tests.pipeline.articles import BRIDGE, FERRY, page
from tests.pipeline.conftest import Clock, Gazetteer
from tests.pipeline.site import Item, Page, Site, atom, rss


def feed_of(site: Site, path: str, items: list[Item], *, kind: str = "rss") -> FeedSpec:
    body = rss(items) if kind == "rss" else atom(items)
    content = "application/rss+xml" if kind == "rss" else "application/atom+xml"
    site.pages[path] = Page(body, content_type=content)
    return FeedSpec(site.url(path), "The Portwell Post", timedelta(minutes=15))


async def test_rss_entries_become_drafts_with_their_text_saved(
    site: Site, ingestor: Ingestor, queue: Queue, folder: Path
) -> None:
    site.pages["/ferry"] = Page(page(*FERRY))
    site.pages["/bridge"] = Page(page(*BRIDGE))
    feed = feed_of(
        site,
        "/rss",
        [
            Item(FERRY[0], site.url("/ferry"), "post-1"),
            Item(BRIDGE[0], site.url("/bridge"), "post-2"),
        ],
    )
    outcome = await ingestor.poll(feed)
    assert outcome.problems == []
    assert [r.title for r in outcome.queued] == [FERRY[0], BRIDGE[0]]
    ferry = outcome.queued[0]
    assert ferry.state == "draft"
    assert ferry.revision == 1
    assert ferry.flag == ""
    assert ferry.digest_id == (
        "ferry-service-to-carrow-island-suspended-after-hull-damage-2024-08-09"
    )
    saved = (folder / ferry.article).read_text(encoding="utf-8")
    assert saved.startswith(FERRY[0] + "\n\n")
    assert FERRY[1][1] in saved
    assert ferry.article.startswith("articles/")
    data = parse(ferry.yaml).data
    assert data["article"]["url"] == site.url("/ferry")
    assert data["article"]["publisher"] == "The Portwell Post"
    assert data["article"]["text"] == ferry.article
    assert any(f["value"] == 212 for f in data["figures"])
    assert [r.id for r in queue.listed()] == [ferry.id, outcome.queued[1].id]


async def test_the_same_story_in_two_feeds_is_one_draft(
    site: Site, ingestor: Ingestor, queue: Queue
) -> None:
    site.pages["/ferry"] = Page(page(*FERRY))
    site.pages["/syndicated/ferry"] = Page(page(*FERRY))  # the same text at another address
    rss_feed = feed_of(site, "/rss", [Item(FERRY[0], site.url("/ferry"), "post-1")])
    atom_feed = feed_of(
        site,
        "/atom",
        [Item(FERRY[0], site.url("/ferry/"), "urn:courier:77")],  # same link, other GUID
        kind="atom",
    )
    other = feed_of(site, "/other", [Item("Ferry", site.url("/syndicated/ferry"), "x-9")])
    first = await ingestor.poll(rss_feed)
    assert len(first.queued) == 1
    by_link = await ingestor.poll(atom_feed)
    by_text = await ingestor.poll(other)
    assert by_link.queued == []
    assert by_link.known == 1
    assert by_text.queued == []
    assert by_text.known == 1
    assert len(queue.listed()) == 1
    assert len(site.hits_of("/ferry")) == 1  # the link was known: the page was not fetched again


async def test_an_unchanged_feed_costs_a_304_and_queues_nothing(
    site: Site, ingestor: Ingestor
) -> None:
    site.pages["/ferry"] = Page(page(*FERRY))
    feed = feed_of(site, "/rss", [Item(FERRY[0], site.url("/ferry"), "post-1")])
    await ingestor.poll(feed)
    again = await ingestor.poll(feed)
    assert again.queued == []
    assert again.problems == []
    assert [h.status for h in site.hits_of("/rss")] == [200, 304]
    assert len(site.hits_of("/ferry")) == 1


async def test_an_updated_article_becomes_a_new_revision(
    site: Site, ingestor: Ingestor, queue: Queue
) -> None:
    site.pages["/ferry"] = Page(page(*FERRY))
    feed = feed_of(site, "/rss", [Item(FERRY[0], site.url("/ferry"), "post-1")])
    first = (await ingestor.poll(feed)).queued[0]
    # The feed says the entry was updated, but the text is the same: nothing new.
    later = datetime(2024, 8, 9, 11, 0, tzinfo=UTC)
    feed = feed_of(site, "/rss", [Item(FERRY[0], site.url("/ferry"), "post-1", updated=later)])
    same = await ingestor.poll(feed)
    assert same.queued == []
    assert same.known == 1
    # Now the publisher corrects a number in the article.
    paragraphs = [p.replace("212 passengers", "214 passengers") for p in FERRY[1]]
    site.pages["/ferry"] = Page(page(FERRY[0], paragraphs))
    latest = datetime(2024, 8, 9, 12, 0, tzinfo=UTC)
    feed = feed_of(site, "/rss", [Item(FERRY[0], site.url("/ferry"), "post-1", updated=latest)])
    second = (await ingestor.poll(feed)).queued
    assert len(second) == 1
    revision = second[0]
    assert revision.digest_id == first.digest_id
    assert revision.revision == 2
    assert revision.flag == "article updated"
    assert revision.article != first.article  # the live digest's article text is never replaced
    assert queue.get(first.id).state == "superseded"  # type: ignore[union-attr]
    assert [r.id for r in queue.listed()] == [revision.id]
    # The page was fetched conditionally the second and third time.
    assert site.hits_of("/ferry")[1].headers.get("If-None-Match")


async def test_bad_inputs_are_one_line_each_and_the_feed_goes_on(
    site: Site, queue: Queue, folder: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    fetcher = Fetcher(FetchLimits(host_interval=0, timeout=0.5, max_bytes=1024 * 1024))
    ingestor = Ingestor(queue, fetcher, folder, clock=clock, gazetteer=Gazetteer())
    site.pages["/good"] = Page(page(*FERRY))
    site.pages["/pdf"] = Page(b"%PDF-1.4 binary", content_type="application/pdf", charset=None)
    site.pages["/empty"] = Page("<html><body><nav>Home</nav><p>Subscribe.</p></body></html>")
    site.pages["/huge"] = Page(b"", stream=50 * 1024 * 1024)
    site.pages["/loop"] = Page("", status=302, headers={"Location": "/loop2"})
    site.pages["/loop2"] = Page("", status=302, headers={"Location": "/loop"})
    site.pages["/slow"] = Page(page(*BRIDGE), delay=3.0)
    latin = page(*BRIDGE).replace('<meta charset="utf-8">', "").replace("Hallam", "H\u00e4llam")
    site.pages["/latin"] = Page(latin.encode("latin-1"), charset=None)
    names = ["pdf", "empty", "huge", "loop", "slow", "latin", "good"]
    feed = feed_of(site, "/rss", [Item(n, site.url(f"/{n}"), f"id-{n}") for n in names])
    with caplog.at_level(logging.WARNING, logger="bot.pipeline"):
        outcome = await ingestor.poll(feed)
    try:
        assert [r.title for r in outcome.queued] == [FERRY[0]]
        lines = outcome.problems
        assert len(lines) == 6
        expected = [
            "not an HTML page (application/pdf)",
            "no article text on the page",
            "more than the 1,048,576-byte cap",
            "redirect loop",
            "timed out after 0.5 s",
            "not UTF-8 (byte",
        ]
        for line, words in zip(lines, expected, strict=True):
            assert words in line
            assert "\n" not in line
        stored = {p.message for p in queue.problems()}
        assert stored == set(lines)
        warnings = [r.getMessage() for r in caplog.records]
        assert sorted(warnings) == sorted(lines)
        # Polled again: still failing, but not logged again; still listed, with a count.
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.pipeline"):
            again = await ingestor.poll(feed)
        assert len(again.problems) == 6
        assert caplog.records == []
        assert {p.count for p in queue.problems()} == {2}
    finally:
        await fetcher.close()


async def test_a_feed_that_is_not_xml_is_reported_once_and_polled_again(
    site: Site, ingestor: Ingestor, queue: Queue, clock: Clock
) -> None:
    site.pages["/rss"] = Page("<html><body>We moved our feed!</body></html>")
    feed = FeedSpec(site.url("/rss"), "The Portwell Post", timedelta(minutes=15))
    poller = Poller(ingestor, [feed])
    [outcome] = await poller.poll_due()
    assert outcome.problems == [
        f"feed {feed.url}: not a readable RSS/Atom feed (not XML: text/html is not an XML "
        "media type)"
    ]
    assert queue.feed(feed.url).failures == 1
    site.pages["/rss"] = Page("{not: xml", content_type="application/rss+xml")
    assert await poller.poll_due() == []  # backing off: 30 minutes after one failure
    clock.advance(timedelta(minutes=31))
    [outcome] = await poller.poll_due()
    assert "not a readable RSS/Atom feed (not XML" in outcome.problems[0]
    assert queue.feed(feed.url).failures == 2
    # The publisher fixes it: the next poll (60 minutes later) works and the problem is gone.
    site.pages["/ferry"] = Page(page(*FERRY))
    feed_of(site, "/rss", [Item(FERRY[0], site.url("/ferry"), "post-1")])
    clock.advance(timedelta(minutes=61))
    [outcome] = await poller.poll_due()
    assert outcome.problems == []
    assert len(outcome.queued) == 1
    assert queue.problems() == []
    assert queue.feed(feed.url).failures == 0


async def test_unreviewed_drafts_expire_and_are_never_approved(
    site: Site, ingestor: Ingestor, queue: Queue, clock: Clock
) -> None:
    site.pages["/ferry"] = Page(page(*FERRY))
    feed = feed_of(site, "/rss", [Item(FERRY[0], site.url("/ferry"), "post-1")])
    poller = Poller(ingestor, [feed])
    [outcome] = await poller.poll_due()
    row = outcome.queued[0]
    assert row.expires_at == clock.now + timedelta(days=7)
    clock.advance(timedelta(days=7, seconds=1))
    await poller.poll_due()
    found = queue.get(row.id)
    assert found is not None
    assert found.state == "expired"
    assert found.decided_by is None


async def test_one_off_ingest_of_a_page_or_a_feed(
    site: Site, ingestor: Ingestor, queue: Queue
) -> None:
    site.pages["/ferry"] = Page(page(*FERRY))
    site.pages["/bridge"] = Page(page(*BRIDGE))
    one = await ingestor.ingest_url(site.url("/ferry"), "The Portwell Post", None)
    assert [r.title for r in one.queued] == [FERRY[0]]
    assert one.queued[0].publisher == "The Portwell Post"
    feed_of(
        site,
        "/atom",
        [Item(FERRY[0], site.url("/ferry"), "a-1"), Item(BRIDGE[0], site.url("/bridge"), "a-2")],
        kind="atom",
    )
    many = await ingestor.ingest_url(site.url("/atom"), "Hallam Courier", None)
    assert [r.title for r in many.queued] == [BRIDGE[0]]
    assert many.known == 1
    missing = await ingestor.ingest_url(site.url("/gone"), None, None)
    assert missing.queued == []
    assert "HTTP 404" in missing.problems[0]


async def test_a_crash_while_queueing_loses_and_repeats_nothing(
    site: Site, ingestor: Ingestor, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.pages["/ferry"] = Page(page(*FERRY))
    site.pages["/bridge"] = Page(page(*BRIDGE))
    feed = feed_of(
        site,
        "/rss",
        [Item(FERRY[0], site.url("/ferry"), "p-1"), Item(BRIDGE[0], site.url("/bridge"), "p-2")],
    )
    real = Queue.add_draft
    calls = []

    def dies_on_the_second(self: Queue, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("killed")  # the process dies between fetching and queueing
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Queue, "add_draft", dies_on_the_second)
    with pytest.raises(SystemExit):
        await ingestor.poll(feed)
    monkeypatch.setattr(Queue, "add_draft", real)
    assert [r.title for r in queue.listed()] == [FERRY[0]]
    # Restarted: the next poll queues the bridge story, and the ferry story is not queued again.
    again = await ingestor.poll(feed)
    assert [r.title for r in again.queued] == [BRIDGE[0]]
    assert [r.title for r in queue.listed()] == [FERRY[0], BRIDGE[0]]
    assert {r.revision for r in queue.listed()} == {1}


async def test_a_feed_in_a_declared_legacy_encoding_is_read(
    site: Site, ingestor: Ingestor, queue: Queue
) -> None:
    site.pages["/ferry"] = Page(page(*FERRY))
    body = rss([Item("Caf\u00e9 ferry", site.url("/ferry"), "p-1")]).replace(
        'encoding="utf-8"', 'encoding="iso-8859-1"'
    )
    site.pages["/rss"] = Page(
        body.encode("iso-8859-1"), content_type="application/rss+xml", charset=None
    )
    [entry] = parse_feed(body.encode("iso-8859-1"), site.url("/rss"), "application/rss+xml")
    assert entry.title == "Caf\u00e9 ferry"
    outcome = await ingestor.poll(FeedSpec(site.url("/rss"), "The Portwell Post"))
    assert outcome.problems == []
    assert [r.title for r in outcome.queued] == [FERRY[0]]
