"""RSS and Atom → ``Entry`` values (feedparser), from bytes already fetched.

feedparser is handed a stream, never a string: given a string it would open URLs and files on its
own, past the fetcher's limits. A body that is not a feed at all (HTML, JSON, a broken document
with no entries) is a ``FeedError``; a feed with small flaws that still yields entries is read.
"""

from __future__ import annotations

import calendar
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser


class FeedError(Exception):
    """One line: why this document is not a feed we can read."""


@dataclass(frozen=True)
class Entry:
    guid: str | None
    link: str | None
    title: str
    published: datetime | None
    updated: datetime | None
    summary: str = ""

    @property
    def version(self) -> str:
        """Changes when the publisher says the entry changed (its updated time)."""
        stamp = self.updated or self.published
        return stamp.isoformat() if stamp else ""


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), UTC)


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> list[Entry]:
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if not parsed.entries:
        if parsed.get("bozo"):
            problem = parsed.get("bozo_exception")
            raise FeedError(f"{url}: not a readable RSS/Atom feed (not XML: {problem})")
        if not parsed.get("version"):
            raise FeedError(f"{url}: not an RSS or Atom feed")
        return []
    entries: list[Entry] = []
    for item in parsed.entries:
        link = item.get("link") or None
        guid = item.get("id") or None
        if link is None and guid is None:
            continue  # nothing to fetch and nothing to know it again by
        entries.append(
            Entry(
                guid=guid,
                link=link,
                title=" ".join(str(item.get("title", "")).split()),
                published=_time(item.get("published_parsed")),
                updated=_time(dict.get(item, "updated_parsed")),  # no published fallback
                summary=str(item.get("summary", "")),
            )
        )
    return entries
