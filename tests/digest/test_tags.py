"""The optional ``tags:`` list: what schedules filter on. Validated like every other field."""

from __future__ import annotations

import pytest

from bot.digest.load import DigestInvalid, load_digest
from tests.helpers import WriteDigest, base_digest


def test_tags_are_optional_and_kept_in_order(write_digest: WriteDigest) -> None:
    assert load_digest(write_digest()).digest.tags == ()
    data = base_digest() | {"tags": ["weather", "uk-coast"]}
    assert load_digest(write_digest(data)).digest.tags == ("weather", "uk-coast")


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        (["Weather"], "'Weather' must be a tag: lowercase letters, digits and '-'"),
        (["x" * 41], "at most 40 characters"),
        (["storm", "storm"], "tag 'storm' is listed twice"),
        ("storm", "must be a list"),
        ([f"t{n}" for n in range(21)], "at most 20"),
    ],
)
def test_bad_tags_name_the_field_and_line(
    write_digest: WriteDigest, tags: object, fragment: str
) -> None:
    path = write_digest(base_digest() | {"tags": tags})
    with pytest.raises(DigestInvalid) as caught:
        load_digest(path)
    lines = [str(p) for p in caught.value.problems]
    assert any(": tags" in line and fragment in line for line in lines), lines
    line = int(lines[0].split(":")[1])
    assert path.read_text().splitlines()[line - 1].lstrip().startswith(("tags:", "-"))
