"""Which digests a schedule posts: ``only: {tags: [...], words: [...]}``, as a pure predicate.

Tags match the digest's ``tags:`` exactly; words match whole words (or phrases) anywhere in
the digest's own text (its title, headline and items; a phrase within one of them),
case-insensitively. A digest passes when it has *any* of the tags and
contains *any* of the words; a filter with only tags (or only words) checks only that. No
filter (the default) passes everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.digest.model import TAG, Digest

WORD_MAX = 60
ITEMS_MAX = 20


class FilterError(ValueError):
    """One line: what is wrong with an ``only:`` filter and what would work."""


@dataclass(frozen=True)
class Only:
    tags: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for tag in self.tags:
            if not re.fullmatch(TAG, tag):
                raise FilterError(
                    f"only.tags: '{tag}' is not a tag (lowercase letters, digits and '-')"
                )
        for word in self.words:
            if not word.strip() or len(word) > WORD_MAX:
                raise FilterError(f"only.words: '{word}' must be 1 to {WORD_MAX} characters")
        if len(self.tags) > ITEMS_MAX or len(self.words) > ITEMS_MAX:
            raise FilterError(f"only: at most {ITEMS_MAX} tags and {ITEMS_MAX} words")

    @property
    def empty(self) -> bool:
        return not self.tags and not self.words

    def matches(self, digest: Digest) -> bool:
        if self.tags and not set(self.tags) & set(digest.tags):
            return False
        if self.words:
            texts = [text.casefold() for text in _texts(digest)]
            patterns = [_word(word) for word in self.words]
            return any(p.search(text) for p in patterns for text in texts)
        return True

    def describe(self) -> str:
        """For ``/schedule list``: ``only tags ukraine, russia; words drone``."""
        parts = []
        if self.tags:
            parts.append("tags " + ", ".join(self.tags))
        if self.words:
            parts.append("words " + ", ".join(f'"{w}"' if " " in w else w for w in self.words))
        return "only " + "; ".join(parts) if parts else "every digest"

    def to_json(self) -> dict[str, list[str]]:
        return {"tags": list(self.tags), "words": list(self.words)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Only:
        if not data:
            return cls()
        unknown = set(data) - {"tags", "words"}
        if unknown:
            raise FilterError(f"only: unknown key '{sorted(unknown)[0]}' (use tags and words)")
        return cls(tags=_strings(data, "tags"), words=_strings(data, "words"))

    @classmethod
    def parse(cls, tags: str | None, words: str | None) -> Only:
        """From chat options: comma-separated lists (``tags:ukraine,russia words:drone``)."""
        return cls(tags=_split(tags), words=_split(words))


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FilterError(f"only.{key}: a list of text, like [ukraine, russia]")
    return tuple(value)


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _word(word: str) -> re.Pattern[str]:
    phrase = r"\s+".join(re.escape(part) for part in word.casefold().split())
    return re.compile(rf"(?<!\w){phrase}(?!\w)")


def _texts(digest: Digest) -> Iterator[str]:
    yield digest.title
    yield digest.article.headline
    for point in digest.summary:
        yield from (point.text, point.quote)
    for figure in digest.figures:
        yield from (figure.label, figure.unit or "", figure.note or "", figure.quote)
    for place in digest.places:
        yield from (place.name, place.region or "", place.what, place.quote)
