"""Content builders: a digest (and what to show of it) → a ``Reply``, every item with its source.

The commands call them after reading a request; a scheduled post calls them directly, so a post
is the same ``Reply`` as /summary. A builder raises ``UserError`` for what it cannot show.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Sequence

from bot.commands.base import MapSource, UserError
from bot.digest.model import Digest, Figure, Item, Place, fold
from bot.reply import Attribution, Line, Picture, Reply, Section

log = logging.getLogger(__name__)


def attribution(digest: Digest, item: Item) -> Attribution:
    source = digest.sources[item.source]
    return Attribution(
        claimant=source.name,
        publisher=digest.article.publisher,
        published=digest.published,
        url=digest.article.url,
    )


def _line(digest: Digest, item: Item, text: str, quotes: bool) -> Line:
    return Line(text=text, source=attribution(digest, item), quote=item.quote if quotes else None)


_FRACTION_WORDS = {0.5: "half", 0.25: "a quarter", 0.75: "three quarters"}


def _number(value: float) -> str:
    if value in _FRACTION_WORDS:
        return _FRACTION_WORDS[value]
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def amount(figure: Figure) -> str:
    if isinstance(figure.value, tuple):
        low, high = figure.value
        number = f"{_number(low)}\u2013{_number(high)}"
    else:
        number = _number(figure.value)
    words = [figure.qualifier or "", number, figure.unit or ""]
    return " ".join(w for w in words if w)


def figure_text(digest: Digest, figure: Figure) -> str:
    """A claim names its claimant in the sentence itself, never only in the source line."""
    claimant = digest.sources[figure.source].name
    text = f"{figure.label}: {amount(figure)}"
    if figure.status == "claim":
        text = f"Claimed by {claimant}: {figure.label}, {amount(figure)}"
    elif figure.status == "estimate":
        text = f"{text} (estimate by {claimant})"
    if figure.note:
        text = f"{text} ({figure.note})"
    return text + ("" if text.endswith((".", ")")) else ".")


def place_text(place: Place, detailed: bool = False) -> str:
    where = f"{place.name} ({place.region})" if place.region else place.name
    text = f"{where}: {place.what}"
    if detailed:
        ns = "N" if place.lat >= 0 else "S"
        ew = "E" if place.lon >= 0 else "W"
        text += f" ({abs(place.lat):.2f}° {ns}, {abs(place.lon):.2f}° {ew})"
        if place.note:
            text += f". Note: {place.note}"
    return text


def suggestion(word: str, choices: Sequence[str]) -> str:
    """' — did you mean X?' for the closest choice (whole name or one of its words), else ''."""
    keys: dict[str, str] = {}
    for choice in choices:
        keys.setdefault(fold(choice), choice)
        for part in re.split(r"[\s-]+", choice):
            if len(part) >= 4:
                keys.setdefault(fold(part), choice)
    hit = difflib.get_close_matches(fold(word), list(keys), n=1, cutoff=0.6)
    return f" — did you mean {keys[hit[0]]}?" if hit else ""


def find_place(digest: Digest, name: str) -> Place:
    wanted = fold(name)
    for place in digest.places:
        if fold(place.name) == wanted:
            return place
    starts = [p for p in digest.places if fold(p.name).startswith(wanted) and wanted]
    if len(starts) == 1:
        return starts[0]
    names = [p.name for p in digest.places]
    hint = suggestion(name, names) or (f" — places: {', '.join(names)}" if names else "")
    raise UserError(f"no place '{name}'{hint}")


def mentions(digest: Digest, place: Place) -> list[Item]:
    """Summary points and figures whose words name the place."""
    keys = {fold(place.name)}
    first = place.name.split()[0]
    if len(first) >= 4:
        keys.add(fold(first))
    found: list[Item] = []
    for item in (*digest.summary, *digest.figures):
        words = fold(f"{getattr(item, 'text', '')} {getattr(item, 'label', '')} {item.quote}")
        if any(key in words for key in keys):
            found.append(item)
    return found


def item_text(digest: Digest, item: Item) -> str:
    if isinstance(item, Figure):
        return figure_text(digest, item)
    if isinstance(item, Place):
        return place_text(item)
    return str(getattr(item, "text", item.quote))


# -- the builders -----------------------------------------------------------------------------


def summary(digest: Digest, points: int | None = None, *, quotes: bool = False) -> Reply:
    total = len(digest.summary)
    shown = total if points is None else min(points, total)
    lines = tuple(_line(digest, p, p.text, quotes) for p in digest.summary[:shown])
    note = f"{shown} of {total} points — /summary {total} for all" if shown < total else None
    return Reply(
        title=digest.title,
        sections=(Section(None, lines),),
        note=note,
        url=digest.article.url,
    )


def figures(digest: Digest, query: str = "", *, quotes: bool = False) -> Reply:
    found: Sequence[Figure] = digest.figures
    if query.strip():
        needle = fold(query)
        found = [
            f
            for f in digest.figures
            if needle in fold(f.label)
            or needle in fold(f.unit or "")
            or needle in fold(digest.sources[f.source].name)
            or needle in fold(f.quote)
        ]
        if not found:
            labels = [f.label for f in digest.figures]
            hint = suggestion(query, labels) or " — /figures with no query lists them all"
            raise UserError(f"no figure matches '{query}'{hint}")
    if not found:
        raise UserError(f"digest '{digest.id}' has no figures")
    lines = tuple(_line(digest, f, figure_text(digest, f), quotes) for f in found)
    note = f"{len(found)} of {len(digest.figures)} figures match '{query}'" if query else None
    return Reply(
        title=f"{digest.title} — figures",
        sections=(Section(None, lines),),
        note=note,
        url=digest.article.url,
    )


def places(
    digest: Digest,
    focus: Place | None = None,
    *,
    quotes: bool = False,
    maps: MapSource | None = None,
) -> Reply:
    """The places (or one of them and what the digest says about it), with the map if ``maps``."""
    if not digest.places:
        raise UserError(f"digest '{digest.id}' names no places")
    sections: tuple[Section, ...]
    if focus is None:
        lines = tuple(_line(digest, p, place_text(p), quotes) for p in digest.places)
        sections = (Section(None, lines),)
        title = f"{digest.title} — places"
    else:
        detail = _line(digest, focus, place_text(focus, detailed=True), quotes)
        related = tuple(
            _line(digest, item, item_text(digest, item), quotes) for item in mentions(digest, focus)
        )
        sections = (Section(None, (detail,)),)
        if related:
            sections += (Section(f"What the digest says about {focus.name}", related),)
        title = f"{focus.name} — {digest.title}"
    picture = None
    note = None
    if maps is not None:
        try:
            path = maps.picture(digest, focus)
        except Exception:  # the places answer stands without its map
            log.exception("map for %s (%s) failed", digest.id, focus.name if focus else "all")
            note = "The map could not be drawn this time; the places are listed below."
        else:
            picture = Picture(path=path, alt=maps.describe(digest, focus))
    return Reply(title=title, sections=sections, picture=picture, note=note, url=digest.article.url)


def sources(digest: Digest, *, quotes: bool = False) -> Reply:
    sections: list[Section] = []
    items: list[Item] = [*digest.summary, *digest.figures, *digest.places]
    for key, source in digest.sources.items():
        own = [i for i in items if i.source == key]
        if not own:
            continue
        extra = ", ".join(x for x in (source.kind, source.side and f"side: {source.side}") if x)
        heading = f"{source.name} ({extra}) — {len(own)} item{'s' if len(own) != 1 else ''}"
        lines = tuple(_line(digest, i, item_text(digest, i), quotes) for i in own)
        sections.append(Section(heading, lines))
    return Reply(
        title=f"{digest.title} — sources", sections=tuple(sections), url=digest.article.url
    )


_HEADINGS = {"summary": "Summary", "figures": "Figures", "places": "Places"}


def post(digest: Digest, parts: Sequence[str], maps: MapSource | None = None) -> Reply:
    """A scheduled post: the same Reply as /summary, then the other parts asked for.

    A part the digest has nothing for (no figures, no places) is left out by decision; a post
    with nothing at all to show raises ``UserError``. ``map`` attaches the /where map.
    """
    replies: list[tuple[str, Reply]] = []
    for part in parts:
        if part == "summary":
            replies.append((part, summary(digest)))
        elif part == "figures" and digest.figures:
            replies.append((part, figures(digest)))
        elif part == "places" and digest.places:
            replies.append((part, places(digest)))
    if not replies:
        raise UserError(f"digest '{digest.id}' has none of {', '.join(parts)} to post")
    picture = None
    if "map" in parts and maps is not None and digest.places:
        picture = places(digest, maps=maps).picture
    first = replies[0][1]
    if len(replies) == 1:
        return Reply(title=first.title, sections=first.sections, url=first.url, picture=picture)
    sections = tuple(
        Section(_HEADINGS[part] if not s.heading else f"{_HEADINGS[part]}: {s.heading}", s.lines)
        for part, reply in replies
        for s in reply.sections
    )
    return Reply(title=first.title, sections=sections, url=first.url, picture=picture)
