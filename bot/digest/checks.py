"""The rules every digest item obeys, beyond its schema: one copy for two callers.

The loader reports each broken rule as a ``FILE:LINE: field: problem`` line; the drafter drops
an item that breaks one, so a draft passes ``check`` as emitted. Both call the functions here,
so the two can never disagree about what a valid item is. They read an item through the
``Checked`` protocol, not the model: the drafter checks its drafts before any model exists, and
``digest-bot draft`` starts without loading pydantic.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Protocol

from bot.digest.text import fold, has_number, is_debris, normalise

if TYPE_CHECKING:
    from bot.digest.model import Digest, Item

Where = tuple[str | int, ...]
"""A field path ("figures", 3, "value"); an item's findings are relative to the item."""
Finding = tuple[Where, str]


class Checked(Protocol):
    """An item as the rules see it: a loaded summary point, figure or place, or a draft of one."""

    @property
    def source(self) -> str: ...
    @property
    def quote(self) -> str: ...
    @property
    def words(self) -> str:
        """What it says in its own words: a summary point's text, a figure's label, a place's
        name and description (the debris rule reads it)."""

    @property
    def numbers(self) -> Sequence[float]:
        """What its quote must contain: a figure's values."""


def item_findings(item: Checked, sources: Collection[str], haystack: str) -> list[Finding]:
    """What is wrong with one item: unknown source, debris, quote not verbatim, number missing.

    ``haystack`` is the article text already passed through ``normalise``.
    """
    found: list[Finding] = []
    if item.source not in sources:
        known = ", ".join(sorted(sources))
        found.append((("source",), f"no source '{item.source}' (sources: {known})"))
    if is_debris(item.quote):
        found.append((("quote",), "scraping debris cannot be an item"))
    elif normalise(item.quote) not in haystack:
        found.append((("quote",), f"not found verbatim in the article: {item.quote!r}"))
    for number in item.numbers:
        if not has_number(item.quote, number):
            found.append((("value",), f"{number:g} does not appear in the quote"))
    if item.words and is_debris(item.words):
        found.append(((), "scraping debris cannot be an item"))
    return found


class Named(Protocol):
    @property
    def name(self) -> str: ...


def duplicate_places(places: Sequence[Named]) -> list[Finding]:
    """A place name used twice (case and punctuation folded), reported at the later one."""
    found: list[Finding] = []
    names: dict[str, int] = {}
    for index, place in enumerate(places):
        key = fold(place.name)
        if key in names:
            found.append(((index, "name"), f"'{place.name}' is already places[{names[key]}]"))
        names.setdefault(key, index)
    return found


def digest_findings(digest: Digest, article: str) -> list[Finding]:
    """Every rule that needs the article or several fields, over the whole digest."""
    haystack = normalise(article)
    found: list[Finding] = []
    groups: list[tuple[str, tuple[Item, ...]]] = [
        ("summary", digest.summary),
        ("figures", digest.figures),
        ("places", digest.places),
    ]
    for group, items in groups:
        for index, item in enumerate(items):
            for where, message in item_findings(item, digest.sources, haystack):
                found.append(((group, index, *where), message))
    found += [(("places", *where), message) for where, message in duplicate_places(digest.places)]
    return found
