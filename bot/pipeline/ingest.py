"""Feed entries and pages → extracted articles → drafts in the review queue, deduplicated.

An entry is known again by its GUID, its link, or (after fetching) the hash of its text, so the
same story arriving through two feeds is one story with one draft. A known entry whose feed says
it was updated is fetched again (conditionally); if its text changed, the story gets a new
revision, flagged "article updated". Every failure — a feed that is not a feed, a page that is
not HTML or holds no article, an oversized answer, a redirect loop, a timeout, undecodable text —
is one line in the log and in ``review list`` (recorded once, not once per poll), and the rest of
the feed goes on.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.draft.core import DraftError, digest_id, draft
from bot.draft.geo import Gazetteer
from bot.pipeline.extract import Extracted, ExtractError, extract, is_html
from bot.pipeline.feeds import Entry, FeedError, parse_feed
from bot.pipeline.fetch import Fetched, Fetcher, FetchError, decode
from bot.pipeline.queue import DraftRow, FeedState, NewStory, Queue, utcnow

log = logging.getLogger(__name__)

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/xml",
    "text/xml",
    "application/rdf+xml",
)


class IngestError(Exception):
    """One line: what could not be ingested and why."""


@dataclass(frozen=True)
class FeedSpec:
    url: str
    publisher: str
    every: timedelta = timedelta(minutes=15)


@dataclass
class Outcome:
    """What one poll or one ingest did: drafts queued, entries already known, problems."""

    queued: list[DraftRow] = field(default_factory=list)
    known: int = 0
    problems: list[str] = field(default_factory=list)


def normal_link(url: str) -> str:
    """Scheme and host lower-cased, fragment and trailing slash dropped: one story, one link."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def text_hash(text: str) -> str:
    """Of the words only: re-wrapped or re-spaced text is the same article."""
    words = re.sub(r"\W+", " ", text.casefold()).split()
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def _keys(entry: Entry | None, link: str | None) -> list[str]:
    out: list[str] = []
    if entry is not None and entry.guid:
        out.append(f"guid:{entry.guid}"[:2100])
    if link:
        out.append(f"link:{normal_link(link)}"[:2100])
    return out


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


