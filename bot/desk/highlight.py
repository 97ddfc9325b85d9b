"""The article text cut into segments, each knowing which items quote it.

Quotes are found the way the loader finds them (whitespace and typographic quotes folded), but
the segments keep the article's own characters, so the page shows the text exactly as written
and every quote as a ``<mark>`` over its original words.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from bot.digest.text import _TYPOGRAPHIC


@dataclass(frozen=True)
class Segment:
    text: str
    items: tuple[str, ...] = ()
    """Anchors of the items whose quote covers this text (the first is the link target)."""
    starts: tuple[str, ...] = ()
    """Anchors of the items whose quote begins here."""


@functools.lru_cache(maxsize=256)
def _folded(text: str) -> tuple[str, tuple[int, ...]]:
    """The loader's normalised text, and for each of its characters the index it came from.

    Cached: the same article is folded on every view of its digest or draft."""
    out: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text.translate(_TYPOGRAPHIC)):
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                where.append(index)
            continue
        out.append(char)
        where.append(index)
    return "".join(out), tuple(where)


def spans(article: str, quotes: Sequence[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """``{anchor: (start, end)}`` in ``article`` for each (anchor, quote) found verbatim."""
    folded, where = _folded(article)
    found: dict[str, tuple[int, int]] = {}
    for anchor, quote in quotes:
        needle, _ = _folded(quote.strip())
        needle = needle.strip()
        at = folded.find(needle) if needle else -1
        if at >= 0:
            found[anchor] = (where[at], where[at + len(needle) - 1] + 1)
    return found


def segments(article: str, quotes: Sequence[tuple[str, str]]) -> list[Segment]:
    found = spans(article, quotes)
    cuts = sorted({0, len(article), *(i for span in found.values() for i in span)})
    out: list[Segment] = []
    for start, end in itertools.pairwise(cuts):
        covering = tuple(a for a, (s, e) in found.items() if s <= start and end <= e)
        beginning = tuple(a for a, (s, _) in found.items() if s == start)
        out.append(Segment(article[start:end], covering, beginning))
    return out
