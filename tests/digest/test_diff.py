"""Corrections are derived by diffing two versions of a digest; /summary shows the log."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.commands.base import parse
from bot.digest.diff import changes, correction, correction_line
from bot.digest.library import Library
from bot.digest.load import DigestInvalid, load_digest
from bot.digest.model import Digest
from tests.helpers import WriteDigest, answer, base_digest

AT = datetime(2024, 8, 9, 14, 5, tzinfo=UTC)


def digest(data: dict[str, Any]) -> Digest:
    return Digest.model_validate({**data, "published": date.fromisoformat(data["published"])})


def edited(**change: Any) -> dict[str, Any]:
    data = copy.deepcopy(base_digest())
    for path, value in change.items():
        group, index, key = path.split("__")
        data[group][int(index)][key] = value
    return data


def test_identical_or_reordered_digests_have_no_correction() -> None:
    data = base_digest()
    assert changes(digest(data), digest(copy.deepcopy(data))) == []
    reordered = copy.deepcopy(data)
    reordered["figures"].reverse()
    assert correction(digest(data), digest(reordered), AT) is None


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ({"figures__0__value": 15}, "Boats damaged: 14 boats \u2192 15 boats"),
        ({"figures__2__qualifier": "about"}, "Jobs at risk: up to 300 jobs \u2192 about 300 jobs"),
        ({"figures__2__status": "reported"}, "Jobs at risk: claim \u2192 reported"),
        (
            {"figures__1__source": "post"},
            "People evacuated: claimed by The coastguard \u2192 The Portwell Post",
        ),
        (
            {"summary__0__text": "Portwell harbour shut after a storm."},
            "summary point: \u201cPortwell harbour closed after a storm damaged boats.\u201d "
            "\u2192 \u201cPortwell harbour shut after a storm.\u201d",
        ),
    ],
)
def test_each_kind_of_change_is_one_line(change: dict[str, Any], line: str) -> None:
    assert changes(digest(base_digest()), digest(edited(**change))) == [line]


def test_items_added_and_removed() -> None:
    old = base_digest()
    new = copy.deepcopy(old)
    removed = new["figures"].pop(1)
    new["summary"].append(
        {
            "text": "Two dozen people left the quay.",
            "source": "coastguard",
            "quote": removed["quote"],
        }
    )
    new["places"] = []
    assert changes(digest(old), digest(new)) == [
        "figure removed: People evacuated",
        "summary point added: Two dozen people left the quay.",
        "place removed: Portwell",
    ]
    back = changes(digest(new), digest(old))
    assert "figure added: People evacuated, 24 people" in back
    assert "summary point removed: Two dozen people left the quay." in back
    assert "place added: Portwell" in back


def test_the_entry_and_its_line() -> None:
    entry = correction(digest(base_digest()), digest(edited(figures__0__value=15)), AT)
    assert entry is not None
    assert entry.at == AT
    assert (
        correction_line(entry)
        == "Corrected 9 Aug 2024 14:05 UTC: Boats damaged: 14 boats \u2192 15 boats"
    )


def test_corrections_and_reviewed_load_and_summary_shows_the_log(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    data = edited(figures__0__value=14)
    data["reviewed"] = {"by": "Alice Reviewer", "at": AT, "via": "cli"}
    # A distinct datetime: safe_dump writes one object used twice as an anchor, which is refused.
    data["corrections"] = [
        {"at": AT.replace(second=1), "what": "Boats damaged: 12 boats \u2192 14 boats"}
    ]
    path = write_digest(data)
    loaded = load_digest(path)
    assert loaded.digest.reviewed is not None
    assert loaded.digest.reviewed.by == "Alice Reviewer"
    assert loaded.digest.corrections[0].what.startswith("Boats damaged")
    library = Library(tmp_path)
    library.refresh()
    reply = answer(library, parse("/summary"))
    assert reply.sections[-1].heading == "Corrections"
    assert [line.text for line in reply.sections[-1].lines] == [
        "Corrected 9 Aug 2024 14:05 UTC: Boats damaged: 12 boats \u2192 14 boats"
    ]
    # Without corrections there is no such section.
    write_digest(base_digest())
    library.refresh()
    assert all(s.heading != "Corrections" for s in answer(library, parse("/summary")).sections)


def test_bad_review_fields_are_clear_errors(write_digest: WriteDigest) -> None:
    data = base_digest()
    data["reviewed"] = {"by": "Alice", "at": "2024-08-09T14:05:00", "via": "fax"}
    with pytest.raises(DigestInvalid) as caught:
        load_digest(write_digest(data))
    text = str(caught.value)
    assert "reviewed.via: 'fax' is not allowed" in text
