"""An article page (HTML) → its headline and text (trafilatura), as the drafter reads them.

The saved text is the headline on the first line, a blank line, then the article's paragraphs:
exactly what ``python -m bot draft`` expects, so a queued draft's quotes are found in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import trafilatura

MIN_TEXT = 200
"""Fewer characters than this is a teaser, a paywall or an index page, not an article."""
HTML_TYPES = ("text/html", "application/xhtml+xml")


class ExtractError(Exception):
    """One line: why this page yields no article."""


@dataclass(frozen=True)
class Extracted:
    headline: str
    text: str
    published: date | None = None

    def saved(self) -> str:
        """The article file's content: headline first, as the drafter reads it."""
        body = self.text
        first, _, rest = body.partition("\n")
        if first.strip() == self.headline:
            body = rest.lstrip("\n")  # trafilatura often repeats the <h1> as the first line
        return f"{self.headline}\n\n{body.strip()}\n"


def is_html(content_type: str, text: str) -> bool:
    if content_type in HTML_TYPES:
        return True
    head = text.lstrip()[:512].lower()
    return head.startswith(("<!doctype html", "<html")) and content_type in ("", "text/plain")


def extract(html: str, url: str, *, fallback_title: str = "") -> Extracted:
    """Raise ``ExtractError`` when the page holds no article text."""
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
    )
    text = str(getattr(document, "text", None) or "") if document is not None else ""
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if len(text) < MIN_TEXT:
        found = f"{len(text)} characters" if text else "nothing"
        raise ExtractError(f"{url}: no article text on the page (found {found})")
    title = str(getattr(document, "title", None) or fallback_title or "").strip()
    headline = " ".join(title.split()) or " ".join(text.split("\n", 1)[0].split())
    published: date | None = None
    raw = getattr(document, "date", None)
    if raw:
        try:
            published = date.fromisoformat(str(raw)[:10])
        except ValueError:
            published = None
    return Extracted(headline=headline[:300], text=text, published=published)
