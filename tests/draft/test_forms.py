"""The forms of news writing issue 12 lists: one small article (written here) per form."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.draft import Draft, NotNews, draft
from bot.draft.claimants import attribute
from bot.draft.figures import find_figures
from bot.draft.text import read_article
from tests.draft.conftest import FakeGazetteer, entry, quick


def figures(text: str, publisher: str = "The Courier") -> list[dict[str, Any]]:
    article = read_article("Headline\n" + text)
    claimants = attribute(article, publisher)
    return [
        {
            "value": f.value(),
            "unit": f.unit,
            "label": f.label,
            "status": f.status,
            "source": claimants.by_key[f.source].name,
            "qualifier": f.qualifier,
        }
        for f in find_figures(article, claimants)
    ]


def by_value(text: str, publisher: str = "The Courier") -> dict[Any, dict[str, Any]]:
    return {str(f["value"]): f for f in figures(text, publisher)}


# attribution


@pytest.mark.parametrize(
    ("text", "claimant"),
    [
        ("Rescuers found 31 bodies, the state news agency said.", "state news agency"),
        ("Turnout was 43%, the electoral commission said Tuesday.", "electoral commission"),
        ("The toll rose to 12, the ministry said on Friday.", "ministry"),
        ("Some 40 homes burned, officials told a news agency.", "officials"),
        ("The health agency on Monday confirmed 31 deaths.", "health agency"),
        ("The WHO on Monday confirmed 19 deaths.", "WHO"),
        ("The survey put the magnitude at 5.7.", "survey"),
        ("The utility reported 21,300 outages.", "utility"),
        ("The carmaker said profit fell to £310m.", "carmaker"),
        ("Electricity demand hit 8,300 megawatts, the city's power distributor said.", None),
        ("More than 300 houses were damaged, the agency said, and 1,500 people fled.", "agency"),
    ],
)
def test_attribution_forms_name_their_claimant(text: str, claimant: str | None) -> None:
    found = figures(text)
    assert found
    expected = claimant or "city's power distributor"
    assert all(f["source"] == expected for f in found), found


def test_each_clause_keeps_its_own_claimant_in_a_contested_pair() -> None:
    found = figures(
        "Indonesia's meteorology agency, BMKG, put the magnitude at 6.1, but the US "
        "Geological Survey measured it at 5.6."
    )
    pairs = {(f["value"], f["source"], f["status"]) for f in found}
    assert pairs == {
        (6.1, "Indonesia's meteorology agency", "claim"),
        (5.6, "US Geological Survey", "claim"),
    }
    assert all(f["unit"] == "magnitude" for f in found)


def test_the_organisers_and_the_ministry_are_both_claims_in_a_protest() -> None:
    found = by_value(
        "Thousands marched against the bill in a protest on Sunday.\n"
        "The organisers said more than 50,000 people had joined the march, while the interior "
        "ministry put the crowd at about 12,000.\n"
        "The opposition said at least 120 people were hurt.\n"
    )
    assert found["50000"]["source"] == "organisers" and found["50000"]["status"] == "claim"
    assert found["12000"]["source"] == "interior ministry"
    assert found["12000"]["status"] == "claim" and found["12000"]["qualifier"] == "about"
    assert found["120"]["source"] == "opposition" and found["120"]["status"] == "claim"


def test_a_described_group_named_later_is_one_source() -> None:
    result = quick(
        "Strikes\nAir strikes on the city killed at least 34 people, a prominent rights group "
        "said on Saturday.\nThe Syrian Observatory for Human Rights, a Britain-based monitor, "
        "said 11 of the dead were children.\n"
    )
    names = {c.name for k, c in result.sources.items() if c.kind != "publisher"}
    assert names == {"Syrian Observatory for Human Rights"}
    observatory = next(c for c in result.sources.values() if c.kind != "publisher")
    assert "prominent rights group" in (observatory.role or "")


def test_an_acronym_is_the_organisation_it_abbreviates() -> None:
    result = quick(
        "Floods\nThe National Disaster Management Authority said 48 people had died.\n"
        "The NDMA said more than 3,400 homes had been damaged.\n"
    )
    sources = {f.source for f in result.figures}
    assert len(sources) == 1
    assert result.sources[sources.pop()].name == "National Disaster Management Authority"


def test_a_number_describing_the_speaker_is_the_papers() -> None:
    found = by_value(
        "Elsewhere, the US retailer Walmart, valued at more than $1.2tn, said it would cut "
        "1,500 jobs."
    )
    assert found["1.2"]["source"] == "The Courier"
    assert found["1500"]["source"] == "Walmart"


# numbers


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("Sales rose to £12bn.", 12, "billion pounds"),
        ("Sales rose to £12billion.", 12, "billion pounds"),
        ("The group is valued at $1.2tn.", 1.2, "trillion dollars"),
        ("Its share of the market rose to 23%.", 23, "%"),
        ("It made landfall as a Category 3 storm.", 3, "category"),
        ("One woman died in hospital.", 1, "woman"),
        ("The party won a fifth term in office.", 5, "term"),
        ("The new rules took effect, bringing the toll to eight.", 8, "deaths"),
    ],
)
def test_number_forms(text: str, value: float, unit: str) -> None:
    found = figures(text)
    assert [(f["value"], f["unit"]) for f in found] == [(value, unit)], found


def test_out_of_gives_both_numbers_with_their_unit() -> None:
    found = figures("The utility said 2.1 million out of its 4 million customers lost power.")
    assert [(f["value"], f["unit"]) for f in found] == [
        (2_100_000, "customers"),
        (4_000_000, "customers"),
    ]


def test_a_list_gives_one_figure_per_item() -> None:
    found = figures(
        "The utility reported 21,300 outages in one county, 8,450 in the next and 40,120 in "
        "the third."
    )
    assert [(f["value"], f["unit"]) for f in found] == [
        (21300, "outages"),
        (8450, "outages"),
        (40120, "outages"),
    ]


def test_partitives_count_what_they_name() -> None:
    found = figures(
        "Floods killed 48 people, 29 of them in Sindh province.\n"
        "Eight of them were children.\n"
        "The union said 3,000 of its members would strike.\n"
    )
    assert [(f["value"], f["unit"]) for f in found] == [
        (48, "people"),
        (29, "people"),
        (8, "children"),
        (3000, "members"),
    ]
    assert found[1]["label"] == "People in Sindh province"


def test_less_than_is_flagged_not_silently_up_to() -> None:
    result = quick("Outage\nCrews expected to restore power in less than 48 hours on Monday.\n")
    [hours] = result.figures
    assert (hours.values, hours.qualifier) == ((48,), None)
    assert hours.note == "The article says \u201cless than\u201d."
    assert any("less than" in c for c in hours.comments)
    assert result.digest().figures[0].note == hours.note


# sport


def test_a_score_line_and_minutes_are_figures() -> None:
    found = figures(
        "Bukayo Saka scored in the 92nd minute as Arsenal beat Chelsea 2-1 on Sunday.\n"
        "Cole Palmer equalised in first-half stoppage time (45+2).\n"
    )
    got = {(f["label"], f["value"], f["unit"]) for f in found}
    assert ("Arsenal goals", 2, "goals") in got and ("Chelsea goals", 1, "goals") in got
    assert ("Minute", 92, "minute") in got and ("Minute (45+2)", 45, "minute") in got


def test_clubs_are_not_places_in_a_sports_report() -> None:
    gazetteer = FakeGazetteer(
        [
            entry("Chelsea", 51.49, -0.17, "GB", 100_000),
            entry("Middlesbrough", 54.57, -1.23, "GB", 140_000),
        ]
    )
    result = quick(
        "Match\nArsenal beat Chelsea 2-1 in the league on Sunday after two late goals.\n"
        "Chelsea, who have lost four of their last six league games, travel to Middlesbrough "
        "on Saturday for the match.\n",
        gazetteer=gazetteer,
    )
    assert [p.name for p in result.places] == ["Middlesbrough"]


# places


def test_a_dateline_is_not_a_place_and_regions_resolve() -> None:
    gazetteer = FakeGazetteer([entry("Beirut", 33.89, 35.5, "LB", 1_900_000)])
    result = quick(
        "Floods\nBEIRUT: Floods killed 29 people in Pakistan's Sindh province on Sunday, "
        "officials said.\n",
        gazetteer=gazetteer,
    )
    [place] = result.places
    assert place.name == "Sindh province" and place.region == "Pakistan"
    assert (place.lat, place.lon) == (24.9056, 67.0822)  # Karachi, standing for the province
    assert "Karachi" in (place.note or "")
    assert "BEIRUT" not in " ".join(s.quote for s in result.summary)


def test_a_place_the_gazetteer_does_not_know_is_listed_not_dropped() -> None:
    result = quick("Storm\nThe storm flooded streets in Zzyzxville on Sunday, police said.\n")
    assert [u.name for u in result.unresolved] == ["Zzyzxville"]


# page furniture, line breaks, not news


def test_furniture_is_set_aside_and_hard_wrapped_lines_join() -> None:
    result = quick(
        "Floods kill 19\nBy AFP\nCategories: World, Asia\nUpdated: 3 March 2025, 10:42 GMT\n"
        "JAKARTA (AFP) - Floods triggered by days of\nheavy rain have killed at least 19 people,"
        "\nthe national disaster agency said on Monday.\n"
    )
    assert {"By AFP", "Categories: World, Asia"} <= set(result.debris)
    [killed] = result.figures
    assert result.sources[killed.source].name == "national disaster agency"
    assert result.summary[0].quote.startswith("Floods triggered by days of heavy rain")


def test_a_quote_does_not_stop_mid_phrase() -> None:
    result = quick(
        "Crash\nThree people were hurt when a\ndouble-decker bus mounted the pavement, police "
        "said on Monday.\n"
    )
    for item in [*result.figures, *result.summary]:
        assert not item.quote.endswith((" a", " when", " the")), item.quote


@pytest.mark.parametrize(
    "text",
    [
        "digest-tool\nA tool that converts Markdown.\n## Install\npip install digest-tool\n"
        "## Usage\nRun digest-tool build docs/ to convert every file.\n"
        "Options: --output DIR writes the HTML; --watch rebuilds.\n",
        "Lemon cake\nServes 8.\nIngredients: 225g butter, 225g caster sugar, 4 eggs.\n"
        "Heat the oven to 180C.\nBeat the butter and sugar until pale.\n"
        "Fold in the flour and 100g of zest.\nBake for 45 minutes.\n",
    ],
)
def test_what_is_not_news_is_refused_unless_forced(text: str) -> None:
    with pytest.raises(NotNews, match="does not read like a news article"):
        quick(text)
    forced: Draft = draft(
        text,
        publisher="Desk",
        published=date(2024, 1, 1),
        text_path="articles/a.txt",
        force=True,
        gazetteer=FakeGazetteer([]),
    )
    assert forced.warning and "WARNING: not news?" in forced.yaml()


@pytest.mark.parametrize(
    ("text", "claimant"),
    [
        (
            "The Central Election Commission declared that turnout was 74.3 percent, AFP "
            "reported on Monday.",
            "Central Election Commission",
        ),
        (
            "The Belarus Christian Democracy party, however, rejected the figures, saying only "
            "38 percent had voted.",
            "Belarus Christian Democracy party",
        ),
        ("Mr Mondlane rejected the result and said he had won 53% of the vote.", "Mondlane"),
    ],
)
def test_who_passes_a_claim_on_is_not_who_makes_it(text: str, claimant: str) -> None:
    [found] = figures(text)
    assert found["source"].endswith(claimant), found


def test_a_noun_after_amid_is_not_a_verb_of_saying() -> None:
    [found] = figures(
        "The majority of the opposition refused to take part in the polls amid claims the "
        "vote to elect 33 lawmakers lacked transparency."
    )
    assert found["source"] == "The Courier"


def test_its_governor_is_the_places_official_not_the_last_speaker() -> None:
    result = quick(
        "Drones\nThe attack injured one person in Poltava, its governor, Filip Pronin, said on "
        "Wednesday.\nThe military destroyed six drones over the region of Mykolaiv, its governor "
        "said.\nIn Kherson, the regional governor said shelling had killed two people.\n"
    )
    names = [result.sources[f.source].name for f in result.figures]
    assert names == ["Filip Pronin", "governor of Mykolaiv", "regional governor"]


def test_the_past_24_hours_is_when_not_a_figure() -> None:
    assert [
        f["value"] for f in figures("Shelling during the past 24 hours killed two people.")
    ] == [2]


def test_a_temperature_below_zero_and_a_list_of_measures() -> None:
    found = figures(
        "Altnaharra recorded 27cm of snow, with 26cm at Loch Glascarnoch.\n"
        "The lowest temperature was -13.3C at Braemar.\n"
    )
    assert [(f["value"], f["unit"], f["label"]) for f in found] == [
        (27, "cm", "Snow"),
        (26, "cm", "Snow at Loch Glascarnoch"),
        (13.3, "\u00b0C below zero", "Lowest temperature"),
    ]


def test_a_city_named_only_in_the_headline_is_a_place() -> None:
    gazetteer = FakeGazetteer([entry("Tbilisi", 41.69, 44.83, "GE", 1_100_000)])
    result = quick(
        "Thousands march in Tbilisi\nTens of thousands of people marched on Sunday night "
        "against the bill, the organisers said.\n",
        gazetteer=gazetteer,
    )
    [place] = result.places
    assert place.name == "Tbilisi" and result.sources[place.source].kind == "publisher"


def test_a_clause_is_never_a_claimant() -> None:
    found = by_value(
        "Police fired tear gas, while organisers said 120 people were hurt.\n"
        "Police used water cannon after midnight, and the ministry said 23 officers were hurt.\n"
    )
    assert found["120"]["source"] == "organisers"
    assert found["23"]["source"] == "ministry"
    names = {f["source"] for f in found.values()}
    assert not any(name.startswith(("Police", "and ")) for name in names)


def test_a_capitals_byline_and_reading_time_are_furniture_before_the_dateline() -> None:
    result = quick(
        "Floods\nFRANK JORDANS\n\u00b75 min read\nBERLIN (AP) \u2014 More than 20 people have "
        "died in the floods, police said on Thursday.\nUp to 70 people were reported missing.\n"
    )
    assert {"FRANK JORDANS", "\u00b75 min read"} <= set(result.debris)
    assert [(f.values, f.label) for f in result.figures] == [
        ((20,), "People died"),
        ((70,), "People missing"),
    ]
    assert not any("BERLIN" in s.quote for s in result.summary)


def test_region_names_match_with_or_without_umlauts() -> None:
    from bot.draft.regions import find_regions

    assert [r.name for r in find_regions("Baden-W\u00fcrttemberg", ["DE"])] == [
        "Baden-Wuerttemberg"
    ]


@pytest.mark.parametrize(
    ("line", "scrap"),
    [
        ("Reporting by Jane Doe; Editing by John Roe", True),
        ("AP, Reuters", True),
        ("More to come", True),
        ("Some information for this story came from The Associated Press and Reuters", True),
        ("Published 3 hours ago", True),
        ("Categories: World, Asia", True),
        ("By Business Desk", True),
        ("\u00b75 min read", True),
        ("Reuters said 12 people died.", False),
        ("By Tuesday the river had fallen by a metre.", False),
    ],
)
def test_page_furniture_lines(line: str, scrap: bool) -> None:
    from bot.draft.text import is_scrap

    assert is_scrap(line) is scrap


def test_earlier_values_ratios_and_spans_of_time() -> None:
    found = figures(
        "A total of 45 people were arrested, up from 30 last year, police said.\n"
        "Unemployment rose to 4.2%, compared with 3.9% a year earlier.\n"
        "About one in five adults smoke.\n"
        "The bill would cost £3.4bn over five years.\n"
    )
    got = [(f["value"], f["unit"], f["label"], f["qualifier"]) for f in found]
    assert got[:4] == [
        (45, "people", "People arrested", None),
        (30, "people", "People arrested before", None),
        (4.2, "%", "Unemployment", None),
        (3.9, "%", "Unemployment before", None),
    ]
    assert not any(f["unit"] == "adults" for f in found)
    assert all(f["qualifier"] is None for f in found if f["unit"] == "years")
