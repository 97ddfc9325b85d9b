"""``only: {tags, words}``: which digests a schedule posts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.digest.model import Digest
from bot.schedules.filters import FilterError, Only
from tests.helpers import base_digest


def digest(**changes: Any) -> Digest:
    data = base_digest() | changes
    data["published"] = date.fromisoformat(data["published"])  # strict: YAML gives a date
    return Digest.model_validate(data)


STORM = digest(tags=["weather", "cornwall"])


@pytest.mark.parametrize(
    ("only", "passes"),
    [
        (Only(), True),
        (Only(tags=("weather",)), True),
        (Only(tags=("politics", "cornwall")), True),  # any of the tags
        (Only(tags=("politics",)), False),
        (Only(words=("evacuated",)), True),  # in a figure's quote
        (Only(words=("BOATS",)), True),  # case-insensitive
        (Only(words=("boat",)), False),  # whole words only
        (Only(words=("at  risk",)), True),  # a phrase, whitespace-insensitive
        (Only(words=("harbour portwell",)), False),  # not across two fields
        (Only(tags=("weather",), words=("drone",)), False),  # tags AND words
        (Only(tags=("weather",), words=("drone", "evacuated")), True),
    ],
)
def test_a_filter_decides_which_digests_pass(only: Only, passes: bool) -> None:
    assert only.matches(STORM) is passes


def test_a_digest_without_tags_never_passes_a_tag_filter() -> None:
    assert not Only(tags=("weather",)).matches(digest())
    assert Only(words=("storm",)).matches(digest())


def test_regex_characters_in_words_are_plain_text() -> None:
    assert not Only(words=(".*",)).matches(STORM)
    assert not Only(words=("b(o)ats",)).matches(STORM)
    assert Only(words=("300 jobs",)).matches(STORM)


def test_describe_and_round_trip() -> None:
    only = Only(tags=("ukraine", "russia"), words=("drone", "air base"))
    assert only.describe() == 'only tags ukraine, russia; words drone, "air base"'
    assert Only().describe() == "every digest"
    assert Only.from_json(only.to_json()) == only
    assert Only.parse("ukraine, russia", "drone,air base") == only
    assert Only.from_json(None) == Only()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"tag": ["x"]}, "unknown key 'tag'"),
        ({"tags": [1]}, "a list of text"),
        ({"tags": ["Ukraine"]}, "'Ukraine' is not a tag"),
        ({"words": [""]}, "must be 1 to 60 characters"),
        ({"words": [f"w{n}" for n in range(21)]}, "at most 20"),
    ],
)
def test_bad_filters_say_what_would_work(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(FilterError, match=fragment):
        Only.from_json(data)
