"""Answers with several digests loaded: a place found in whichever digest has it, a digest
named positionally by its id, a start of it or a unique word, and places' alternate names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.commands.base import parse
from bot.digest.library import Library
from bot.reply import plain
from tests.helpers import ARTICLE, KURSK, answer, base_digest, dump

KURSK_ID = "kursk-incursion-2024-08-09"
STORM_ID = "storm-2025-01-08"


@pytest.fixture
def library(tmp_path: Path) -> Library:
    """Kursk, and a storm digest published later: the storm is the newest (the default)."""
    shutil.copytree(KURSK.parent, tmp_path, dirs_exist_ok=True)
    (tmp_path / "articles" / "storm.txt").write_text(ARTICLE, "utf-8")
    storm = base_digest()
    storm["id"] = STORM_ID
    storm["places"][0]["aliases"] = ["Porthwell"]
    (tmp_path / "storm.yaml").write_text(dump(storm).replace("2024-01-08", "2025-01-08"), "utf-8")
    library = Library(tmp_path)
    changes = library.refresh()
    assert not changes.problems, [str(p) for p in changes.problems]
    assert library.ids() == [STORM_ID, KURSK_ID]
    return library


def ask(library: Library, line: str) -> str:
    return plain(answer(library, parse(line)))


def test_where_finds_a_place_in_an_older_digest_and_says_which(library: Library) -> None:
    out = ask(library, "/where Korenevo")
    assert out.startswith("Korenevo — Ukraine's Kursk incursion, day four")
    assert f"Korenevo is in digest {KURSK_ID} (not the newest)." in out
    assert "Korenevo (Kursk oblast, Russia)" in out


def test_where_in_a_named_digest_says_which_digest_has_the_place(library: Library) -> None:
    out = ask(library, f"/where digest:{STORM_ID} Korenevo")
    assert out == (
        f"error: no place 'Korenevo' in {STORM_ID} — it is in {KURSK_ID}: "
        f"/where {KURSK_ID} Korenevo"
    )


def test_where_in_the_newest_digest_has_no_note(library: Library) -> None:
    out = ask(library, "/where Portwell")
    assert out.startswith("Portwell — Storm closes Portwell harbour")
    assert "not the newest" not in out


@pytest.mark.parametrize("word", ["kursk", "kursk-incursion", "incursion", KURSK_ID])
def test_a_digest_is_named_positionally_by_id_start_or_word(library: Library, word: str) -> None:
    summary = ask(library, f"/summary {word} 2")
    assert summary.startswith("Ukraine's Kursk incursion, day four")
    assert "2 of 17 points" in summary
    assert ask(library, f"/sources {word}").startswith("Ukraine's Kursk incursion, day four")
    assert "Korenevo (Kursk oblast" in ask(library, f"/where {word}")


def test_a_lone_word_that_is_a_query_stays_a_query(library: Library) -> None:
    """`/where Portwell`: a place of the newest digest, not a digest name."""
    assert ask(library, "/figures boats").startswith("Storm closes Portwell harbour — figures")
    assert "Korenevo" in ask(library, "/where kursk Korenevo")


@pytest.mark.parametrize(
    ("typed", "place"),
    [
        ("Коренево", "Korenevo"),
        ("коренево", "Korenevo"),
        ("Покровськ", "Pokrovsk"),
        ("Porthwell", "Portwell"),
    ],
)
def test_places_match_their_alternate_names(library: Library, typed: str, place: str) -> None:
    out = ask(library, f"/where {typed}")
    assert out.startswith(f"{place} — "), out


def test_an_unknown_word_is_still_refused(library: Library) -> None:
    assert ask(library, "/summary nowhere 2").startswith("error: unexpected 'nowhere 2'")
