"""The verification cache: a restart re-verifies only what changed and never trusts a bad entry,
gives what verifying would have given, and keeps no article text in memory."""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from bot.digest import cache as cache_module
from bot.digest import library as library_module
from bot.digest.library import Library
from bot.digest.load import DigestInvalid, Loaded, load_digest
from bot.digest.model import Digest
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


def pack(cache: Path) -> Path:
    (found,) = [p for p in entries(cache) if p.name.startswith("pack-")]
    return found


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file the cache reads to hash it (rather than trusting its stamp)."""
    calls: list[Path] = []
    original = cache_module._read

    def counting(path: Path | str, limit: int) -> Any:
        calls.append(Path(path))
        return original(path, limit)

    monkeypatch.setattr(cache_module, "_read", counting)
    return calls


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as settled at once (in use, a file written less than two seconds before
    its verification is hashed on the next start, whatever its stamp)."""
    monkeypatch.setattr(cache_module, "STAMP_SLACK_NS", 0)


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
    assert [d.model_dump() for d in cached] == [d.model_dump() for d in fresh]
    ranges = [f.value for f in cached[0].figures if isinstance(f.value, tuple)]
    assert ranges  # tuples, floats and dates survive the round trip as they were
    assert isinstance(cached[0].places[0].lat, float)
    for one, two in zip(fresh[0].figures, cached[0].figures, strict=True):
        assert type(one.value) is type(two.value)
        assert one.model_fields_set == two.model_fields_set


