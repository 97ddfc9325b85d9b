from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.digest.library import Library, describe
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
    assert "folder not found" in str(changes.problems[0])
    assert library.get("storm-2024-01-08") is not None


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
