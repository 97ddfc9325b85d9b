"""How much of a hand-made digest the drafter finds: ``python -m bench draft_score [NAME …]``.

For each article with a reference digest (the committed Kursk digest, and the hand-written
references in tests/draft/fixtures/) it drafts the article and prints:

- figures: recall (share of the reference's figures the draft has: same value or range, and a
  compatible unit) and precision (share of the draft's figures that are in the reference);
- places: the same, matching names (case, accents, apostrophes and words such as "region",
  "oblast", "air base" folded); places the draft names but leaves unplaced are counted apart;
  for matched places, the median distance between draft and reference coordinates;
- quotes not in the text (must be 0), and whether the draft passes the official loader as emitted;
- status agreement on matched figures, and the share of reference summary points whose quote
  lies in a sentence the draft proposes.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.digest.load import DigestInvalid, load_digest
from bot.digest.model import Digest, Figure
from bot.digest.text import normalise
from bot.draft import Draft, draft
from bot.draft.figures import FigureDraft
from bot.draft.geo import distance_km, fold_name

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "draft" / "fixtures"
CASES = {
    "kursk": ROOT / "digests" / "kursk-2024-08-09.yaml",
    "council-budget": FIXTURES / "council-budget.yaml",
    "winter-storm": FIXTURES / "winter-storm.yaml",
    "carmaker-jobs": FIXTURES / "carmaker-jobs.yaml",
    "quake": FIXTURES / "quake.yaml",
    "football": FIXTURES / "football.yaml",
}
HELD_OUT = frozenset({"quake", "football"})
"""References written after the drafter was tuned on the others: its unbiased scores."""
_UNIT_SYNONYMS = {
    "km": "kilometre",
    "kilometer": "kilometre",
    "mi": "mile",
    "percent": "%",
    "per cent": "%",
    "pound": "pound",
    "°c": "degree",
}
_PLACE_WORDS = re.compile(
    r"\b(region|oblast|oblasts|province|district|air base|airbase|airport|city|town)\b"
)


@dataclass
class Score:
    name: str
    figures_ref: int
    figures_draft: int
    figures_matched: int
    status_agree: int
    places_ref: int
    places_draft: int
    places_matched: int
    places_unplaced: int
    place_error_km: float | None
    quotes_not_in_text: int
    loader_ok: bool
    loader_message: str
    summary_hit: int
    summary_ref: int
    seconds: float
    missed_figures: list[str]
    extra_figures: list[str]
    missed_places: list[str]
    extra_places: list[str]


def _unit_words(unit: str | None) -> set[str]:
    if not unit:
        return set()
    text = unit.lower()
    for old, new in _UNIT_SYNONYMS.items():
        text = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", new, text)
    words = set()
    for word in re.findall(r"[%°\w]+", text):
        words.add(word[:-1] if word.endswith("s") and len(word) > 3 else word)
    return words - {"of", "the", "from", "a", "below", "zero", "million", "billion"}


def units_compatible(a: str | None, b: str | None) -> bool:
    """Unit-ish equality: either missing or a shared word ("glide bombs" ~ "bombs")."""
    wa, wb = _unit_words(a), _unit_words(b)
    return not wa or not wb or bool(wa & wb)


def _same_numbers(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) < 1e-6 for x, y in zip(a, b, strict=True))


def match_figures(
    reference: Sequence[Figure], drafted: Sequence[FigureDraft]
) -> list[tuple[int, int]]:
    """One-to-one (reference, draft) index pairs: same numbers and a compatible unit; where
    several could pair, the pairs whose quotes share the most words go first."""
    triples: list[tuple[int, int, int]] = []
    for r, ref in enumerate(reference):
        for d, fig in enumerate(drafted):
            if not _same_numbers(ref.numbers, [float(v) for v in fig.values]):
                continue
            if not units_compatible(ref.unit, fig.unit):
                continue
            overlap = len(set(normalise(ref.quote).split()) & set(normalise(fig.quote).split()))
            triples.append((overlap, r, d))
    pairs: list[tuple[int, int]] = []
    used_ref: set[int] = set()
    used_draft: set[int] = set()
    for _overlap, r, d in sorted(triples, key=lambda t: (-t[0], t[1], t[2])):
        if r not in used_ref and d not in used_draft:
            used_ref.add(r)
            used_draft.add(d)
            pairs.append((r, d))
    return sorted(pairs)


def place_key(name: str) -> str:
    folded = fold_name(name)
    folded = _PLACE_WORDS.sub(" ", folded)
    folded = re.sub(r"(?<=[a-z])ye\b|(?<=sk)oye\b", "e", folded)
    return "".join(folded.split()).replace("y", "")


def _summary_hits(reference: Digest, result: Draft) -> int:
    texts = [normalise(s.text) for s in result.summary]
    return sum(any(normalise(p.quote) in t for t in texts) for p in reference.summary)


def _loader(result: Draft, article_text: str) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        article = base / result.text_path
        article.parent.mkdir(parents=True, exist_ok=True)
        article.write_text(article_text, encoding="utf-8")
        digest = base / "draft.yaml"
        digest.write_text(result.yaml(), encoding="utf-8")
        try:
            load_digest(digest)
        except DigestInvalid as exc:
            return False, str(exc.problems[0]) if exc.problems else "invalid"
    return True, ""


def score(name: str, reference_path: Path) -> Score:
    loaded = load_digest(reference_path)
    reference = loaded.digest
    text = loaded.article_text()
    started = time.perf_counter()
    result = draft(
        text,
        publisher=reference.article.publisher,
        published=reference.published,
        text_path=reference.article.text,
        headline=None,
        stem=loaded.article_path.stem,
    )
    seconds = time.perf_counter() - started
    haystack = normalise(text)
    quotes = [s.quote for s in result.summary] + [f.quote for f in result.figures]
    quotes += [p.quote for p in result.places]
    missing_quotes = sum(normalise(q) not in haystack for q in quotes)
    pairs = match_figures(reference.figures, result.figures)
    matched_ref = {r for r, _d in pairs}
    matched_draft = {d for _r, d in pairs}
    status_agree = sum(reference.figures[r].status == result.figures[d].status for r, d in pairs)
    ref_places = {place_key(p.name): p for p in reference.places}
    drafted = {place_key(p.name): p for p in result.places}
    unplaced = {place_key(u.name) for u in result.unresolved}
    errors = [
        distance_km(ref_places[k].lat, ref_places[k].lon, drafted[k].lat, drafted[k].lon)
        for k in ref_places.keys() & drafted.keys()
    ]
    ok, message = _loader(result, text)

    def fig(value: object, unit: str | None, label: str) -> str:
        return f"{value} {unit or ''} ({label})".replace("  ", " ")

    return Score(
        name=name,
        figures_ref=len(reference.figures),
        figures_draft=len(result.figures),
        figures_matched=len(pairs),
        status_agree=status_agree,
        places_ref=len(ref_places),
        places_draft=len(drafted),
        places_matched=len(ref_places.keys() & drafted.keys()),
        places_unplaced=len((ref_places.keys() - drafted.keys()) & unplaced),
        place_error_km=statistics.median(errors) if errors else None,
        quotes_not_in_text=missing_quotes,
        loader_ok=ok,
        loader_message=message,
        summary_hit=_summary_hits(reference, result),
        summary_ref=len(reference.summary),
        seconds=seconds,
        missed_figures=[
            fig(f.value, f.unit, f.label)
            for i, f in enumerate(reference.figures)
            if i not in matched_ref
        ],
        extra_figures=[
            fig(f.value(), f.unit, f.label)
            for i, f in enumerate(result.figures)
            if i not in matched_draft
        ],
        missed_places=[p.name for k, p in ref_places.items() if k not in drafted],
        extra_places=[p.name for k, p in drafted.items() if k not in ref_places],
    )


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    \u2013 "


def report(scores: Sequence[Score]) -> str:
    lines = [
        "draft_score: the drafter against hand-made reference digests",
        f"{'article':<16}{'fig recall':>12}{'fig prec':>12}{'place recall':>14}{'place prec':>12}"
        f"{'quotes!':>9}{'loader':>8}{'summary':>9}{'secs':>6}",
    ]
    for s in scores:
        name = f"{s.name}*" if s.name in HELD_OUT else s.name
        lines.append(
            f"{name:<16}"
            f"{_pct(s.figures_matched, s.figures_ref):>12}"
            f"{_pct(s.figures_matched, s.figures_draft):>12}"
            f"{_pct(s.places_matched, s.places_ref):>14}"
            f"{_pct(s.places_matched, s.places_draft):>12}"
            f"{s.quotes_not_in_text:>9}"
            f"{'ok' if s.loader_ok else 'FAIL':>8}"
            f"{f'{s.summary_hit}/{s.summary_ref}':>9}"
            f"{s.seconds:>6.1f}"
        )
    if any(s.name in HELD_OUT for s in scores):
        lines.append("* held out: its reference was written after the drafter was tuned")
    lines.append("")
    for s in scores:
        error = f"{s.place_error_km:.1f} km" if s.place_error_km is not None else "\u2013"
        lines.append(
            f"{s.name}: figures {s.figures_matched}/{s.figures_ref} found, "
            f"{s.figures_draft} drafted, status agrees on {s.status_agree}/{s.figures_matched}; "
            f"places {s.places_matched}/{s.places_ref} found, {s.places_draft} drafted, "
            f"{s.places_unplaced} more named but unplaced; median coordinate gap {error}"
        )
        if not s.loader_ok:
            lines.append(f"  loader: {s.loader_message}")
        for title, items in (
            ("missed figures", s.missed_figures),
            ("extra figures", s.extra_figures),
            ("missed places", s.missed_places),
            ("extra places", s.extra_places),
        ):
            if items:
                lines.append(f"  {title}: " + "; ".join(items))
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    names = argv or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"error: no case {', '.join(unknown)} (cases: {', '.join(CASES)})", file=sys.stderr)
        raise SystemExit(2)
    print(report([score(name, CASES[name]) for name in names]))


if __name__ == "__main__":
    main(sys.argv[1:])
