"""The review form ↔ digest data, and quote highlighting, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.desk.editing import NEW_SOURCE, field_errors, from_form, indices, to_values, to_yaml
from bot.desk.highlight import segments
from bot.desk.review import FolderQueue, StaleDraft
from bot.digest.load import DigestInvalid, Problem, load_digest_text
from bot.digest.yamlsafe import parse
from tests.desk.harness import make_data
from tests.helpers import ARTICLE, base_digest


def test_the_form_of_a_digest_gives_the_same_digest_back(tmp_path: Path) -> None:
    data = make_data(tmp_path)
    text = (data.digests / "storm.yaml").read_text("utf-8")
    parsed = parse(text).data
    again = to_yaml(from_form(to_values(parsed), parsed))
    original = load_digest_text(data.digests / "storm.yaml", text).digest
    assert load_digest_text(data.digests / "storm.yaml", again).digest == original


def test_ranges_new_sources_and_removals(tmp_path: Path) -> None:
    data = make_data(tmp_path)
    parsed = parse((data.digests / "storm.yaml").read_text("utf-8")).data
    values = to_values(parsed)
    values["figures[0].value"] = "10\u201314"
    values["figures[0].quote"] = "a storm damaged 14 boats"
    values["figures[2].source"] = NEW_SOURCE
    values["new_source.key"] = "fishers"
    values["new_source.name"] = "Fishers' union"
    values["new_source.kind"] = "other"
    values["places[0]._remove"] = "1"
    out = from_form(values, parsed)
    assert out["figures"][0]["value"] == [10, 14]
    assert out["figures"][2]["source"] == "fishers"
    assert out["sources"]["fishers"] == {"name": "Fishers' union", "kind": "other"}
    assert "places" not in out
    with pytest.raises(DigestInvalid) as caught:
        load_digest_text(data.digests / "storm.yaml", to_yaml(out))
    by_field, general = field_errors(caught.value.problems)
    assert by_field == {"figures[0].value": ["10 does not appear in the quote"]}
    assert general == []
    assert indices(values)["figures"] == [0, 1, 2]


def test_an_empty_required_field_is_reported_at_that_field(tmp_path: Path) -> None:
    data = make_data(tmp_path)
    parsed = parse((data.digests / "storm.yaml").read_text("utf-8")).data
    values = to_values(parsed)
    values["summary[0].text"] = "  "
    with pytest.raises(DigestInvalid) as caught:
        load_digest_text(data.digests / "storm.yaml", to_yaml(from_form(values, parsed)))
    assert field_errors(caught.value.problems)[0]["summary[0].text"] == ["must not be empty"]


def test_every_quote_is_marked_over_the_articles_own_characters() -> None:
    article = "He said \u201cup to  300\njobs\u201d were lost.\nThe end."
    found = segments(article, [("figures-0", 'said "up to 300 jobs"'), ("summary-0", "jobs")])
    assert "".join(s.text for s in found) == article  # nothing added, nothing lost
    marked = [(s.text, s.items) for s in found if s.items]
    assert marked == [
        ("said \u201cup to  300\n", ("figures-0",)),
        ("jobs", ("figures-0", "summary-0")),
        ("\u201d", ("figures-0",)),
    ]
    assert [s.starts for s in found if s.starts] == [("figures-0",), ("summary-0",)]
    assert segments(ARTICLE, [("x", "not in it")]) == [segments(ARTICLE, [])[0]]


def test_folder_queue_refuses_a_stale_save_and_approves_atomically(tmp_path: Path) -> None:
    data = make_data(tmp_path, hostile=False)
    queue = FolderQueue(data.digests)
    draft = queue.get("storm-draft")
    assert draft is not None
    assert [d.id for d in queue.pending()] == ["storm-draft"]
    changed = draft.text.replace(
        "source: coastguard\n  quote: up to", "source: union\n  quote: up to"
    )
    saved = queue.save("storm-draft", changed, based_on=draft.version, by="ed")
    assert saved.version != draft.version
    assert saved.saved_by == "ed"
    with pytest.raises(StaleDraft):
        queue.save("storm-draft", draft.text, based_on=draft.version, by="ada")
    with pytest.raises(DigestInvalid):
        queue.save("storm-draft", "schema: 1\n", based_on=saved.version, by="ed")
    target = queue.approve("storm-draft", based_on=saved.version, by="ed")
    assert target == data.digests / "storm-draft-2024-01-08.yaml"
    assert target.read_text("utf-8").startswith("# reviewed by ed at ")
    assert queue.get("storm-draft") is None
    assert [p.name for p in data.digests.glob(".*.tmp")] == []
    assert base_digest()["id"] != "storm-draft-2024-01-08"


def test_folder_queue_reject_keeps_the_draft_out_of_the_folder_s_way(tmp_path: Path) -> None:
    data = make_data(tmp_path, hostile=False)
    queue = FolderQueue(data.digests)
    draft = queue.get("storm-draft")
    assert draft is not None
    queue.reject("storm-draft", based_on=draft.version, by="ada", reason="wrong claimant\nagain")
    rejected = data.digests / "storm-draft.draft.yaml.rejected"
    assert rejected.read_text("utf-8").splitlines()[0].endswith(": wrong claimant again")
    assert queue.pending() == []
    assert queue.get("../storm") is None


def test_search_matches_id_title_or_publisher_and_follows_the_library(tmp_path: Path) -> None:
    from bot.desk.pages import search
    from bot.digest.library import Library

    data = make_data(tmp_path)
    library = Library(data.digests)
    library.refresh()
    digests = library.all()
    assert [d.id for d in search(digests, "PORTWELL post")] == ["storm-2024-01-08"]
    assert [d.id for d in search(digests, "bridge-2024")] == ["bridge-2024-09-02"]
    assert search(digests, "harbourthe") == []  # never across two fields
    (data.digests / "storm.yaml").unlink()
    library.refresh()
    assert search(library.all(), "portwell") == []


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.dictionaries(
        st.sampled_from(
            [
                "title",
                "published",
                "article.url",
                "sources.union.kind",
                "summary[0].text",
                "summary[3].quote",
                "figures[0].value",
                "figures[1].qualifier",
                "figures[2].source",
                "places[0].lat",
                "places[0]._remove",
                "new_source.key",
                "new_source.name",
            ]
        ),
        st.text(max_size=40),
        max_size=6,
    )
)
def test_any_form_gives_a_digest_or_field_problems_never_a_crash(
    tmp_path: Path, edits: dict[str, str]
) -> None:
    folder = tmp_path / "d"
    if not folder.exists():
        make_data(folder, hostile=False, draft=False)
    file = folder / "digests" / "storm.yaml"
    parsed = parse(file.read_text("utf-8")).data
    values = {**to_values(parsed), **edits}
    problems: tuple[Problem, ...] = ()
    try:
        load_digest_text(file, to_yaml(from_form(values, parsed)))
    except DigestInvalid as exc:
        problems = exc.problems
        assert problems
    assert all(str(p).count("\n") == 0 for p in problems)
