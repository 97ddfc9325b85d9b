"""Whole drafts: the Kursk article and the fixture articles, with the real offline gazetteer.

These read GeoNames through the on-disk gazetteer index (built once, about 8 s, then reused).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from bench.draft_score import CASES, score
from bot.digest.load import load_digest
from bot.digest.text import is_debris, normalise
from bot.draft import Draft, DraftError, draft
from tests.draft.conftest import FIXTURES, KURSK_ARTICLE, KURSK_DIGEST, quick

KURSK_TEXT = KURSK_ARTICLE.read_text("utf-8")


@pytest.fixture(scope="module")
def kursk() -> Draft:
    return draft(
        KURSK_TEXT,
        publisher="The Telegraph",
        published=date(2024, 8, 9),
        text_path="articles/kursk-2024-08-09.txt",
        stem="kursk-2024-08-09",
    )


def test_kursk_draft_passes_the_official_loader_unchanged(kursk: Draft, tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    shutil.copy(KURSK_ARTICLE, tmp_path / "articles" / KURSK_ARTICLE.name)
    path = tmp_path / "kursk.yaml"
    path.write_text(kursk.yaml(), "utf-8")
    loaded = load_digest(path)
    assert loaded.digest == kursk.digest()
    assert kursk.dropped == []


def test_the_yaml_is_the_data(kursk: Draft) -> None:
    assert yaml.safe_load(kursk.yaml()) == kursk.data()


def test_drafting_is_deterministic(kursk: Draft) -> None:
    again = draft(
        KURSK_TEXT,
        publisher="The Telegraph",
        published=date(2024, 8, 9),
        text_path="articles/kursk-2024-08-09.txt",
        stem="kursk-2024-08-09",
    )
    assert again.yaml() == kursk.yaml()


def test_kursk_header_and_sources(kursk: Draft) -> None:
    data = kursk.data()
    assert data["schema"] == 1 and data["id"] == "kursk-2024-08-09"
    assert data["title"] == "Russia sends reinforcements to retake Kursk"
    assert data["article"] == {
        "publisher": "The Telegraph",
        "headline": "Russia sends reinforcements to retake Kursk",
        "url": None,
        "text": "articles/kursk-2024-08-09.txt",
    }
    sides = {s["name"]: s.get("side") for s in data["sources"].values()}
    assert sides["Russia\u2019s defence ministry"] == "Russia"
    assert sides["Volodymyr Zelensky"] == "Ukraine"
    assert sides["Britain\u2019s Ministry of Defence"] is None


def test_kursk_claims_name_their_claimant(kursk: Draft) -> None:
    by_value = {f.values: f for f in kursk.figures}
    soldiers = by_value[(945,)]
    assert (soldiers.qualifier, soldiers.unit, soldiers.status) == ("up to", "soldiers", "claim")
    assert kursk.sources[soldiers.source].name == "Russia\u2019s defence ministry"
    assert by_value[(200, 490)].status == "claim"
    assert by_value[(15,)].status == "reported"


def test_kursk_unresolved_place_is_a_comment(kursk: Draft) -> None:
    text = kursk.yaml()
    assert "#   - Oktyabr\u2019skoe:" in text
    assert all("Oktyabr" not in p.name for p in kursk.places)
    assert "GeoNames (https://www.geonames.org), CC BY 4.0" in text


def test_no_item_is_debris_or_off_text(kursk: Draft) -> None:
    haystack = normalise(KURSK_TEXT)
    for item in [*kursk.summary, *kursk.figures, *kursk.places]:
        assert normalise(item.quote) in haystack
        assert not is_debris(item.quote)
    assert "Click here" not in kursk.yaml().split("sources:")[1]


def test_kursk_meets_the_targets() -> None:
    result = score("kursk", KURSK_DIGEST)  # the tests' own copy, not digests/
    assert result.figures_matched / result.figures_ref >= 0.9
    assert result.places_matched / result.places_ref >= 0.85
    assert result.quotes_not_in_text == 0 and result.loader_ok


@pytest.mark.parametrize("name", ["council-budget", "winter-storm", "carmaker-jobs"])
def test_fixture_articles_draft_cleanly(name: str) -> None:
    result = score(name, CASES[name])
    assert result.loader_ok, result.loader_message
    assert result.quotes_not_in_text == 0
    assert result.figures_matched / result.figures_ref >= 0.8
    assert result.places_matched / result.places_ref >= 0.6


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.yaml")))
def test_every_fixture_draft_holds_the_schema(name: str) -> None:
    """``draft()`` does not validate against the pydantic schema (it would double its cold
    start): the schema holds by construction, and this is where that is checked."""
    reference = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text("utf-8"))
    result = draft(
        (FIXTURES / reference["article"]["text"]).read_text("utf-8"),
        publisher=reference["article"]["publisher"],
        published=reference["published"],
        text_path=reference["article"]["text"],
        stem=name,
    )
    assert result.digest().id == name  # pydantic's ValidationError if not


def test_fixture_debris_never_becomes_an_item() -> None:
    text = (FIXTURES / "articles" / "council-budget.txt").read_text("utf-8")
    result = draft(
        text, publisher="Courier", published=date(2024, 2, 22), text_path="articles/c.txt"
    )
    items = " ".join(
        f"{i.quote} {getattr(i, 'text', '')} {getattr(i, 'name', '')}"
        for i in [*result.summary, *result.figures, *result.places]
    )
    for debris in ("Share this", "Read more", "Bradford", "Harrogate", "Wakefield", "Related"):
        assert debris not in items
    assert "Bradford schools face \u00a38m shortfall" in result.debris


def test_only_debris_is_a_draft_error() -> None:
    with pytest.raises(DraftError):
        quick("Headline\nClick here to view this content.\nShare this article\n")
    with pytest.raises(DraftError):
        quick("")
