"""Figures: value, qualifier, unit, label from the phrase, status from the claimant."""

from __future__ import annotations

from typing import Any

import pytest

from bot.draft.claimants import attribute
from bot.draft.figures import find_figures
from bot.draft.text import read_article

WAR_CONTEXT = (
    "Russian troops and Ukrainian troops fought on as the war went on; Russia and Ukraine "
    "traded drone attacks and missile strikes across the front.\n"
)


def figures(text: str, publisher: str = "The Courier") -> list[dict[str, Any]]:
    article = read_article("Headline\n" + text)
    claimants = attribute(article, publisher)
    return [
        {
            "value": f.value(),
            "qualifier": f.qualifier,
            "unit": f.unit,
            "label": f.label,
            "status": f.status,
            "source": claimants.by_key[f.source].name,
            "quote": f.quote,
        }
        for f in find_figures(article, claimants)
    ]


def test_verb_carries_over_the_and() -> None:
    [soldiers, equipment] = figures(
        "On Friday, the ministry claimed that Ukraine had lost up to 945 soldiers and 102 "
        "pieces of equipment."
    )
    assert soldiers["value"] == 945 and soldiers["qualifier"] == "up to"
    assert soldiers["unit"] == "soldiers" and soldiers["label"] == "Soldiers lost"
    assert equipment["unit"] == "pieces of equipment"
    assert equipment["label"] == "Pieces of equipment lost"


@pytest.mark.parametrize(
    ("text", "value", "qualifier", "unit", "label"),
    [
        (
            "It has captured about 500 square kilometres of Russian territory.",
            500,
            "about",
            "square kilometres",
            "Russian territory captured",
        ),
        (
            "Troops were within 10 miles of Pokrovsk.",
            10,
            "up to",
            "miles",
            "Distance from Pokrovsk",
        ),
        (
            "The town is more than 20 miles from the border with Ukraine.",
            20,
            "more than",
            "miles",
            "Distance from the border with Ukraine",
        ),
        (
            "The strike left 15 burned-out Russian vehicles on the road.",
            15,
            None,
            "vehicles",
            "Burned-out Russian vehicles",
        ),
        ("Judging by the column, about half were killed.", 0.5, "about", None, "Share killed"),
        (
            "Moscow could have lost \u201c200 to 490 people in the strike\u201d.",
            [200, 490],
            None,
            "people",
            "People lost",
        ),
        (
            "They had 3-4 companies in the column.",
            [3, 4],
            None,
            "companies",
            "Companies in the column",
        ),
        (
            "As the raid entered its fourth day, the mood darkened.",
            4,
            None,
            "day",
            "Day of the raid",
        ),
        (
            "The council raised council tax by 4.99% this year.",
            4.99,
            None,
            "%",
            "Council raised council tax",
        ),
        ("The scheme will cost £45m in total.", 45, None, "million pounds", "Scheme cost"),
        (
            "A snowstorm closed a 130-mile stretch of the Thruway.",
            130,
            None,
            "mile",
            "Stretch of the Thruway",
        ),
        (
            "Temperatures will fall to minus 10C overnight.",
            10,
            None,
            "°C below zero",
            "Temperatures fall",
        ),
        ("Shares closed at 412p in London.", 412, None, "pence", "Shares closed"),
        ("The plant employs about 6,000 people.", 6000, "about", "people", "Plant employs"),
    ],
)
def test_one_figure(
    text: str, value: object, qualifier: str | None, unit: str | None, label: str
) -> None:
    [figure] = figures(text)
    assert (figure["value"], figure["qualifier"], figure["unit"]) == (value, qualifier, unit)
    assert figure["label"] == label
    assert figure["quote"] in text


def test_units_carry_over_to_a_bare_number() -> None:
    [killed, injured] = figures("The strike killed 12 civilians and injured 44 more, police said.")
    assert killed["label"] == "Civilians killed"
    assert (injured["value"], injured["unit"], injured["label"]) == (
        44,
        "civilians",
        "Civilians injured",
    )


def test_a_number_before_of_takes_the_unit_after_it() -> None:
    [closing, total] = figures("The plan closes three of the city\u2019s 34 libraries.")
    assert (closing["value"], closing["unit"]) == (3, "libraries")
    assert (total["value"], total["unit"]) == (34, "libraries")


def test_votes_to() -> None:
    values = [(f["value"], f["unit"]) for f in figures("It passed by 52 votes to 31 on Wednesday.")]
    assert values == [(52, "votes"), (31, "votes")]


def test_a_belligerents_figure_is_a_claim_and_a_third_partys_an_estimate() -> None:
    found = figures(
        WAR_CONTEXT
        + "Russia\u2019s defence ministry said 1,000 Ukrainian troops had joined the fight.\n"
        + "Britain\u2019s Ministry of Defence said Russian soldiers were within 10 miles "
        + "of Pokrovsk.\n"
        + "The newspaper counted 15 burned-out Russian vehicles.\n",
        publisher="The Telegraph",
    )
    by_value = {f["value"]: f for f in found}
    assert by_value[1000]["status"] == "claim"
    assert by_value[1000]["source"] == "Russia\u2019s defence ministry"
    assert by_value[10]["status"] == "estimate"
    assert by_value[15]["status"] == "reported"
    assert by_value[15]["source"] == "The Telegraph"


def test_publisher_hedges_make_an_estimate() -> None:
    [figure] = figures("The operation is estimated to have captured about 500 square kilometres.")
    assert figure["status"] == "estimate"


def test_the_quote_holds_the_number_and_the_claimant_when_close() -> None:
    found = figures(
        "Russia\u2019s defence ministry said on Thursday that 1,000 Ukrainian troops "
        "supported by more "
        "than two dozen armoured vehicles had joined the fight."
    )
    assert (
        found[0]["quote"]
        == "Russia\u2019s defence ministry said on Thursday that 1,000 Ukrainian troops"
    )


def test_repeated_figures_are_drafted_once() -> None:
    found = figures(
        "The storm damaged 14 boats.\nThe storm damaged 14 boats, the coastguard said.\n"
    )
    assert [f["value"] for f in found] == [14, 14]
    assert [f["source"] for f in found] == ["The Courier", "coastguard"]
    assert (
        len(figures("The storm damaged 14 boats.\nLater the storm damaged 14 boats again.\n")) == 1
    )
