"""The rules every digest item obeys, beyond its schema: one copy for two callers.

The loader reports each broken rule as a ``FILE:LINE: field: problem`` line; the drafter drops
an item that breaks one, so a draft passes ``check`` as emitted. Both call the functions here,
so the two can never disagree about what a valid item is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.digest.model import Digest, Figure, Item, Place, SummaryPoint, fold
from bot.digest.text import has_number, is_debris, normalise

Where = tuple[str | int, ...]
"""A field path ("figures", 3, "value"); an item's findings are relative to the item."""
Finding = tuple[Where, str]


def item_findings(item: Item, sources: Collection[str], haystack: str) -> list[Finding]:
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
    text = item.text if isinstance(item, SummaryPoint) else ""
    if isinstance(item, Place):
        text = f"{item.name} {item.what}"
    if isinstance(item, Figure):
        text = item.label
        for number in item.numbers:
            if not has_number(item.quote, number):
                found.append((("value",), f"{number:g} does not appear in the quote"))
    if text and is_debris(text):
        found.append(((), "scraping debris cannot be an item"))
    return found


def duplicate_places(places: Sequence[Place]) -> list[Finding]:
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
