"""The item rules in bot.digest.checks: one copy, used by the loader and by the drafter."""

from __future__ import annotations

from bot.digest.checks import digest_findings, duplicate_places, item_findings
from bot.digest.load import load_digest
from bot.digest.model import Figure, Place, SummaryPoint
from bot.digest.text import normalise
from tests.draft.conftest import KURSK_DIGEST

ARTICLE = normalise(
    "Floods killed at least 19 people in Bandung.\nClick here to view this content."
)


def test_a_sound_item_has_no_findings() -> None:
    figure = Figure(
        label="People killed",
        value=19,
        qualifier="at least",
        unit="people",
        status="reported",
        source="desk",
        quote="killed at least 19 people",
    )
    assert item_findings(figure, {"desk"}, ARTICLE) == []


def test_each_rule_names_its_field() -> None:
    figure = Figure(
        label="People killed",
        value=20,
        unit="people",
        status="reported",
        source="agency",
        quote="killed at least 19 people",
    )
    assert item_findings(figure, {"desk"}, ARTICLE) == [
        (("source",), "no source 'agency' (sources: desk)"),
        (("value",), "20 does not appear in the quote"),
    ]
    point = SummaryPoint(text="Floods.", source="desk", quote="Floods killed 20 people")
    assert item_findings(point, {"desk"}, ARTICLE) == [
        (("quote",), "not found verbatim in the article: 'Floods killed 20 people'"),
    ]
    debris = SummaryPoint(text="More.", source="desk", quote="Click here to view this content.")
    assert item_findings(debris, {"desk"}, ARTICLE) == [
        (("quote",), "scraping debris cannot be an item")
    ]


def test_a_place_name_used_twice_is_reported_at_the_second() -> None:
    place = Place(name="Bandung", lat=-6.9, lon=107.6, what="Floods.", source="desk", quote="x")
    again = place.model_copy(update={"name": "bandung"})
    assert duplicate_places([place, again]) == [((1, "name"), "'bandung' is already places[0]")]


def test_digest_findings_carry_the_full_path() -> None:
    loaded = load_digest(KURSK_DIGEST)
    digest, text = loaded.digest, loaded.article_text()
    assert digest_findings(digest, text) == []
    broken = digest.model_copy(
        update={"figures": (digest.figures[0].model_copy(update={"value": 123456}),)}
    )
    assert digest_findings(broken, text) == [
        (("figures", 0, "value"), "123456 does not appear in the quote")
    ]
