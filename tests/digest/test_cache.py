"""The verification cache: a restart re-verifies only what changed and never trusts a bad entry;
the article texts are not kept in memory."""

from __future__ import annotations

import gc
import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.digest import cache as cache_module
from bot.digest import library as library_module
from bot.digest.library import Library
from bot.digest.load import DigestInvalid, Loaded, load_digest
from tests.helpers import ARTICLE, KURSK, WriteDigest, base_digest, dump

ID = "storm-2024-01-08"


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every digest file the library verifies from scratch (rather than takes from the cache)."""
    calls: list[Path] = []

    def counting(path: Path) -> Loaded:
        calls.append(path)
        return load_digest(path)

    monkeypatch.setattr(library_module, "load_digest", counting)
    return calls


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file())


def restart(folder: Path, cache: Path) -> Library:
    library = Library(folder, cache=cache)
    library.refresh()
    return library


def test_a_restart_takes_every_unchanged_digest_from_the_cache(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    path = write_digest()
    cache = tmp_path / "cache"
    first = restart(tmp_path, cache)
    assert verifications == [path]
    assert len(entries(cache)) == 1
    second = restart(tmp_path, cache)
    assert verifications == [path]  # not verified again
    assert second.get(ID) == first.get(ID)
    loaded = second.loaded(ID)
    assert loaded is not None
    assert loaded.article_text() == ARTICLE


def test_the_cached_kursk_digest_is_the_verified_one(tmp_path: Path) -> None:
    folder = tmp_path / "digests"
    shutil.copytree(KURSK.parent, folder, ignore=shutil.ignore_patterns(".cache"))
    cache = tmp_path / "cache"
    fresh = restart(folder, cache).all()
    cached = restart(folder, cache).all()
    assert cached == fresh
    assert len(fresh) == 1
    ranges = [f.value for f in cached[0].figures if isinstance(f.value, tuple)]
    assert ranges  # tuples, floats and dates survive the round trip as they were
    assert isinstance(cached[0].places[0].lat, float)


def test_an_edited_digest_is_verified_again(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    path = write_digest()
    other = base_digest()
    other["id"] = "storm-other"
    unchanged = write_digest(other, name="other.yaml")
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    edited = base_digest()
    edited["title"] = "Storm shuts Portwell harbour"
    write_digest(edited)
    verifications.clear()
    library = restart(tmp_path, cache)
    assert verifications == [path]
    assert unchanged not in verifications
    assert library.get(ID) is not None
    assert library.get(ID).title == edited["title"]
    assert len(entries(cache)) == 2  # the old version's entry is gone


def test_an_edited_article_is_verified_again(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    path = write_digest()
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    article = tmp_path / "articles" / "storm.txt"
    article.write_text(ARTICLE.replace("14 boats", "some boats"), "utf-8")
    verifications.clear()
    library = Library(tmp_path, cache=cache)
    changes = library.refresh()
    assert verifications == [path]
    assert library.get(ID) is None  # its figure's quote is no longer in the article
    assert any("figures[0].quote: not found verbatim" in str(p) for p in changes.problems)


def _corrupt_truncated(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _corrupt_flipped(raw: bytes) -> bytes:
    return raw.replace(b"two dozen people", b"two hundred people")


def _corrupt_resealed(raw: bytes) -> bytes:
    """Valid JSON under a valid checksum, but not a digest the schema allows."""
    body = raw.partition(b"\n")[2].replace(b'"kind":"official"', b'"kind":"nonsense"')
    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def _corrupt_garbage(raw: bytes) -> bytes:
    return b"\x00\xff" * 100


def _corrupt_empty(raw: bytes) -> bytes:
    return b""


@pytest.mark.parametrize(
    "corrupt",
    [_corrupt_truncated, _corrupt_flipped, _corrupt_resealed, _corrupt_garbage, _corrupt_empty],
)
def test_a_corrupt_cache_file_is_ignored_and_replaced(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path], corrupt: Any
) -> None:
    path = write_digest()
    cache = tmp_path / "cache"
    expected = restart(tmp_path, cache).get(ID)
    (entry,) = entries(cache)
    good = entry.read_bytes()
    entry.write_bytes(corrupt(good))
    assert entry.read_bytes() != good
    verifications.clear()
    library = restart(tmp_path, cache)
    assert verifications == [path]
    assert library.get(ID) == expected
    assert entry.read_bytes() == good  # rewritten from the verified files


def test_an_entry_for_another_file_is_not_used(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    """A checksum-valid entry whose own fields name other content (copied, mixed up) is stale."""
    path = write_digest()
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    (entry,) = entries(cache)
    body = entry.read_bytes().partition(b"\n")[2]
    sha = hashlib.sha256(path.read_bytes()).hexdigest().encode()
    body = body.replace(sha, b"0" * 64)
    entry.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    verifications.clear()
    restart(tmp_path, cache)
    assert verifications == [path]


def test_new_rules_are_a_miss(
    write_digest: WriteDigest,
    tmp_path: Path,
    verifications: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_digest()
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    monkeypatch.setattr(cache_module, "RULES", "a newer loader")
    verifications.clear()
    restart(tmp_path, cache)
    assert verifications == [path]
    assert len(entries(cache)) == 1  # the old release's entry is swept


def test_the_fingerprint_covers_the_loaders_code(tmp_path: Path) -> None:
    package = Path(cache_module.__file__).parent
    copy = tmp_path / "digest"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert cache_module.fingerprint(copy) == cache_module.RULES
    rules = copy / "load.py"
    rules.write_text(rules.read_text() + "# a new rule\n")
    edited = cache_module.fingerprint(copy)
    assert edited != cache_module.RULES
    (copy / "checks.py").write_text("# rules moved here\n")  # a new module counts too
    assert cache_module.fingerprint(copy) not in (edited, cache_module.RULES)


def test_a_removed_digest_leaves_no_entry(write_digest: WriteDigest, tmp_path: Path) -> None:
    path = write_digest()
    cache = tmp_path / "cache"
    library = Library(tmp_path, cache=cache)
    library.refresh()
    path.unlink()
    assert library.refresh().removed == (ID,)
    assert entries(cache) == []


def test_a_cache_that_cannot_be_written_only_costs_time(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    write_digest()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    assert restart(tmp_path, blocked).get(ID) is not None
    assert restart(tmp_path, blocked).get(ID) is not None
    assert len(verifications) == 2


def test_a_link_that_now_leads_outside_is_verified_again(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:

    folder = tmp_path / "digests"
    folder.mkdir()
    (folder / "articles").mkdir()
    target = folder / "articles" / "real.txt"
    target.write_text(ARTICLE, "utf-8")
    (folder / "articles" / "storm.txt").symlink_to(target)
    (folder / "storm.yaml").write_text(dump(base_digest()), "utf-8")
    cache = tmp_path / "cache"
    assert restart(folder, cache).get(ID) is not None
    outside = tmp_path / "outside.txt"
    outside.write_text(ARTICLE, "utf-8")  # the same words, but outside the digest's folder
    (folder / "articles" / "storm.txt").unlink()
    (folder / "articles" / "storm.txt").symlink_to(outside)
    verifications.clear()
    library = Library(folder, cache=cache)
    changes = library.refresh()
    assert verifications == [folder / "storm.yaml"]
    assert library.get(ID) is None
    assert any("outside" in str(p) for p in changes.problems)


def _strings(root: object) -> list[str]:
    """Every str reachable from ``root`` through the objects it refers to (not modules, types)."""
    seen: set[int] = set()
    found: list[str] = []
    todo = [root]
    while todo:
        item = todo.pop()
        if id(item) in seen or isinstance(item, type) or type(item).__name__ == "module":
            continue
        seen.add(id(item))
        if isinstance(item, str):
            found.append(item)
            continue
        todo.extend(gc.get_referents(item))
    return found


@pytest.mark.parametrize("cached", [False, True])
def test_a_loaded_digest_holds_no_article_text(
    write_digest: WriteDigest, tmp_path: Path, cached: bool
) -> None:
    write_digest()
    cache = tmp_path / "cache"
    library = restart(tmp_path, cache)
    if cached:
        library = restart(tmp_path, cache)
    loaded = library.loaded(ID)
    assert loaded is not None
    sentence = "The coastguard said two dozen people were evacuated from the quay."
    assert sentence in ARTICLE
    held = _strings(loaded)
    assert "two dozen people were evacuated" in held  # the quote, as the digest has it
    assert not [s for s in held if sentence in s]  # but not the article around it


def test_article_text_is_read_on_demand_and_checked(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    path = write_digest()
    loaded = load_digest(path)
    assert loaded.article_text() == ARTICLE
    article = tmp_path / "articles" / "storm.txt"
    article.write_text(ARTICLE + "A later paragraph.\n", "utf-8")
    fresh = load_digest(path)
    assert fresh.article_text().endswith("A later paragraph.\n")
    assert loaded.article_text() == ARTICLE  # the verified words, still kept in the LRU
    article.unlink()
    with pytest.raises(DigestInvalid, match="cannot read article text"):
        Loaded(fresh.digest, path, article, fresh.sha256, "0" * 64).article_text()
    article.write_text("other words\n", "utf-8")
    with pytest.raises(DigestInvalid, match="changed since the digest was verified"):
        Loaded(fresh.digest, path, article, fresh.sha256, "0" * 64).article_text()


def test_a_digest_taken_from_the_cache_still_sees_later_edits(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    """The stamps of a cache hit are those of the files read: polling notices the next edit."""
    path = write_digest()
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    verifications.clear()
    library = restart(tmp_path, cache)
    assert verifications == []
    assert not library.refresh()  # nothing changed
    article = tmp_path / "articles" / "storm.txt"
    article.write_text(ARTICLE + "A later paragraph.\n", "utf-8")
    assert library.refresh().updated == (ID,)
    assert verifications == [path]
