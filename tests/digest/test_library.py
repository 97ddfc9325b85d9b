from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.digest.library import Library, _IdIndex, _WordIndex, describe
from bot.digest.model import fold
from tests.helpers import WriteDigest, base_digest, dump


def bump(path: Path) -> None:
    """Make a rewrite visible even on filesystems with coarse timestamps."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_added_changed_removed(write_digest: WriteDigest, tmp_path: Path) -> None:
    library = Library(tmp_path)
    assert library.refresh().added == ()
    path = write_digest()
    assert library.refresh().added == ("storm-2024-01-08",)
    assert not library.refresh()  # nothing changed, nothing reported
    data = base_digest()
    data["title"] = "Storm: the harbour reopens"
    path.write_text(dump(data), "utf-8")
    bump(path)
    assert library.refresh().updated == ("storm-2024-01-08",)
    assert library.newest() is not None
    assert library.newest().title == data["title"]
    path.unlink()
    assert library.refresh().removed == ("storm-2024-01-08",)
    assert library.all() == []


def test_broken_update_keeps_the_last_good_version(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    library = Library(tmp_path)
    path = write_digest()
    library.refresh()
    path.write_text(path.read_text().replace("schema: 1", "schema: 1\nbogus: 2"), "utf-8")
    bump(path)
    changes = library.refresh()
    assert changes.kept == ("storm-2024-01-08",)
    assert any("bogus: unknown key" in str(p) for p in changes.problems)
    assert library.get("storm-2024-01-08") is not None
    assert "last good version stays live" in "\n".join(describe(changes))
    assert not library.refresh().problems  # reported once, not on every poll
    assert library.problems  # but still known


def test_changed_article_is_re_verified(write_digest: WriteDigest, tmp_path: Path) -> None:
    library = Library(tmp_path)
    write_digest()
    library.refresh()
    article = tmp_path / "articles" / "storm.txt"
    article.write_text("A different text entirely.\n", "utf-8")
    bump(article)
    changes = library.refresh()
    assert any("not found verbatim" in str(p) for p in changes.problems)
    assert changes.kept == ("storm-2024-01-08",)


def test_a_missing_article_that_arrives_later_is_picked_up(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    article = tmp_path / "articles" / "storm.txt"
    write_digest()
    text = article.read_text()
    article.unlink()
    library = Library(tmp_path)
    assert library.refresh().problems
    article.write_text(text, "utf-8")
    assert library.refresh().added == ("storm-2024-01-08",)


def test_duplicate_ids_keep_the_first_file(write_digest: WriteDigest, tmp_path: Path) -> None:
    write_digest(name="a.yaml")
    write_digest(name="b.yaml")
    library = Library(tmp_path)
    changes = library.refresh()
    assert [d.id for d in library.all()] == ["storm-2024-01-08"]
    assert any(
        "b.yaml:1: id: 'storm-2024-01-08' is already used by a.yaml" in str(p)
        for p in changes.problems
    )


def test_a_vanished_folder_keeps_what_is_live(write_digest: WriteDigest, tmp_path: Path) -> None:
    write_digest()
    library = Library(tmp_path)
    library.refresh()
    library.folder = tmp_path / "gone"
    changes = library.refresh()
    assert describe(changes) == [
        f"{tmp_path / 'gone'}: digests folder not found; keeping what is live"
    ]
    assert library.get("storm-2024-01-08") is not None


def test_a_vanished_folder_is_reported_once_and_again_only_on_change(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    """Polled every reload_seconds, a missing folder must not log a line each time."""
    folder = tmp_path / "news"
    folder.mkdir()
    library = Library(folder)
    library.refresh()
    folder.rename(tmp_path / "away")
    assert len(library.refresh().problems) == 1
    assert [library.refresh() for _ in range(5)] == [library.refresh()] * 5
    assert not library.refresh()
    (tmp_path / "away").rename(folder)
    assert not library.refresh()
    folder.rename(tmp_path / "away")
    assert len(library.refresh().problems) == 1  # gone again: a change, so reported again


def test_newest_first(write_digest: WriteDigest, tmp_path: Path) -> None:
    write_digest(name="a.yaml")
    newer = base_digest()
    newer["id"] = "storm-later"
    write_digest(text=dump(newer).replace("2024-01-08", "2024-02-01"), name="b.yaml")
    library = Library(tmp_path)
    library.refresh()
    assert library.ids() == ["storm-later", "storm-2024-01-08"]


async def test_refresh_forever_runs_off_the_loop(write_digest: WriteDigest, tmp_path: Path) -> None:
    library = Library(tmp_path)
    task = asyncio.create_task(library.refresh_forever(0.01))
    write_digest()
    for _ in range(200):
        await asyncio.sleep(0.01)
        if library.get("storm-2024-01-08"):
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert library.get("storm-2024-01-08") is not None


def test_drafts_are_never_served(write_digest: WriteDigest, tmp_path: Path) -> None:
    write_digest(name="storm.draft.yaml")
    library = Library(tmp_path)
    assert not library.refresh()
    assert library.all() == []


def _reference_suggest(ids: list[str], partial: str) -> list[str]:
    """How autocomplete ranked digest ids before the index (folding every id per keystroke)."""
    needle = fold(partial)
    hits = [c for c in ids if fold(c).startswith(needle)]
    hits += [c for c in ids if needle in fold(c) and c not in hits]
    return [c[:100] for c in hits[:25]]


slugs = st.from_regex(r"[a-z0-9][a-z0-9-]{0,12}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(slugs, unique=True, max_size=60),
    st.one_of(slugs, st.text(max_size=6), st.sampled_from(["", "-", "a-", "A B", "2024"])),
)
def test_the_id_index_ranks_like_folding_every_id(ids: list[str], partial: str) -> None:
    assert _IdIndex(ids).matching(partial, 25) == _reference_suggest(ids, partial)


def test_autocomplete_offers_prefixes_first_then_the_rest(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    for name in ("storm-later", "harbour-storm", "storm-2024-01-08"):
        data = base_digest()
        data["id"] = name
        write_digest(data, name=f"{name}.yaml")
    library = Library(tmp_path)
    library.refresh()
    assert library.matching_ids("STORM") == ["storm-later", "storm-2024-01-08", "harbour-storm"]
    assert library.matching_ids("storm", limit=1) == ["storm-later"]
    assert library.matching_ids("nothing") == []


def _reference_by_word(digests: list[Any], word: str) -> Any:
    """How a word named a digest before the index (folding every id and title word)."""
    exact = next((d for d in digests if d.id == word), None)
    if exact is not None or len(word) < 3:
        return exact
    needle = fold(word)
    for hits in (
        [d for d in digests if d.id.startswith(word.lower())],
        [d for d in digests if needle in {fold(w) for w in re.split(r"[\s-]+", d.id)}],
        [d for d in digests if needle in {fold(w) for w in d.title.split()}],
    ):
        if len(hits) == 1:
            return hits[0]
        if hits:
            return None
    return None


_WORDS = ["storm", "Storm!", "kursk", "day", "four", "2024", "harbour", "STORM-2024", "the"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(
                st.sampled_from(["storm", "kursk", "2024", "day", "four", "x1"]),
                min_size=1,
                max_size=3,
            ),
            st.lists(st.sampled_from([*_WORDS, "Day", "four,", "Kursk's"]), max_size=5),
        ),
        max_size=8,
    ),
    st.one_of(
        st.sampled_from([*_WORDS, "sto", "storm-2", "ku", "x1", "kursks"]), st.text(max_size=6)
    ),
)
def test_a_word_names_the_digest_it_named_before_the_index(
    shapes: list[tuple[list[str], list[str]]], word: str
) -> None:
    digests: list[Any] = []
    for n, (parts, title) in enumerate(shapes):
        digest_id = "-".join(parts) + f"-{n}"
        digests.append(SimpleNamespace(id=digest_id, title=" ".join(title) or "Untitled"))
    expected = _reference_by_word(digests, word)
    assert _WordIndex(digests).named(word) is expected  # type: ignore[arg-type]
