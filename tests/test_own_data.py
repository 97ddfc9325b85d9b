"""Tests own their digests: the repository's ``digests/`` is a newsroom's content, so adding a
digest there (README, "Drafting a digest", step 4) must leave ``make test`` green. No test may
read that folder, or run the CLI in the repository's root, where ``./config.yaml`` points at it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import KURSK, ROOT

TESTS = ROOT / "tests"
# Ways a test could reach the repository's digests/: a path built from the root, a literal path
# under it, or a CLI process started in the root (its ./config.yaml reads ./digests).
FORBIDDEN = [
    re.compile(r"""(ROOT|parents\[\d\])\s*/\s*["']digests["']"""),
    re.compile(r"""ROOT\s*/\s*["']digests/"""),
    re.compile(r"""cwd\s*=\s*ROOT\b(?!\s*/)"""),
    re.compile(r"""chdir\(\s*ROOT\s*\)"""),
    # a library on the tests' own data with its default cache writes .cache into tests/data
    re.compile(r"""Library\(\s*KURSK\.parent\s*\)"""),
]


def offences(text: str) -> list[str]:
    return [m.group(0) for pattern in FORBIDDEN for m in pattern.finditer(text)]


def test_no_test_reads_the_repository_digests_folder() -> None:
    found = {
        str(path.relative_to(ROOT)): hits
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()  # its own examples below
        if (hits := offences(path.read_text("utf-8")))
    }
    assert found == {}


def test_the_scan_catches_each_way_in() -> None:
    """The patterns above do match what they are meant to (so the scan can fail)."""
    assert offences('KURSK = ROOT / "digests" / "k.yaml"')
    assert offences('ROOT / "digests/articles/k.txt"')
    assert offences('x = Path(__file__).parents[2] / "digests"')
    assert offences("subprocess.run(cmd, cwd=ROOT)")
    assert offences("os.chdir(ROOT)")
    assert offences("library = Library(KURSK.parent)")
    assert not offences('cwd=ROOT / "bot"')
    assert not offences("Library(KURSK.parent, cache=tmp_path)")


def test_the_kursk_sample_is_the_tests_own_copy() -> None:
    assert KURSK.is_relative_to(TESTS / "data")
    assert (KURSK.parent / "articles" / "kursk-2024-08-09.txt").is_file()
