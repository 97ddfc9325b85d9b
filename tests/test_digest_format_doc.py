"""docs/digest-format.md is the editor's schema: its full example must load, and its
"Common mistakes" table must say what ``check`` really says."""

from __future__ import annotations

import re
from pathlib import Path

from bot.app import check
from bot.digest.load import load_digest
from tests.helpers import ROOT

DOC = (ROOT / "docs" / "digest-format.md").read_text("utf-8")

# An article of our own holding every quote of the example (the doc's story is invented).
ARTICLE = """Fire destroys harbour warehouse, two firefighters hurt
A blaze destroyed a warehouse at the harbour overnight, at the harbour in Port Ellery.
The county fire service said two firefighters were taken to hospital with minor burns.
Dockside Storage Ltd put the damage at about £3-4m.
The firefighters' union said crews had waited an hour for a second engine.
"""


def example() -> str:
    """The YAML of the section "A complete example"."""
    section = DOC.split("## A complete example", 1)[1]
    found = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def test_the_full_example_loads_and_passes_check(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "harbour-fire.txt").write_text(ARTICLE, "utf-8")
    path = tmp_path / "harbour-fire.yaml"
    path.write_text(example(), "utf-8")
    assert check([path]) == (1, [], [])  # valid, no problems, no warnings
    digest = load_digest(path).digest
    assert digest.id == "harbour-fire-2025-03-14"
    assert {s.kind for s in digest.sources.values()} == {"publisher", "official", "company", "ngo"}
    assert digest.counts == (2, 2, 1)


def test_the_doc_points_nowhere_outside_the_repository() -> None:
    for text in (DOC, (ROOT / "README.md").read_text("utf-8")):
        assert "../shared" not in text
        assert "DESIGN.md" not in text
    assert "docs/digest-format.md" in (ROOT / "README.md").read_text("utf-8")
