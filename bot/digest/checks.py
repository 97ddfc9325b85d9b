"""The rules every digest item obeys, beyond its schema: one copy for two callers.

The loader reports each broken rule as a ``FILE:LINE: field: problem`` line; the drafter drops
an item that breaks one, so a draft passes ``check`` as emitted. Both call the functions here,
so the two can never disagree about what a valid item is. The rules themselves (``findings``)
take an item's parts, not a model: the drafter checks its drafts before any model exists, and
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


def findings(
    source: str,
    quote: str,
    text: str,
    numbers: Sequence[float],
    sources: Collection[str],
    haystack: str,
) -> list[Finding]:
    """What is wrong with one item, from its parts: unknown source, debris, quote not verbatim,
    a number missing from the quote. ``text`` is what the item says in its own words (a summary
    point's text, a figure's label, a place's name and description); ``numbers`` a figure's
    values. ``haystack`` is the article text already passed through ``normalise``.
    """
    found: list[Finding] = []
    if source not in sources:
        known = ", ".join(sorted(sources))
        found.append((("source",), f"no source '{source}' (sources: {known})"))
    if is_debris(quote):
        found.append((("quote",), "scraping debris cannot be an item"))
    elif normalise(quote) not in haystack:
        found.append((("quote",), f"not found verbatim in the article: {quote!r}"))
    for number in numbers:
        if not has_number(quote, number):
            found.append((("value",), f"{number:g} does not appear in the quote"))
    if text and is_debris(text):
        found.append(((), "scraping debris cannot be an item"))
    return found


def item_findings(item: Item, sources: Collection[str], haystack: str) -> list[Finding]:
    """``findings`` of a loaded item (a summary point, figure or place)."""
    from bot.digest.model import Figure, Place, SummaryPoint  # loaded: ``item`` is one of them

    text = ""
    numbers: tuple[float, ...] = ()
    if isinstance(item, SummaryPoint):
        text = item.text
    elif isinstance(item, Place):
        text = f"{item.name} {item.what}"
    elif isinstance(item, Figure):
        text, numbers = item.label, item.numbers
    return findings(item.source, item.quote, text, numbers, sources, haystack)


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
