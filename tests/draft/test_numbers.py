"""Numbers as written: digits, words, ranges, qualifiers; and what is not a quantity."""

from __future__ import annotations

import pytest

from bot.draft.numbers import find_numbers


def found(text: str) -> list[tuple[str, tuple[float, ...], str | None]]:
    return [(text[m.start : m.end], m.values, m.qualifier) for m in find_numbers(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,000 Ukrainian troops", [("1,000", (1000,), None)]),
        ("lost 945 soldiers", [("945", (945,), None)]),
        ("more than two dozen armoured vehicles", [("two dozen", (24,), "more than")]),
        ("at least four Ukrainian brigades", [("four", (4,), "at least")]),
        ("\u201c200 to 490 people", [("200 to 490", (200, 490), None)]),
        ("3-4 companies", [("3-4", (3, 4), None)]),
        ("between 5 and 10 boats", [("5 and 10", (5, 10), None)]),
        ("twenty-one guns", [("twenty-one", (21,), None)]),
        ("a dozen eggs", [("a dozen", (12,), None)]),
        ("2.5 million people", [("2.5 million", (2_500_000,), None)]),
        ("£1.2m and £2m-£3m", [("£1.2m", (1.2,), None), ("£2m-£3m", (2, 3), None)]),
        ("a rise of 4.99%", [("4.99%", (4.99,), None)]),
        ("its fourth day", [("fourth", (4,), None)]),
        ("about half were killed", [("half", (0.5,), "about")]),
        ("a quarter of the budget", [("a quarter", (0.25,), None)]),
    ],
)
def test_quantities(text: str, expected: list[tuple[str, tuple[float, ...], str | None]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        ("about 500 km", "about"),
        ("around 500 km", "about"),
        ("some 500 km", "about"),
        ("up to 945 soldiers", "up to"),
        ("as far as 35 kilometres", "up to"),
        ("as many as 2,000 roles", "up to"),
        ("within 10 miles", "up to"),
        ("fewer than 10 boats", "up to"),
        ("at least four", "at least"),
        ("more than 20 miles", "more than"),
        ("over 20 miles", "more than"),
        ("almost 200 miles", "almost"),
        ("nearly 200 miles", "almost"),
    ],
)
def test_qualifiers(text: str, qualifier: str) -> None:
    [mention] = find_numbers(text)
    assert mention.qualifier == qualifier
    assert mention.qualifier_words is not None
    assert text.startswith(mention.qualifier_words)


@pytest.mark.parametrize(
    "text",
    [
        "since the Second World War",
        "the first invasion",
        "in 2024 and 1998",
        "on 9 August",
        "August 9",
        "at 10:30",
        "the E38 highway",
        "an F-16 jet",
        "the Su-34 bomber",
        "won 2-1",
        "the 4th brigade",
        "at 10am",
        "several dozen jets",
        "hundreds of drivers",
        "one of the bloodiest",
        "in the first half",
        "a 67-year-old man",
    ],
)
def test_not_quantities(text: str) -> None:
    assert found(text) == []


def test_descending_pairs_are_not_ranges() -> None:
    assert found("from 490 to 200 people") == [("490", (490,), None), ("200", (200,), None)]


def test_ranges_need_the_same_unit_on_both_ends() -> None:
    values = [m.values for m in find_numbers("Shares fell 7.5% to 412p")]
    assert values == [(7.5,), (412,)]