@pytest.mark.parametrize("settle", [False, True])
def test_with_and_without_the_cache_the_same(
    write_digest: WriteDigest, tmp_path: Path, settle: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digest, hashes, paths and warnings (with their lines), by stamp or by hash."""
    if settle:
        monkeypatch.setattr(cache_module, "STAMP_SLACK_NS", 0)
    unused = base_digest()
    unused["sources"]["nobody"] = {"name": "Nobody", "kind": "other"}
    path = write_digest(unused)
    fresh = load_digest(path)
    assert fresh.warnings  # the unused source
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    cached = restart(tmp_path, cache).loaded(ID)
    assert cached == fresh
    assert [str(w) for w in cached.warnings] == [str(w) for w in fresh.warnings]


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
    verifications.clear()
    assert restart(tmp_path, cache).get(ID) == library.get(ID)
    assert verifications == []  # the new version is what the cache now holds


@pytest.mark.usefixtures("settled")
def test_an_untouched_file_is_not_read_again(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path], reads: list[Path]
) -> None:
    write_digest()
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    reads.clear()
    verifications.clear()
    assert restart(tmp_path, cache).get(ID) is not None
    assert verifications == []
    assert [p for p in reads if cache not in p.parents] == []  # its stamps were enough


def test_a_file_written_just_before_its_verification_is_hashed(
    write_digest: WriteDigest,
    tmp_path: Path,
    verifications: list[Path],
    reads: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A write within the same clock tick as the verification could leave its stamp unchanged:
    the next start reads and hashes it, then keeps its stamp for the start after."""
    path = write_digest()
    cache = tmp_path / "cache"
    restart(tmp_path, cache)  # at once: well within STAMP_SLACK_NS of the write
    reads.clear()
    assert restart(tmp_path, cache).get(ID) is not None
    assert verifications == [path]  # only the first start verified it
    assert path in reads
    assert tmp_path / "articles" / "storm.txt" in reads
    assert [p.name[:5] for p in entries(cache)] == ["pack-"]  # restamped into a new pack
    monkeypatch.setattr(cache_module, "STAMP_SLACK_NS", 0)  # as if two seconds had passed
    reads.clear()
    restart(tmp_path, cache)
    assert path not in reads


@pytest.mark.usefixtures("settled")
def test_an_edit_that_keeps_size_and_mtime_is_still_seen(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    """What a copy that preserves times (``cp -p``, ``rsync -a``) or a quick same-length edit
    leaves: the inode or the ctime (which no program can set) tells."""
    path = write_digest()
    article = tmp_path / "articles" / "storm.txt"
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    for changed, old, new in ((article, "14 boats", "41 boats"), (path, "Storm", "Strom")):
        before = changed.stat()
        changed.write_text(changed.read_text("utf-8").replace(old, new), "utf-8")
        os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = changed.stat()
        assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
        verifications.clear()
        library = Library(tmp_path, cache=cache)
        changes = library.refresh()
        assert verifications == [path]
        if changed == article:  # its figure says 14; the article now says 41
            assert any("figures[0]" in str(p) for p in changes.problems)
            changed.write_text(ARTICLE, "utf-8")
            restart(tmp_path, cache)
        else:
            assert library.get(ID) is not None
            assert library.get(ID).title == "Strom closes Portwell harbour"


@pytest.mark.usefixtures("settled")
def test_a_touched_file_is_hashed_once_not_verified(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path], reads: list[Path]
) -> None:
    path = write_digest()
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    os.utime(path)  # a new mtime, the same content
    verifications.clear()
    reads.clear()
    assert restart(tmp_path, cache).get(ID) is not None
    assert verifications == []
    assert path in reads  # hashed: the same content
    reads.clear()
    restart(tmp_path, cache)
    assert path not in reads  # and its new stamp kept


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
    return raw.replace(b"two dozen people", b"two hundred peop")


def _corrupt_resealed(raw: bytes) -> bytes:
    """A well-formed pickle under a valid checksum that would call something else."""
    body = pickle.dumps((cache_module.RULES, [(_called.append, ("ran",))]))
    return struct.pack("<Q32s", len(body), hashlib.sha256(body).digest()) + body


def _run(what: str) -> None:
    _called.append(what)


class _Runs:
    def __reduce__(self) -> tuple[Any, ...]:
        return (_run, ("ran",))


def _corrupt_code(raw: bytes) -> bytes:
    body = pickle.dumps((cache_module.RULES, [_Runs()]))
    return struct.pack("<Q32s", len(body), hashlib.sha256(body).digest()) + body


def _corrupt_garbage(raw: bytes) -> bytes:
    return b"\x00\xff" * 100


def _corrupt_empty(raw: bytes) -> bytes:
    return b""


def _corrupt_appended(raw: bytes) -> bytes:
    return raw + b"\x01"


_called: list[str] = []


@pytest.mark.parametrize(
    "corrupt",
    [
        _corrupt_truncated,
        _corrupt_flipped,
        _corrupt_resealed,
        _corrupt_code,
        _corrupt_garbage,
        _corrupt_empty,
        _corrupt_appended,
    ],
)
def test_a_corrupt_cache_file_is_ignored_and_replaced(
    write_digest: WriteDigest,
    tmp_path: Path,
    verifications: list[Path],
    corrupt: Any,
) -> None:
    path = write_digest()
    cache = tmp_path / "cache"
    expected = restart(tmp_path, cache).get(ID)
    entry = pack(cache)
    good = entry.read_bytes()
    entry.write_bytes(corrupt(good))
    assert entry.read_bytes() != good
    verifications.clear()
    library = restart(tmp_path, cache)
    assert verifications == [path]
    assert library.get(ID) == expected
    assert _called == []  # nothing a cache file names is ever called
    verifications.clear()
    assert restart(tmp_path, cache).get(ID) == expected
    assert verifications == []  # rewritten from the verified files


class _Misshapen:
    """Pickles as the cache's own rebuild of a digest, with a field a digest does not have."""

    def __reduce__(self) -> tuple[Any, ...]:
        fields: dict[str, Any] = {name: {} for name in Digest.model_fields}
        return (cache_module._rebuild, ((Digest, ("id",)), fields | {"extra": 1}))


def test_a_model_is_rebuilt_only_from_its_own_fields(tmp_path: Path) -> None:
    row = ("f", 0, (None, None), "", "", "", (), _Misshapen())
    body = pickle.dumps((cache_module.RULES, [row]))
    file = tmp_path / "pack"
    file.write_bytes(struct.pack("<Q32s", len(body), hashlib.sha256(body).digest()) + body)
    assert cache_module._load(file) == []


def test_a_pack_of_other_rules_is_ignored(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    """A checksum-valid pack under today's name whose rules are another release's."""
    path = write_digest()
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    entry = pack(cache)
    raw = entry.read_bytes()
    head = struct.calcsize("<Q32s")
    body = raw[head:].replace(cache_module.RULES.encode(), b"0" * len(cache_module.RULES))
    entry.write_bytes(struct.pack("<Q32s", len(body), hashlib.sha256(body).digest()) + body)
    verifications.clear()
    restart(tmp_path, cache)
    assert verifications == [path]


def test_a_pack_of_many_parts_round_trips(
    write_digest: WriteDigest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts of ``CHUNK`` entries each; one damaged part and none of the pack is used."""
    monkeypatch.setattr(cache_module, "CHUNK", 2)
    for n in range(5):
        other = base_digest()
        other["id"] = f"storm-{n}"
        write_digest(other, name=f"storm-{n}.yaml")
    cache = tmp_path / "cache"
    fresh = restart(tmp_path, cache).all()
    found = cache_module._load(pack(cache))
    assert sorted(e.digest.id for e in found) == sorted(d.id for d in fresh)
    assert restart(tmp_path, cache).all() == fresh
    raw = pack(cache).read_bytes()
    cut = raw.rindex(b"storm-4")
    pack(cache).write_bytes(raw[:cut] + b"storm-9" + raw[cut + 7 :])
    assert cache_module._load(pack(cache)) == []


def test_an_entry_for_another_file_is_not_used(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    """A checksum-valid entry whose own hash names other content (copied, mixed up) is stale
    as soon as the file has to be hashed."""
    path = write_digest()
    cache = tmp_path / "cache"
    restart(tmp_path, cache)
    entry = pack(cache)
    raw = entry.read_bytes()
    head = struct.calcsize("<Q32s")
    sha = hashlib.sha256(path.read_bytes()).hexdigest().encode()
    body = raw[head:].replace(sha, b"0" * 64)
    entry.write_bytes(struct.pack("<Q32s", len(body), hashlib.sha256(body).digest()) + body)
    verifications.clear()
    restart(tmp_path, cache)  # within STAMP_SLACK_NS of the write: hashed
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
    assert len(entries(cache)) == 1  # the old release's pack is swept


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


def test_digests_verified_while_running_are_loose_entries_until_the_next_start(
    write_digest: WriteDigest, tmp_path: Path, verifications: list[Path]
) -> None:
    write_digest()
    cache = tmp_path / "cache"
    library = Library(tmp_path, cache=cache)
    library.refresh()
    assert [p.name[:5] for p in entries(cache)] == ["pack-"]
    other = base_digest()
    other["id"] = "storm-other"
    added = write_digest(other, name="other.yaml")
    assert library.refresh().added == ("storm-other",)
    assert len(entries(cache)) == 2  # the pack, and the new digest's own entry
    added.unlink()
    assert library.refresh().removed == ("storm-other",)
    assert [p.name[:5] for p in entries(cache)] == ["pack-"]  # its entry went with it
    added = write_digest(other, name="other.yaml")
    library.refresh()
    verifications.clear()
    restart(tmp_path, cache)  # the loose entry is used, then taken into a new pack
    assert verifications == []
    assert [p.name[:5] for p in entries(cache)] == ["pack-"]
    assert len(cache_module._load(pack(cache))) == 2


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
