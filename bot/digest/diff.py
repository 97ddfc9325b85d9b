"""What changed between two versions of a digest, as the words of one ``corrections:`` entry.

Pure: two ``Digest`` values in, a list of short change lines out (empty when nothing a reader sees
changed). Items are matched by what identifies them to a reader (a figure by its label, a place
by its name, a summary point by its quote, else by its position), so a reordering is no change.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.digest.model import Correction, Digest, Figure, Place, SummaryPoint, fold

MAX_WHAT = 2000


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _amount(figure: Figure) -> str:
    if isinstance(figure.value, tuple):
        number = f"{_number(figure.value[0])}\u2013{_number(figure.value[1])}"
    else:
        number = _number(figure.value)
    return " ".join(w for w in (figure.qualifier or "", number, figure.unit or "") if w)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _quoted(text: str) -> str:
    return f"\u201c{_short(text)}\u201d"


def _figures(old: Digest, new: Digest) -> list[str]:
    out: list[str] = []
    before = {fold(f.label): f for f in old.figures}
    after = {fold(f.label): f for f in new.figures}
    for key, figure in after.items():
        was = before.get(key)
        if was is None:
            out.append(f"figure added: {figure.label}, {_amount(figure)}")
            continue
        if _amount(was) != _amount(figure):
            out.append(f"{figure.label}: {_amount(was)} \u2192 {_amount(figure)}")
        claimant_was = old.sources[was.source].name if was.source in old.sources else was.source
        claimant = new.sources[figure.source].name if figure.source in new.sources else ""
        if claimant_was != claimant:
            out.append(f"{figure.label}: claimed by {claimant_was} \u2192 {claimant}")
        if was.status != figure.status:
            out.append(f"{figure.label}: {was.status} \u2192 {figure.status}")
    out.extend(f"figure removed: {f.label}" for k, f in before.items() if k not in after)
    return out


def _summary(old: Digest, new: Digest) -> list[str]:
    out: list[str] = []
    by_quote = {p.quote: p for p in old.summary}
    quotes = {q.quote for q in new.summary}
    unmatched: list[SummaryPoint] = [p for p in old.summary if p.quote not in quotes]
    for point in new.summary:
        was = by_quote.get(point.quote)
        if was is None and unmatched:
            was = unmatched.pop(0)  # the same point re-quoted: a change of text, not add+remove
        if was is None:
            out.append(f"summary point added: {_short(point.text)}")
        elif was.text != point.text:
            out.append(f"summary point: {_quoted(was.text)} \u2192 {_quoted(point.text)}")
    out.extend(f"summary point removed: {_short(p.text)}" for p in unmatched)
    return out


def _places(old: Digest, new: Digest) -> list[str]:
    out: list[str] = []
    before = {fold(p.name): p for p in old.places}
    after = {fold(p.name): p for p in new.places}
    for key, place in after.items():
        was: Place | None = before.get(key)
        if was is None:
            out.append(f"place added: {place.name}")
        elif (was.lat, was.lon) != (place.lat, place.lon):
            out.append(f"{place.name}: moved to {place.lat:.2f}, {place.lon:.2f}")
        elif was.what != place.what:
            out.append(f"{place.name}: {_short(place.what)}")
    out.extend(f"place removed: {p.name}" for k, p in before.items() if k not in after)
    return out


def changes(old: Digest, new: Digest) -> list[str]:
    """One line per change a reader would see; ``[]`` when the two read the same."""
    return _figures(old, new) + _summary(old, new) + _places(old, new)


def correction(old: Digest, new: Digest, at: datetime) -> Correction | None:
    """The ``corrections:`` entry for going from ``old`` to ``new``, or None if nothing changed."""
    lines = changes(old, new)
    if not lines:
        return None
    what = "; ".join(lines)
    if len(what) > MAX_WHAT:
        what = what[: MAX_WHAT - 1] + "\u2026"
    return Correction(at=at, what=what)


def correction_line(entry: Correction) -> str:
    """``Corrected 9 Aug 2024 14:05 UTC: …`` — the same words under /summary and on edited posts."""
    at = entry.at.astimezone(UTC)
    return f"Corrected {at.day} {at:%b %Y %H:%M} UTC: {entry.what}"
