"""Draft a schema-1 digest from an article's text: ``draft(...)`` → ``Draft`` → ``.yaml()``.

The draft holds what the extractors found, each item with a verbatim quote and its claimant.
Before it is returned every item is checked as the loader will check it (quote verbatim after
whitespace and typographic-quote folding, numbers in the quote, no debris, known source, unique
place names) and the whole is validated against the schema; an item that would fail is dropped,
so the draft passes ``python -m bot check`` as emitted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from bot.digest.checks import duplicate_places, item_findings
from bot.digest.model import SLUG, Digest, Figure, Item, Place, SummaryPoint, fold
from bot.digest.text import normalise
from bot.draft import emit
from bot.draft.claimants import Claimant, attribute, slug
from bot.draft.figures import FigureDraft, find_figures
from bot.draft.geo import CREDIT, Gazetteer, GeonamesGazetteer
from bot.draft.newsy import not_news
from bot.draft.places import PlaceDraft, Unresolved, resolve
from bot.draft.summary import SummaryDraft, find_summary
from bot.draft.text import read_article, wordlist

_GENERIC_STEMS = frozenset(wordlist("new article draft text untitled story copy input"))


class DraftError(Exception):
    """The article cannot be drafted (nothing but debris, no sentences); a one-line message."""


class NotNews(DraftError):
    """The text does not read like a news article; ``force=True`` drafts it anyway."""


@dataclass
class Draft:
    id: str
    title: str
    published: date
    publisher: str
    headline: str
    url: str | None
    text_path: str
    sources: dict[str, Claimant]
    summary: list[SummaryDraft]
    figures: list[FigureDraft]
    places: list[PlaceDraft]
    unresolved: list[Unresolved] = field(default_factory=list)
    debris: tuple[str, ...] = ()
    dropped: list[str] = field(default_factory=list)
    """Items removed because they would fail the loader (should stay empty; for tests)."""
    warning: str | None = None
    """Why the text may not be news (drafted anyway, with ``force``)."""

    def data(self) -> dict[str, Any]:
        """The digest as plain data (what ``yaml.safe_load`` of ``yaml()`` returns)."""
        return {
            "schema": 1,
            "id": self.id,
            "title": self.title,
            "published": self.published,
            "article": {
                "publisher": self.publisher,
                "headline": self.headline,
                "url": self.url,
                "text": self.text_path,
            },
            "sources": {key: c.source() for key, c in self.sources.items()},
            "summary": [_summary_fields(s) for s in self.summary],
            "figures": [_figure_fields(f) for f in self.figures],
            "places": [_place_fields(p) for p in self.places],
        }

    def digest(self) -> Digest:
        return Digest.model_validate(self.data())

    def yaml(self) -> str:
        return render(self)


def _summary_fields(item: SummaryDraft) -> dict[str, Any]:
    return {"text": item.text, "source": item.source, "quote": item.quote}


def _figure_fields(item: FigureDraft) -> dict[str, Any]:
    return _drop_none(
        {
            "label": item.label,
            "value": item.value(),
            "qualifier": item.qualifier,
            "unit": item.unit,
            "status": item.status,
            "note": item.note,
            "source": item.source,
            "quote": item.quote,
        }
    )


def _place_fields(item: PlaceDraft) -> dict[str, Any]:
    return _drop_none(
        {
            "name": item.name,
            "region": item.region,
            "lat": item.lat,
            "lon": item.lon,
            "what": item.what,
            "note": item.note,
            "source": item.source,
            "quote": item.quote,
        }
    )


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def digest_id(stem: str | None, headline: str, published: date) -> str:
    """A slug from the article's file name, or from the headline and date when that is generic."""
    candidate = slug(stem, limit=80) if stem else ""
    if candidate and candidate not in _GENERIC_STEMS and re.fullmatch(SLUG, candidate):
        return candidate
    words = slug(headline, limit=60) or "digest"
    return f"{words}-{published.isoformat()}"


@dataclass(frozen=True)
class _Context:
    """What every item is checked against, and where the reasons for drops go."""

    sources: Collection[str]
    haystack: str
    dropped: list[str]


def _checked(
    kind: str, model: type[Item], fields: dict[str, Any], context: _Context
) -> Item | None:
    """The item when it passes the schema and the loader's item rules; else None, saying why."""
    quote = str(fields.get("quote", ""))[:80]
    try:
        item = model.model_validate(fields)
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        context.dropped.append(f"{kind}: {problem}: {quote!r}")
        return None
    findings = item_findings(item, context.sources, context.haystack)
    for where, message in findings:
        context.dropped.append(f"{kind}: {'.'.join(map(str, where)) or 'item'}: {message}")
    return None if findings else item