class Ingestor:
    """Owns nothing but its collaborators: the queue (state), the fetcher, the digests folder."""

    def __init__(
        self,
        queue: Queue,
        fetcher: Fetcher,
        folder: Path,
        *,
        expire: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] = utcnow,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self.gazetteer = gazetteer
        """None: the drafter's own (GeoNames, offline; about 2-3 s a draft, see the benchmark)."""
        self.queue = queue
        self.fetcher = fetcher
        self.folder = folder
        self.expire = expire
        self.clock = clock
        self._story_lock = asyncio.Lock()

    # -- problems: once in the log, always in `review list` -------------------------------------
    async def _problem(self, where: str, message: str, outcome: Outcome) -> None:
        outcome.problems.append(message)
        if await asyncio.to_thread(self.queue.note_problem, where, message, self.clock()):
            log.warning("%s", message)

    async def _solved(self, where: str) -> None:
        if await asyncio.to_thread(self.queue.clear_problem, where):
            log.info("%s works again", where)

    # -- feeds --------------------------------------------------------------------------------
    async def poll(self, feed: FeedSpec) -> Outcome:
        """Fetch the feed (conditionally) and queue its new or changed entries."""
        outcome = Outcome()
        state = await asyncio.to_thread(self.queue.feed, feed.url)
        now = self.clock()
        try:
            fetched = await self.fetcher.get(
                feed.url, etag=state.etag, last_modified=state.last_modified
            )
            entries = [] if fetched.not_modified else self._entries(fetched)
        except (FetchError, FeedError) as exc:
            failed = FeedState(feed.url, state.etag, state.last_modified, now, state.failures + 1)
            await asyncio.to_thread(self.queue.save_feed, failed)
            await self._problem(feed.url, f"feed {exc}", outcome)
            return outcome
        await self._solved(feed.url)
        for entry in entries:
            await self.entry(entry, feed.publisher, outcome)
        # An entry that failed must be tried again next time, so the feed is then read in full
        # (no validators): a 304 would hide the entry until the publisher changed the feed.
        keep = not outcome.problems
        etag = (fetched.etag or state.etag) if keep else None
        modified = (fetched.last_modified or state.last_modified) if keep else None
        await asyncio.to_thread(self.queue.save_feed, FeedState(feed.url, etag, modified, now, 0))
        return outcome

    def _entries(self, fetched: Fetched) -> list[Entry]:
        return parse_feed(fetched.body, fetched.url, fetched.content_type)

    def backoff(self, feed: FeedSpec, failures: int) -> timedelta:
        """After failures the feed is polled less often: doubling, at most 6 h (never stopped)."""
        if failures <= 0:
            return feed.every
        longer: timedelta = feed.every * 2 ** min(failures, 10)
        return min(longer, max(feed.every, timedelta(hours=6)))

    # -- one entry ----------------------------------------------------------------------------
    async def entry(
        self,
        entry: Entry,
        publisher: str,
        outcome: Outcome,
        published: date | None = None,
    ) -> None:
        candidates = _keys(entry, entry.link)
        found = await asyncio.to_thread(self.queue.find, candidates)
        if found is not None:
            story_id, version = found
            if version == entry.version or not entry.link:
                await asyncio.to_thread(self.queue.remember, story_id, candidates, version)
                outcome.known += 1
                return
            await self._recheck(story_id, entry, candidates, outcome)
            return
        if not entry.link:
            return
        try:
            fetched = await self.fetcher.get(entry.link)
            article = await asyncio.to_thread(self._article, fetched, entry.title)
        except (FetchError, ExtractError) as exc:
            await self._problem(entry.link, f"page {exc}", outcome)
            return
        day = published or (entry.published.date() if entry.published else None)
        await self._queue(article, publisher, fetched, candidates, entry.version, day, outcome)
        await self._solved(entry.link)

    async def _recheck(
        self, story_id: int, entry: Entry, candidates: list[str], outcome: Outcome
    ) -> None:
        """The feed says the entry changed: fetch the page again and compare the text."""
        assert entry.link is not None
        story = await asyncio.to_thread(self.queue.story, story_id)
        try:
            fetched = await self.fetcher.get(
                entry.link, etag=story["page_etag"], last_modified=story["page_last_modified"]
            )
            if fetched.not_modified:
                await asyncio.to_thread(self.queue.remember, story_id, candidates, entry.version)
                outcome.known += 1
                return
            article = await asyncio.to_thread(self._article, fetched, entry.title)
        except (FetchError, ExtractError) as exc:
            await self._problem(entry.link, f"page {exc}", outcome)
            return
        day = entry.published.date() if entry.published else None
        await self._queue(
            article, story["publisher"], fetched, candidates, entry.version, day, outcome
        )
        await self._solved(entry.link)

    def _article(self, fetched: Fetched, title: str) -> Extracted:
        text = decode(fetched)
        if not is_html(fetched.content_type, text):
            kind = fetched.content_type or "no Content-Type"
            raise ExtractError(f"{fetched.url}: not an HTML page ({kind})")
        return extract(text, fetched.url, fallback_title=title)

    # -- drafting and queueing ----------------------------------------------------------------
    async def _queue(
        self,
        article: Extracted,
        publisher: str,
        fetched: Fetched | None,
        candidates: list[str],
        version: str,
        published: date | None,
        outcome: Outcome,
    ) -> None:
        url = fetched.url if fetched is not None else None
        where = url or article.headline
        async with self._story_lock:  # one story per article even when entries race
            try:
                row = await asyncio.to_thread(
                    self._add, article, publisher, url, candidates, version, published
                )
            except (DraftError, IngestError) as exc:
                await self._problem(where, f"draft {where}: {exc}", outcome)
                return
        if row is None:
            outcome.known += 1
            return
        if fetched is not None and row.story_id:
            await asyncio.to_thread(
                self.queue.set_page_validators, row.story_id, fetched.etag, fetched.last_modified
            )
        outcome.queued.append(row)
        log.info(
            "queued draft %d: %s (%s)%s",
            row.id,
            row.title,
            row.digest_id,
            f" — {row.flag}" if row.flag else "",
        )

    def _add(
        self,
        article: Extracted,
        publisher: str,
        url: str | None,
        candidates: Sequence[str],
        version: str,
        published: date | None,
    ) -> DraftRow | None:
        """Blocking: dedup by hash, save the text, draft it, queue it. None: nothing new.

        The keys and the entry's version are recorded with the draft, in one transaction."""
        saved = article.saved()
        digest_hash = text_hash(saved)
        all_keys = [*candidates, f"hash:{digest_hash}"]
        found = self.queue.find(all_keys)
        now = self.clock()
        if found is not None:
            story_id = found[0]
            latest = self.queue.latest(story_id)
            if latest is not None and latest.text_hash == digest_hash:
                self.queue.remember(story_id, all_keys, version)
                return None  # the same text: through another feed, or an unchanged update
            story = self.queue.story(story_id)
            ident = str(story["digest_id"])
        day = published or article.published or now.date()
        if found is None:
            story_id = 0
            ident = self._free_id(digest_id(None, article.headline, day))
        revision = self.queue.next_revision(story_id) if story_id else 1
        relative = f"articles/{ident}.r{revision}.txt"
        result = draft(
            saved,
            publisher=publisher,
            published=day,
            text_path=relative,
            headline=article.headline,
            url=url,
            id=ident,
            gazetteer=self.gazetteer,
        )
        _atomic_write(self.folder / relative, saved)
        return self.queue.add_draft(
            story_id or NewStory(ident, publisher, url),
            revision,
            yaml=result.yaml(),
            article=relative,
            text_hash=digest_hash,
            title=result.title,
            now=now,
            expire=self.expire,
            remember=all_keys,
            version=version,
        )

    def _free_id(self, wanted: str) -> str:
        """A digest id no story and no digest file uses yet (-2, -3, … appended when taken)."""
        candidate, n = wanted, 1
        while self.queue.digest_taken(candidate) or (self.folder / f"{candidate}.yaml").exists():
            n += 1
            suffix = f"-{n}"
            candidate = wanted[: 80 - len(suffix)] + suffix
        return candidate

    # -- one-off ingest -----------------------------------------------------------------------
    async def ingest_url(self, url: str, publisher: str | None, published: date | None) -> Outcome:
        """A page or a feed: a feed's entries are queued under its publisher (or ``publisher``)."""
        outcome = Outcome()
        try:
            fetched = await self.fetcher.get(url)
        except FetchError as exc:
            await self._problem(url, str(exc), outcome)
            return outcome
        if fetched.content_type in FEED_TYPES or fetched.body.lstrip()[:5] == b"<?xml":
            try:
                entries = self._entries(fetched)
            except FeedError as exc:
                await self._problem(url, f"feed {exc}", outcome)
                return outcome
            for entry in entries:
                await self.entry(
                    entry, publisher or urlsplit(url).hostname or url, outcome, published
                )
            return outcome
        try:
            article = await asyncio.to_thread(self._article, fetched, "")
        except (FetchError, ExtractError) as exc:
            await self._problem(url, f"page {exc}", outcome)
            return outcome
        name = publisher or urlsplit(fetched.url).hostname or "unknown publisher"
        await self._queue(article, name, fetched, _keys(None, url), "", published, outcome)
        return outcome

    async def ingest_file(self, path: Path, publisher: str, published: date | None) -> Outcome:
        """A saved article: plain text (headline first) or an HTML page."""
        outcome = Outcome()
        try:
            raw = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise IngestError(f"cannot read {path}: {exc.strerror or exc}") from None
        uri = (await asyncio.to_thread(path.resolve)).as_uri()  # a relative path has no URI
        fetched = Fetched(url=uri, status=200, body=raw)
        try:
            text = decode(fetched)
            if is_html("", text) or path.suffix.lower() in (".html", ".htm"):
                article = await asyncio.to_thread(extract, text, str(path))
            else:
                headline, _, body = text.strip().partition("\n")
                if len(body.strip()) < 200:
                    raise ExtractError(f"{path}: no article text (headline first, then the text)")
                article = Extracted(" ".join(headline.split()), body.strip())
        except (FetchError, ExtractError) as exc:
            raise IngestError(str(exc).replace(uri, str(path))) from None
        await self._queue(article, publisher, None, [], "", published, outcome)
        return outcome
