"""Arbitrary text never crashes the drafter, and never yields a quote that is not in the text."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.digest.model import Digest
from bot.digest.text import has_number, is_debris, normalise
from bot.draft import DraftError, draft
from tests.draft.conftest import KURSK_ARTICLE, FakeGazetteer, entry

GAZETTEER = FakeGazetteer(
    [
        entry("Kursk", 51.727, 36.185, "RU", 448_733),
        entry("Korenevo", 51.411, 34.900, "RU", 6_236),
        entry("Pokrovsk", 48.280, 37.177, "UA", 60_127),
        entry("Leeds", 53.797, -1.548, "GB", 536_280),
    ]
)
KURSK_LINES = KURSK_ARTICLE.read_text("utf-8").splitlines()
news_lines = st.sampled_from(KURSK_LINES) | st.sampled_from(
    [
        "Click here to view this content.",
        "Read more: something else",
        "Related articles",
        "The GMB union claimed that up to 400 jobs were at risk in Leeds.",
        "\u201cIt is over,\u201d she said. \u201cTruly.",
        "between 5 and 10, 3-4, 2-1, £1.2m, 4.99%, minus 10C, 130-mile, a 67-year-old",
        "",
    ]
)
fragments = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80) | news_lines
articles = st.lists(fragments, max_size=12).map("\n".join)


def check(text: str) -> None:
    try:
        result = draft(
            text,
            publisher="The Courier",
            published=date(2024, 8, 9),
            text_path="articles/a.txt",
            gazetteer=GAZETTEER,
        )
    except DraftError:
        return
    Digest.model_validate(result.data())
    haystack = normalise(text)
    for item in [*result.summary, *result.figures, *result.places]:
        assert item.quote and normalise(item.quote) in haystack
        assert not is_debris(item.quote)
    for figure in result.figures:
        assert all(has_number(figure.quote, float(v)) for v in figure.values)
    assert result.dropped == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles)
def test_newsy_text(text: str) -> None:
    check(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text(text: str) -> None:
    check(text)