def draft(
    text: str,
    *,
    publisher: str,
    published: date,
    text_path: str,
    headline: str | None = None,
    url: str | None = None,
    id: str | None = None,
    stem: str | None = None,
    gazetteer: Gazetteer | None = None,
    force: bool = False,
) -> Draft:
    """Draft a digest of ``text`` (the article as saved, headline first unless given).

    A text that does not read like news (a README, a recipe) raises ``NotNews`` unless
    ``force``; the draft then carries a warning at its top.
    """
    article = read_article(text, headline)
    if not article.sentences:
        raise DraftError("found no article sentences to draft from (only a headline or debris)")
    doubt = not_news(article)
    if doubt and not force:
        raise NotNews(f"this does not read like a news article: {doubt}; --force drafts it anyway")
    claimants = attribute(article, publisher)
    figures = find_figures(article, claimants)
    places, unresolved = resolve(article, claimants, publisher, gazetteer or GeonamesGazetteer())
    weight: Counter[int] = Counter(f.sentence for f in figures)
    weight.update(p.sentence for p in places)
    summary = find_summary(article, claimants, weight)
    context = _Context(claimants.by_key, normalise(text), [])
    summary = [s for s in summary if _checked("summary", SummaryPoint, _summary_fields(s), context)]
    figures = [f for f in figures if _checked("figure", Figure, _figure_fields(f), context)]
    checked = [(p, _checked("place", Place, _place_fields(p), context)) for p in places]
    valid = [(p, item) for p, item in checked if isinstance(item, Place) and fold(p.name)]
    repeated = {where[0] for where, _message in duplicate_places([item for _p, item in valid])}
    unique = [p for index, (p, _item) in enumerate(valid) if index not in repeated]
    if not summary:
        raise DraftError("found no sentence that could be a summary point")
    used = {s.source for s in summary} | {f.source for f in figures} | {p.source for p in unique}
    sources = {
        key: c for key, c in claimants.by_key.items() if key in used or c is claimants.publisher
    }
    result = Draft(
        id=id or digest_id(stem, article.headline, published),
        title=(article.headline or publisher)[:2000],
        published=published,
        publisher=publisher,
        headline=(headline or article.headline or publisher)[:2000],
        url=url,
        text_path=text_path,
        sources=sources,
        summary=summary,
        figures=figures,
        places=unique,
        unresolved=unresolved,
        debris=article.debris,
        dropped=context.dropped,
        warning=f"not news? {doubt}" if doubt else None,
    )
    result.digest()  # schema check: raises pydantic's ValidationError on a drafter bug
    return result


_HEADER = """\
Draft digest of {text}, made by `digest-bot draft`. Review it before committing:
every summary point, label, status, source and place below is a first guess from the text.
Comments marked "review:" need a look; "claim:" figures rest on one party's word.
Trim what the digest does not need; `digest-bot check FILE` verifies what is left.
Place coordinates: {credit}."""


def render(result: Draft) -> str:
    """The draft as YAML text with comments (see ``bot.draft.emit``)."""
    data = result.data()
    lines = [
        emit.comment(line)
        for line in _HEADER.format(text=result.text_path, credit=CREDIT).splitlines()
    ]
    if result.warning:
        lines.append(emit.comment(f"WARNING: {result.warning}"))
    lines += emit.mapping_lines({k: data[k] for k in ("schema", "id", "title", "published")}, 0)
    lines.append("article:")
    lines += emit.mapping_lines(data["article"], 2, keep_none=True)
    if result.debris:
        lines.append("")
        count = len(result.debris)
        lines.append(
            emit.comment(
                f"Set aside as scraping debris ({count} line{'s' if count != 1 else ''}, "
                f"never items): {_sample(result.debris)}"
            )
        )
    lines.append("")
    lines.append("sources:")
    for key, claimant in result.sources.items():
        lines.append(f"  {key}:")
        lines += emit.mapping_lines(claimant.source(), 4)
    lines.append("")
    lines.append("summary:")
    lines.append(
        emit.comment(
            "review: one candidate sentence per thread of the article, verbatim; "
            "rewrite each text as a short point and keep the quote",
            2,
        )
    )
    for point in result.summary:
        lines += emit.item_lines(_summary_fields(point), point.comments)
    lines.append("")
    lines.append("figures:" + (" []" if not result.figures else ""))
    for figure in result.figures:
        lines += emit.item_lines(_figure_fields(figure), figure.comments)
    lines.append("")
    lines.append("places:" + (" []" if not result.places else ""))
    for place in result.places:
        lines += emit.item_lines(_place_fields(place), place.comments)
    if result.unresolved:
        lines.append(
            emit.comment(
                "unresolved: not placed, because the offline gazetteer has no fitting entry; "
                "add them by hand with coordinates, or leave them out"
            )
        )
        for item in result.unresolved:
            lines.append(emit.comment(f"  - {item.name}: {item.reason}"))
            lines.append(emit.comment(f"    quote: {emit.quoted(item.quote)}"))
    return "\n".join(lines) + "\n"


def _sample(lines: tuple[str, ...]) -> str:
    distinct = list(dict.fromkeys(lines))
    shown = "; ".join(emit.quoted(line[:60]) for line in distinct[:3])
    return shown + (" …" if len(distinct) > 3 else "")


__all__ = ["Draft", "DraftError", "NotNews", "digest_id", "draft", "render"]
