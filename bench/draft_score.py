"""How well the drafter does against hand-made digests: ``python -m bench draft_score [NAME …]``.

Cases are the committed Kursk digest and every reference digest in tests/draft/fixtures/ (their
articles in ``articles/``), plus the texts in ``fixtures/not-news/``, which must be refused.
For each article it drafts the text and prints:

- figures: recall (reference figures the draft has: same value or range and a compatible unit)
  and precision (drafted figures that are reference figures);
- claimants: of the matched figures, the share credited to the reference's claimant (each
  drafted claimant is paired with the reference source whose name and role share most words);
- contested-wrong: matched figures that are one party's number in the reference (``status:
  claim``, or one of a contested pair: one label, two sources) but that the draft shows as a
  fact (``reported``, or credited to the publisher);
- places: recall by name (case, accents and words such as "province" folded), the median and
  largest coordinate error of matched places and how many are over 30 km off; reference places
  the draft lists as unresolved are counted apart;
- debris: drafted items quoting a furniture line (the reference's ``# debris:`` comments, and
  the loader's debris rule); quotes not verbatim; quotes cut mid-phrase (ending on "a", "the",
  "when" …); whether the draft passes the loader as emitted;
- time: ``cold`` is the first draft in a fresh process (gazetteer index already on disk),
  ``warm`` the second draft of the same text in that process.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.digest.load import DigestInvalid, load_digest
from bot.digest.model import Digest, Figure, Source
from bot.digest.text import is_debris, normalise
from bot.draft import Draft, DraftError, draft
from bot.draft.claimants import Claimant
from bot.draft.figures import FigureDraft
from bot.draft.geo import distance_km, fold_name
from bot.draft.text import wordlist

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "draft" / "fixtures"
NOT_NEWS = FIXTURES / "not-news"
CASES = {
    "kursk": ROOT / "digests" / "kursk-2024-08-09.yaml",
    **{path.stem: path for path in sorted(FIXTURES.glob("*.yaml"))},
}
HELD_OUT = frozenset({"quake", "football"})
"""References written after the drafter was tuned on the others: its unbiased scores."""
FAR_KM = 30.0
_UNIT_SYNONYMS = {
    "km": "kilometre",
    "kilometer": "kilometre",
    "mi": "mile",
    "percent": "%",
    "per cent": "%",
    "pound": "pound",
    "°c": "degree",
    "c": "degree",
}
_PLACE_WORDS = re.compile(
    r"\b(region|oblast|oblasts|province|district|state|county|regency|air base|airbase|airport"
    r"|city|town)\b"
)
_NAME_STOPWORDS = frozenset(
    wordlist("the a an of its their his her s country countrys said says and for in on at to")
)
_CUT_ENDINGS = frozenset(
    wordlist(
        "a an the when of to and or but with by from for in on at as that which who whose its "
        "their his her was were is are had has have be been"
    )
)


@dataclass
class Score:
    name: str
    figures_ref: int
    figures_draft: int
    figures_matched: int
    claimant_right: int
    contested_wrong: int
    status_agree: int
    places_ref: int
    places_draft: int
    places_matched: int
    places_unplaced: int
    place_errors_km: list[float]
    debris_items: int
    quotes_not_in_text: int
    quotes_cut: int
    loader_ok: bool
    loader_message: str
    summary_hit: int
    summary_ref: int
    missed_figures: list[str] = field(default_factory=list)
    extra_figures: list[str] = field(default_factory=list)
    wrong_claimants: list[str] = field(default_factory=list)
    missed_places: list[str] = field(default_factory=list)
    extra_places: list[str] = field(default_factory=list)
    far_places: list[str] = field(default_factory=list)
    cold_ms: float | None = None
    warm_ms: float | None = None

    @property
    def place_error_km(self) -> float | None:
        return statistics.median(self.place_errors_km) if self.place_errors_km else None

    @property
    def places_far(self) -> int:
        return sum(e > FAR_KM for e in self.place_errors_km)


def _unit_words(unit: str | None) -> set[str]:
    if not unit:
        return set()
    text = unit.lower()
    for old, new in _UNIT_SYNONYMS.items():
        text = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", new, text)
    words = set()
    for word in re.findall(r"[%°\w]+", text):
        words.add(word[:-1] if word.endswith("s") and len(word) > 3 else word)
    return words - {"of", "the", "from", "a", "below", "zero", "million", "billion", "trillion"}


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


def _name_words(*parts: str | None) -> set[str]:
    text = fold_name(" ".join(p for p in parts if p)).replace("'s", "")
    return {w for w in re.findall(r"[a-z0-9]+", text) if w not in _NAME_STOPWORDS}


def pair_claimants(sources: dict[str, Source], drafted: dict[str, Claimant]) -> dict[str, str]:
    """Each drafted claimant key → the reference source key it stands for ('' for none)."""
    publisher = next((k for k, s in sources.items() if s.kind == "publisher"), "")
    out: dict[str, str] = {}
    for key, claimant in drafted.items():
        if claimant.kind == "publisher":
            out[key] = publisher
            continue
        words = _name_words(claimant.name, claimant.role)
        best, best_score = "", 0.0
        for ref_key, source in sources.items():
            if source.kind == "publisher":
                continue
            ref_words = _name_words(source.name, source.role)
            shared = len(words & ref_words)
            score = shared / len(words | ref_words) if shared else 0.0
            if score > best_score:
                best, best_score = ref_key, score
        out[key] = best
    return out


def place_key(name: str) -> str:
    folded = fold_name(name)
    folded = _PLACE_WORDS.sub(" ", folded)
    folded = re.sub(r"(?<=[a-z])ye\b|(?<=sk)oye\b", "e", folded)
    return "".join(folded.split()).replace("y", "")


def _debris_lines(reference_path: Path) -> list[str]:
    lines = []
    for line in reference_path.read_text("utf-8").splitlines():
        if line.startswith("# debris: "):
            lines.append(json.loads(line.removeprefix("# debris: ")))
    return lines


def _contested_pairs(reference: Digest) -> set[int]:
    """Reference figures of one quantity given by two sources (the same label)."""
    sources: dict[str, set[str]] = {}
    for figure in reference.figures:
        sources.setdefault(figure.label.casefold(), set()).add(figure.source)
    return {n for n, f in enumerate(reference.figures) if len(sources[f.label.casefold()]) > 1}


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


def _draft(reference: Digest, text: str, stem: str) -> Draft:
    return draft(
        text,
        publisher=reference.article.publisher,
        published=reference.published,
        text_path=reference.article.text,
        headline=None,
        stem=stem,
    )


def _cut(quote: str) -> bool:
    words = re.findall(r"[\w']+", quote.lower())
    return bool(words) and words[-1] in _CUT_ENDINGS and not quote.rstrip().endswith((".", '"'))


def score(name: str, reference_path: Path) -> Score:
    loaded = load_digest(reference_path)
    reference = loaded.digest
    text = loaded.article_text()
    result = _draft(reference, text, loaded.article_path.stem)
    haystack = normalise(text)
    items = [*result.summary, *result.figures, *result.places]
    quotes = [i.quote for i in items]
    furniture = [normalise(line) for line in _debris_lines(reference_path)]
    debris_items = sum(
        is_debris(q) or any(normalise(q) in line or line in normalise(q) for line in furniture)
        for q in quotes
    )
    pairs = match_figures(reference.figures, result.figures)
    matched_ref = {r for r, _d in pairs}
    matched_draft = {d for _r, d in pairs}
    stands_for = pair_claimants(dict(reference.sources), result.sources)
    publisher = result.sources[next(iter(result.sources))].key
    claimant_right = contested_wrong = status_agree = 0
    paired = _contested_pairs(reference)
    wrong: list[str] = []
    for r, d in pairs:
        ref, fig = reference.figures[r], result.figures[d]
        status_agree += ref.status == fig.status
        if stands_for.get(fig.source) == ref.source:
            claimant_right += 1
        else:
            wrong.append(
                f"{fig.value()} {ref.label}: {result.sources[fig.source].name!r}, "
                f"not {reference.sources[ref.source].name!r}"
            )
        if ref.status == "claim" or r in paired:
            contested_wrong += fig.source == publisher or fig.status == "reported"
    ref_places = {place_key(p.name): p for p in reference.places}
    drafted = {place_key(p.name): p for p in result.places}
    unplaced = {place_key(u.name) for u in result.unresolved}
    matched_places = ref_places.keys() & drafted.keys()
    errors = {
        k: distance_km(ref_places[k].lat, ref_places[k].lon, drafted[k].lat, drafted[k].lon)
        for k in matched_places
    }
    ok, message = _loader(result, text)

    def fig(value: object, unit: str | None, label: str) -> str:
        return f"{value} {unit or ''} ({label})".replace("  ", " ")

    return Score(
        name=name,
        figures_ref=len(reference.figures),
        figures_draft=len(result.figures),
        figures_matched=len(pairs),
        claimant_right=claimant_right,
        contested_wrong=contested_wrong,
        status_agree=status_agree,
        places_ref=len(ref_places),
        places_draft=len(drafted),
        places_matched=len(matched_places),
        places_unplaced=len((ref_places.keys() - drafted.keys()) & unplaced),
        place_errors_km=list(errors.values()),
        debris_items=debris_items,
        quotes_not_in_text=sum(normalise(q) not in haystack for q in quotes),
        quotes_cut=sum(_cut(q) for q in quotes),
        loader_ok=ok,
        loader_message=message,
        summary_hit=_summary_hits(reference, result),
        summary_ref=len(reference.summary),
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
        wrong_claimants=wrong,
        missed_places=[p.name for k, p in ref_places.items() if k not in drafted],
        extra_places=[p.name for k, p in drafted.items() if k not in ref_places],
        far_places=[f"{ref_places[k].name} {e:.0f} km" for k, e in errors.items() if e > FAR_KM],
    )


def time_one(reference_path: Path) -> tuple[float, float]:
    """Milliseconds of the first and the second draft of one article in this process."""
    loaded = load_digest(reference_path)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        _draft(loaded.digest, loaded.article_text(), loaded.article_path.stem)
        times.append(1000 * (time.perf_counter() - started))
    return times[0], times[1]


def _timed(path: Path) -> tuple[float, float]:
    """``time_one`` in a fresh interpreter, so that the first draft is a cold one."""
    code = (
        "import json, sys; from pathlib import Path; from bench.draft_score import time_one; "
        "print(json.dumps(time_one(Path(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    cold, warm = json.loads(done.stdout.strip().splitlines()[-1])
    return float(cold), float(warm)


def not_news(path: Path) -> str:
    """'refused: …' when the drafter declines the text, else 'DRAFTED'."""
    try:
        draft(
            path.read_text("utf-8"),
            publisher="Desk",
            published=date(2024, 1, 1),
            text_path=f"articles/{path.name}",
        )
    except DraftError as exc:
        return f"refused: {exc}"
    return "DRAFTED"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "\u2013"


def report(scores: Sequence[Score], refusals: dict[str, str]) -> str:
    header = (
        f"{'article':<22}{'fig rec':>8}{'fig prec':>9}{'claimant':>9}{'contest!':>9}"
        f"{'place rec':>10}{'km med':>7}{'>30km':>6}{'debris':>7}{'quote!':>7}{'cut':>4}"
        f"{'loader':>7}{'cold ms':>8}{'warm ms':>8}"
    )
    lines = ["draft_score: the drafter against hand-made reference digests", header]

    def row(s: Score) -> str:
        name = f"{s.name}*" if s.name in HELD_OUT else s.name
        error = f"{s.place_error_km:.1f}" if s.place_error_km is not None else "\u2013"
        cold = f"{s.cold_ms:.0f}" if s.cold_ms is not None else "\u2013"
        warm = f"{s.warm_ms:.0f}" if s.warm_ms is not None else "\u2013"
        return (
            f"{name:<22}{_pct(s.figures_matched, s.figures_ref):>8}"
            f"{_pct(s.figures_matched, s.figures_draft):>9}"
            f"{_pct(s.claimant_right, s.figures_matched):>9}{s.contested_wrong:>9}"
            f"{_pct(s.places_matched, s.places_ref):>10}{error:>7}{s.places_far:>6}"
            f"{s.debris_items:>7}{s.quotes_not_in_text:>7}{s.quotes_cut:>4}"
            f"{'ok' if s.loader_ok else 'FAIL':>7}{cold:>8}{warm:>8}"
        )

    lines += [row(s) for s in scores]
    total = Score(
        name="TOTAL",
        figures_ref=sum(s.figures_ref for s in scores),
        figures_draft=sum(s.figures_draft for s in scores),
        figures_matched=sum(s.figures_matched for s in scores),
        claimant_right=sum(s.claimant_right for s in scores),
        contested_wrong=sum(s.contested_wrong for s in scores),
        status_agree=sum(s.status_agree for s in scores),
        places_ref=sum(s.places_ref for s in scores),
        places_draft=sum(s.places_draft for s in scores),
        places_matched=sum(s.places_matched for s in scores),
        places_unplaced=sum(s.places_unplaced for s in scores),
        place_errors_km=[e for s in scores for e in s.place_errors_km],
        debris_items=sum(s.debris_items for s in scores),
        quotes_not_in_text=sum(s.quotes_not_in_text for s in scores),
        quotes_cut=sum(s.quotes_cut for s in scores),
        loader_ok=all(s.loader_ok for s in scores),
        loader_message="",
        summary_hit=sum(s.summary_hit for s in scores),
        summary_ref=sum(s.summary_ref for s in scores),
    )
    colds = [s.cold_ms for s in scores if s.cold_ms is not None]
    warms = [s.warm_ms for s in scores if s.warm_ms is not None]
    total.cold_ms = statistics.median(colds) if colds else None
    total.warm_ms = statistics.median(warms) if warms else None
    lines.append(row(total))
    lines.append(
        "TOTAL times are medians; * held out: its reference was written after the drafter was tuned"
    )
    lines.append(
        f"figures {total.figures_matched}/{total.figures_ref} found, {total.figures_draft} "
        f"drafted, claimant right on {total.claimant_right}, status agrees on "
        f"{total.status_agree}; places {total.places_matched}/{total.places_ref} found, "
        f"{total.places_unplaced} more listed as unresolved; summary quotes proposed "
        f"{total.summary_hit}/{total.summary_ref}"
    )
    for text, outcome in refusals.items():
        lines.append(f"not news: {text}: {outcome}")
    lines.append("")
    for s in scores:
        lines.append(
            f"{s.name}: figures {s.figures_matched}/{s.figures_ref} found, {s.figures_draft} "
            f"drafted; places {s.places_matched}/{s.places_ref} found, {s.places_draft} drafted, "
            f"{s.places_unplaced} more listed as unresolved"
        )
        if not s.loader_ok:
            lines.append(f"  loader: {s.loader_message}")
        for title, items in (
            ("missed figures", s.missed_figures),
            ("extra figures", s.extra_figures),
            ("wrong claimants", s.wrong_claimants),
            ("missed places", s.missed_places),
            ("extra places", s.extra_places),
            ("places over 30 km off", s.far_places),
        ):
            if items:
                lines.append(f"  {title}: " + "; ".join(items))
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    timing = "--no-time" not in argv
    names = [a for a in argv if not a.startswith("--")] or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"error: no case {', '.join(unknown)} (cases: {', '.join(CASES)})", file=sys.stderr)
        raise SystemExit(2)
    scores = [score(name, CASES[name]) for name in names]
    if timing:
        for s in scores:
            s.cold_ms, s.warm_ms = _timed(CASES[s.name])
    refusals = {p.name: not_news(p) for p in sorted(NOT_NEWS.glob("*.txt"))}
    print(report(scores, refusals))


if __name__ == "__main__":
    main(sys.argv[1:])
