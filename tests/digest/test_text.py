from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.digest.text import (
    _TYPOGRAPHIC,
    DEBRIS,
    has_number,
    is_debris,
    normalise,
    numbers_in,
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1,000 Ukrainian troops", 1000),
        ("up to 945 soldiers", 945),
        ("more than two dozen armoured vehicles", 24),
        ("a dozen eggs", 12),
        ("its fourth day", 4),
        ("3-4 companies", 3),
        ("3-4 companies", 4),
        ("200 to 490 people", 490),
        ("about half were killed", 0.5),
        ("two hundred and fifty-three", 253),
        ("2.5 million people", 2_500_000),
        ("twenty-one guns", 21),
        ("a third of the staff", 1 / 3),
        ("the third day", 3),
    ],
)
def test_numbers_in_digits_and_words(text: str, number: float) -> None:
    assert has_number(text, number)


@pytest.mark.parametrize(
    ("text", "number"),
    [("several dozen jets", 12), ("1,000 troops", 1), ("945 soldiers", 94), ("someone", 1)],
)
def test_numbers_that_are_not_there(text: str, number: float) -> None:
    assert not has_number(text, number), numbers_in(text)


def test_normalise_folds_only_whitespace_and_typographic_quotes() -> None:
    assert normalise("Moscow\u2019s  \u201crapid\n advance\u201d") == 'Moscow\'s "rapid advance"'
    assert normalise("Kyiv") != normalise("kyiv")


@pytest.mark.parametrize(
    "line",
    ["Click here to view this content.", "Share", "Related articles", "Read more", "ADVERTISEMENT"],
)
def test_debris(line: str) -> None:
    assert is_debris(line)


@pytest.mark.parametrize(
    "line", ["Share of the column killed", "Related losses were reported", "Readers said"]
)
def test_not_debris(line: str) -> None:
    assert not is_debris(line)


def _normalise_by_translation(text: str) -> str:
    """The first definition of ``normalise``, which the faster one must match exactly."""
    return re.sub(r"\s+", " ", text.translate(_TYPOGRAPHIC)).strip()


@settings(max_examples=500)
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(),
            st.sampled_from(
                " \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000\u2018\u2019\u201c\u201d\u00ab\u02bc"
            ),
        )
    )
)
def test_normalise_is_what_it_always_was(text: str) -> None:
    assert normalise(text) == _normalise_by_translation(text)


def test_normalise_folds_quotes_and_every_kind_of_space() -> None:
    text = "\u00a0\u201cIt\u2019s\u201d\tsaid\u2028\u3000the  union\n"
    assert normalise(text) == '"It\'s" said the union'
    assert all(
        normalise(chr(code)) == _normalise_by_translation(chr(code)) for code in range(0x3100)
    )


_DEBRIS_PIECES = st.sampled_from(
    [
        "click here to view",
        "Click Here To Watch",
        "view this content",
        "enable JavaScript",
        "share",
        "SHARE this story",
        "related articles",
        "read more",
        "more on this story",
        "advertisement",
        "sign up to our newsletter",
        "subscribe now",
        "follow us on X",
        "\u017fhare",  # long s: IGNORECASE matches it with 's'
        "\u212alick here to see",  # a Kelvin sign where the k is: no match
        "the",
        "column",
        " ",
        "  ",
        ".",
        "!",
        ">>",
        "\n",
        "\u00e9",
        "1",
    ]
)


@settings(max_examples=1000)
@given(st.lists(_DEBRIS_PIECES, max_size=6).map("".join))
def test_the_debris_prefilter_agrees_with_the_pattern(text: str) -> None:
    assert is_debris(text) == (DEBRIS.search(text) is not None)


@settings(max_examples=500)
@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                "dozen",
                "two",
                "hundred",
                "and",
                "fifty-three",
                "third",
                "half",
                "1,000",
                "2.5",
                "million",
                "3-4",
                "945",
                " ",
                ", ",
                "troops",
                "0.5",
                "12",
            ]
        ),
        max_size=8,
    ).map(" ".join),
    st.sampled_from([0.5, 1, 2, 3, 4, 12, 24, 53, 253, 945, 1000, 2.5, 2_500_000, 1 / 3]),
)
def test_has_number_is_membership_in_numbers_in(text: str, number: float) -> None:
    assert has_number(text, number) == any(abs(f - number) < 1e-9 for f in numbers_in(text))
