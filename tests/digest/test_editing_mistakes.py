"""Hand-editing mistakes get messages in the editor's words — the ones docs/digest-format.md's
"Common mistakes" table promises — and every problem of a file is reported at once."""

from __future__ import annotations

import pytest

from bot.app import check
from bot.digest.load import DigestInvalid, load_digest
from tests.helpers import ROOT, WriteDigest, base_digest, dump

DOC = (ROOT / "docs" / "digest-format.md").read_text("utf-8")


def problems(write_digest: WriteDigest, text: str) -> list[str]:
    with pytest.raises(DigestInvalid) as caught:
        load_digest(write_digest(text=text))
    return [str(p).split(": ", 1)[1] for p in caught.value.problems]


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "value: 14\n",
            "value: 14,000\n",
            "figures[0].value: write 14000 without the comma, or [low, high] for a range",
        ),
        ("what: The closed harbour", "what: The harbour: closed", "put the text in quotes"),
        (
            "quote: a storm damaged 14 boats",
            "quote: a storm wrecked 14 boats",
            "figures[0].quote: not found verbatim in the article: 'a storm wrecked 14 boats'",
        ),
        ("value: 14\n", "value: 945\n", "figures[0].value: 945 does not appear in the quote"),
        (
            "source: coastguard\n",
            "source: mod\n",
            "figures[1].source: no source 'mod' (sources: coastguard, post, union)",
        ),
        (
            "kind: official",
            "kind: emergency-services",
            "sources.coastguard.kind: 'emergency-services' is not allowed; expected 'publisher', ",
        ),
    ],
)
def test_common_mistakes_say_what_the_doc_promises(
    write_digest: WriteDigest, old: str, new: str, said: str
) -> None:
    text = dump(base_digest())
    assert old in text
    found = problems(write_digest, text.replace(old, new, 1))
    assert len(found) == 1, found
    assert said in found[0]
    # The doc's table shows the same words (its examples use other values).
    promised = said.split(": ", 1)[-1].split("(")[0].split("'")[0].replace("14000", "12000")
    assert promised.strip(" ,") in DOC


def test_a_comma_number_is_one_line_without_internal_types(write_digest: WriteDigest) -> None:
    text = dump(base_digest()).replace("value: 14\n", "value: 12,000\n", 1)
    (line,) = problems(write_digest, text)
    assert line == "figures[0].value: write 12000 without the comma, or [low, high] for a range"
    text = dump(base_digest()).replace("value: 14\n", "value: 3-4\n", 1)
    assert problems(write_digest, text) == ["figures[0].value: write a range as [3, 4]"]
    text = dump(base_digest()).replace("value: 14\n", "value: many\n", 1)
    assert problems(write_digest, text) == [
        "figures[0].value: must be a number (945, 5.7), or [low, high] for a range"
    ]


def test_a_bad_latitude_does_not_hide_the_other_problems(write_digest: WriteDigest) -> None:
    data = base_digest()
    data["places"][0]["lat"] = 142
    data["summary"][0]["quote"] = "The harbour at Portwell was shut on Monday"
    data["figures"][2]["value"] = 301
    found = problems(write_digest, dump(data))
    assert found == [
        "summary[0].quote: not found verbatim in the article: "
        "'The harbour at Portwell was shut on Monday'",
        "figures[2].value: 301 does not appear in the quote",
        "places[0].lat: Input should be less than or equal to 90",
    ]


def test_an_unused_source_is_a_warning_not_a_failure(
    write_digest: WriteDigest, capsys: pytest.CaptureFixture[str]
) -> None:
    data = base_digest()
    data["sources"]["mayor"] = {"name": "The mayor", "kind": "official"}
    path = write_digest(data)
    loaded = load_digest(path)
    assert [str(w).split(": ", 1)[1] for w in loaded.warnings] == [
        "sources.mayor: warning: no item uses this source (the digest still loads)"
    ]
    good, found, warnings = check([path])
    assert (good, found) == (1, [])
    assert warnings == [str(w) for w in loaded.warnings]
    assert check([path.parent])[2] == warnings  # a folder's digests are checked the same way
