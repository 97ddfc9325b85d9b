"""The emitter: every string round-trips exactly through YAML, and the layout is stable."""

from __future__ import annotations

from datetime import date

import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.digest.yamlsafe import parse
from bot.draft.emit import comment, item_lines, scalar


@given(st.text(max_size=200))
def test_any_string_round_trips(text: str) -> None:
    line = f"key: {scalar(text)}"
    assert yaml.safe_load(line) == {"key": text}
    assert parse(line).data == {"key": text}


@given(st.text(max_size=200))
def test_forced_quotes_round_trip(text: str) -> None:
    assert yaml.safe_load(f"key: {scalar(text, force_quotes=True)}") == {"key": text}


@given(st.text(max_size=200))
def test_a_comment_is_one_line(text: str) -> None:
    line = comment(text, 2)
    assert yaml.safe_load(f"a: 1\n{line}\nb: 2\n") == {"a": 1, "b": 2}


def test_scalars_that_yaml_would_misread_are_quoted() -> None:
    for text in ("yes", "null", "1.5", "2024-08-09", "- item", "a: b", "#x", "", " lead", "~"):
        assert scalar(text).startswith('"'), text
    assert scalar("The Telegraph") == "The Telegraph"
    assert scalar("Russia\u2019s defence ministry") == "Russia\u2019s defence ministry"
    assert scalar(date(2024, 8, 9)) == "2024-08-09"
    assert scalar(None) == "null"
    assert scalar(0.5) == "0.5"


def test_item_layout() -> None:
    lines = item_lines(
        {"label": "Soldiers lost", "value": [200, 490], "qualifier": None, "quote": "up to 945"},
        ["claim: a party"],
    )
    assert lines == [
        "  # claim: a party",
        "  - label: Soldiers lost",
        "    value: [200, 490]",
        '    quote: "up to 945"',
    ]
