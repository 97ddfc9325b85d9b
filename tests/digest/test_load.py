"""Every loader rule has an example that breaks it; each failure is one FILE:LINE: field line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.digest.load import MAX_DIGEST_BYTES, DigestInvalid, load_digest
from tests.helpers import KURSK, WriteDigest, base_digest

LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?:(?P<field>[\w.\[\]-]+): )?(?P<msg>.+)$")


def problems(path: Path) -> list[str]:
    with pytest.raises(DigestInvalid) as caught:
        load_digest(path)
    lines = [str(p) for p in caught.value.problems]
    for line in lines:
        assert LINE.match(line), line
        assert "\n" not in line
    return lines


def one(path: Path, field: str, fragment: str) -> str:
    lines = problems(path)
    hits = [line for line in lines if f": {field}: " in line and fragment in line]
    assert hits, f"expected {field}: …{fragment}… in {lines}"
    return hits[0]


def test_the_base_example_loads(write_digest: WriteDigest) -> None:
    loaded = load_digest(write_digest())
    assert loaded.digest.id == "storm-2024-01-08"
    assert loaded.digest.figures[1].value == 24
    assert "two dozen" in loaded.article_text


def test_kursk_digest_loads_and_claims_name_their_side() -> None:
    digest = load_digest(KURSK).digest
    summary, figures, places = digest.counts
    assert summary >= 8
    assert figures >= 16
    assert places >= 6
    for figure in digest.figures:
        if digest.sources[figure.source].side in ("Russia", "Ukraine"):
            assert figure.status == "claim", figure.label
    assert "945" in {str(f.value) for f in digest.figures}


def test_unknown_key_is_an_error_with_its_line(write_digest: WriteDigest) -> None:
    data = base_digest()
    data["summary"][0]["sorce"] = data["summary"][0].pop("source")
    path = write_digest(data)
    line = one(path, "summary[0].sorce", "unknown key")
    number = int(line.split(":")[1])
    assert "sorce:" in path.read_text().splitlines()[number - 1]


@pytest.mark.parametrize(
    ("edit", "field", "fragment"),
    [
        (lambda d: d["figures"][0].update(source="nobody"), "figures[0].source", "no source"),
        (
            lambda d: d["summary"][0].update(quote="The harbour at Portwell was shut on Monday"),
            "summary[0].quote",
            "not found verbatim",
        ),
        (lambda d: d["figures"][0].update(value=15), "figures[0].value", "15 does not appear"),
        (lambda d: d["figures"][0].update(value=[20, 10]), "figures[0].value", "must be below"),
        (lambda d: d["figures"][0].update(value=True), "figures[0].value", "number"),
        (lambda d: d["figures"][0].update(status="fact"), "figures[0].status", "'fact'"),
        (lambda d: d["places"][0].update(lat=91.0), "places[0].lat", "90"),
        (lambda d: d["places"][0].update(lon=-181), "places[0].lon", "-180"),
        (lambda d: d.update(id="Storm 2024"), "id", "slug"),
        (lambda d: d["article"].update(url="javascript:alert(1)"), "article.url", "URL"),
        (lambda d: d.pop("title"), "title", "missing"),
        (lambda d: d["sources"].update(post="The Post"), "sources.post", "mapping"),
        (
            lambda d: d["summary"][0].update(quote="Click here to view this content."),
            "summary[0].quote",
            "debris",
        ),
        (
            lambda d: d["places"].append(dict(d["places"][0], name="PORTWELL")),
            "places[1].name",
            "already places[0]",
        ),
        (lambda d: d["article"].update(text="../outside.txt"), "article.text", "outside"),
        (lambda d: d["article"].update(text="/etc/hostname"), "article.text", "outside"),
        (lambda d: d["article"].update(text="articles/none.txt"), "article.text", "cannot read"),
    ],
)
def test_each_rule_names_the_field(
    write_digest: WriteDigest, edit: Any, field: str, fragment: str
) -> None:
    data = base_digest()
    edit(data)
    one(write_digest(data), field, fragment)


def test_typographic_quotes_and_whitespace_are_normalised(write_digest: WriteDigest) -> None:
    data = base_digest()
    data["figures"][2]["quote"] = "The fishermen\u2019s union claimed that\n up to 300 jobs"
    assert load_digest(write_digest(data)).digest.figures[2].value == 300


def test_case_is_not_normalised(write_digest: WriteDigest) -> None:
    data = base_digest()
    data["summary"][0]["quote"] = "the harbour at portwell"
    one(write_digest(data), "summary[0].quote", "not found verbatim")


def test_all_problems_are_reported_at_once(write_digest: WriteDigest) -> None:
    data = base_digest()
    data["figures"][0]["source"] = "nobody"
    data["figures"][1]["quote"] = "24 words not in the article"
    assert len(problems(write_digest(data))) == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: &x [1]\nb: *x\n", "aliases"),
        ("schema: 1\nid: !!python/object/apply:os.system ['true']\n", "tags"),
        ("schema: 1\nschema: 1\n", "appears twice"),
        ("schema: 1\n---\nschema: 1\n", "one YAML document"),
        ("schema: 2\nid: x\n", "unsupported schema 2"),
        ("- 1\n- 2\n", "mapping"),
        ("schema: 1\nid: [unclosed\n", "invalid YAML"),
        ("schema: 1\nx: " + "[" * 40 + "]" * 40 + "\n", "nested deeper"),
    ],
)
def test_hostile_or_broken_yaml_is_refused(
    write_digest: WriteDigest, text: str, fragment: str
) -> None:
    lines = problems(write_digest(text=text))
    assert any(fragment in line for line in lines), lines


def test_billion_laughs_is_refused_quickly(write_digest: WriteDigest) -> None:
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        bomb.append(f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    lines = problems(write_digest(text="\n".join(bomb) + "\n"))
    assert "aliases" in lines[0]
    assert ":1:" in lines[0]


def test_oversized_file_is_refused(write_digest: WriteDigest) -> None:
    path = write_digest(text="# " + "x" * MAX_DIGEST_BYTES + "\n")
    assert "limit" in problems(path)[0]


def test_non_utf8_names_the_line(write_digest: WriteDigest) -> None:
    path = write_digest(text="")
    path.write_bytes(b"schema: 1\nid: storm\ntitle: caf\xe9\n")
    line = problems(path)[0]
    assert ":3: " in line
    assert "not UTF-8" in line


def test_article_through_a_symlink_outside_is_refused(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("The harbour at Portwell was closed on Monday", "utf-8")
    (tmp_path / "articles" / "link.txt").symlink_to(outside)
    data = base_digest()
    data["article"]["text"] = "articles/link.txt"
    one(write_digest(data), "article.text", "outside")
