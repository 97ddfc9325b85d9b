"""Verified digests kept on disk, so that a restart re-verifies only what changed.

Each verified digest file has an entry: the content hashes of the file and of its article as
verified, the two files' stamps (device, inode, size, mtime, ctime) as they were then, its
warnings, and the digest. A restart uses an entry when both files still have those stamps — an
untouched file is not read again — or else when they still hash the same (a ``touch``, a
restored copy); anything else is verified from the files again. A stamp is trusted only for a
file that had not changed for ``STAMP_SLACK_NS`` before its verification began: a write within
the same clock tick could leave the stamp as it was (the "racily clean" files of git's index),
so those are hashed. No program can choose a file's ctime (the kernel sets it on every
change), and a file replaced by a rename has another inode.

Entries live in one pack (the whole library in one read, written by a start that found much
outside it) and, for digests verified since, one loose file each. Both are named by the
loader's own fingerprint (its source code, PyYAML's and pydantic's versions), so a new release
of the rules finds none. Anything that cannot be read, checked or decoded is ignored — never
trusted — and the digests it would have described are verified from their files again.

An entry is a pickle that its own unpickler lets name only the digest's model classes and
dates (nothing else can be called), rebuilt without a second validation: the cache is as
trusted as the digests folder itself (whoever can write one can write the other), and its
checksum catches damage, not forgery.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import datetime
import hashlib
import io
import logging
import os
import pickle
import stat
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml

from bot.digest import model
from bot.digest.load import MAX_ARTICLE_BYTES, MAX_DIGEST_BYTES, Loaded, Problem, article_path

log = logging.getLogger(__name__)

FileStamp = bytes
"""(device, inode, size, mtime_ns, ctime_ns) of one file, packed (a year of them is kept):
any write or replacement of the file changes it."""
_STAMP = struct.Struct("<QQqqq")
Stamps = tuple[FileStamp | None, FileStamp | None]
"""Of a digest file and of its article (None: could not be read)."""

STAMP_SLACK_NS = 2_000_000_000
"""A file changed less than this before its verification began is hashed on the next start,
whatever its stamp (file systems keep coarse times: FAT 2 s, others a clock tick)."""


def fingerprint(package: Path = Path(__file__).parent) -> str:
    """What a verification depends on besides the two files: the code that does it."""
    digest = hashlib.sha256(f"pyyaml {yaml.__version__} pydantic {pydantic.VERSION}".encode())
    for module in sorted(package.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


RULES = fingerprint()


def _of(info: os.stat_result) -> FileStamp:
    return _STAMP.pack(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _ctime_ns(stamp: FileStamp) -> int:
    ctime: int = _STAMP.unpack(stamp)[4]
    return ctime


def stamp(path: Path | str) -> FileStamp | None:
    """The file's stamp (following links), or None if it cannot be read."""
    try:
        return _of(os.stat(path))
    except OSError:
        return None


def _read(path: Path | str, limit: int) -> bytes | None:
    """A file no larger than ``limit`` (the loader's own cap), or None; one open, one fstat."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > limit:
                return None
            data = handle.read()  # sized from that fstat: no 2 MiB buffer per small file
    except OSError:
        return None
    return None if len(data) > limit else data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the entry's encoding --------------------------------------------------------------------
def _models() -> dict[str, type[model.Frozen]]:
    found: dict[str, type[model.Frozen]] = {}
    todo = [model.Frozen]
    while todo:
        cls = todo.pop()
        if cls.__module__ == model.__name__:
            found[cls.__qualname__] = cls
        todo.extend(cls.__subclasses__())
    return found


_MODELS = _models()
_DATES: dict[str, type] = {
    c.__name__: c for c in (datetime.date, datetime.datetime, datetime.timezone, datetime.timedelta)
}


_FIELDS = {cls: frozenset(cls.model_fields) for cls in _MODELS.values()}
Shape = tuple[type[model.Frozen], tuple[str, ...]]
"""A model class and the names of the fields its input gave (``__pydantic_fields_set__``)."""
_SHAPES: dict[Shape, tuple[frozenset[str], set[str]]] = {}
_SAME_SHAPES: dict[Shape, Shape] = {}
"""One object per shape: a pickle writes it once."""
_SHAPE_OF: dict[tuple[type, int], tuple[set[str], Shape]] = {}
"""By model class and field-name set (kept alive here, so its id stays its own)."""
_set = object.__setattr__


def _shape(shape: Shape) -> tuple[frozenset[str], set[str]]:
    cls, names = shape
    if cls not in _FIELDS or not set(names) <= _FIELDS[cls]:
        raise pickle.UnpicklingError(f"not a digest model's fields: {shape!r}")
    return _SHAPES.setdefault(shape, (_FIELDS[cls], model.shared_fields_set(set(names))))


def _rebuild(shape: Shape, data: dict[str, Any]) -> Any:
    """A model as validation made it, from its fields (validated when the entry was made) and
    with the same shared set of field names, not validated twice. What the digests shared
    when they were pickled (field names, interned texts) the pickle's memo shares again."""
    fields, fields_set = _SHAPES.get(shape) or _shape(shape)
    if data.keys() != fields:
        raise pickle.UnpicklingError(f"not the fields of {shape[0].__name__}")
    instance = shape[0].__new__(shape[0])
    _set(instance, "__dict__", data)
    _set(instance, "__pydantic_fields_set__", fields_set)
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def _reduce(instance: model.Frozen) -> tuple[Any, ...]:
    cls, fields_set = type(instance), instance.__pydantic_fields_set__
    known = _SHAPE_OF.get((cls, id(fields_set)))
    if known is None or known[0] is not fields_set:  # most sets are shared (model.Frozen)
        shape = (cls, tuple(sorted(fields_set)))
        known = (fields_set, _SAME_SHAPES.setdefault(shape, shape))
        if len(_SHAPE_OF) < 4096:  # a copied model's own set would be kept for good
            _SHAPE_OF[cls, id(fields_set)] = known
    return _rebuild, (known[1], instance.__dict__)  # its keys too: once per pickle, not per model


class _Unpickler(pickle.Unpickler):
    """Names only what an entry is made of; anything else is a corrupt entry."""

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_rebuild":
            return _rebuild
        if module == model.__name__ and name in _MODELS:
            return _MODELS[name]
        if module == "datetime" and name in _DATES:
            return _DATES[name]
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a cache entry")


@dataclass(frozen=True, slots=True)
class _Entry:
    file: str
    taken: int
    """time.time_ns() before either file was read for the verification."""
    stamps: Stamps
    sha256: str
    article: str
    article_sha256: str
    warnings: tuple[tuple[int, str, str], ...]
    digest: model.Digest

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field.name) for field in dataclasses.fields(self))

    @classmethod
    def of(cls, loaded: Loaded, stamps: Stamps, taken: int) -> _Entry:
        warnings = tuple((p.line, p.field, p.message) for p in loaded.warnings)
        return cls(
            str(loaded.path),
            taken,
            stamps,
            loaded.sha256,
            str(loaded.article_path),
            loaded.article_sha256,
            warnings,
            loaded.digest,
        )

    def shaped(self) -> bool:
        """Whether a decoded entry has the types this module wrote (else it is not used)."""
        texts = (self.file, self.sha256, self.article, self.article_sha256)
        return (
            all(type(text) is str for text in texts)
            and type(self.taken) is int
            and type(self.stamps) is tuple
            and len(self.stamps) == 2
            and all(part is None or type(part) is bytes for part in self.stamps)
            and type(self.warnings) is tuple
            and all(_is_warning(w) for w in self.warnings)
            and type(self.digest) is model.Digest
        )


def _is_warning(warning: object) -> bool:
    return (
        type(warning) is tuple
        and len(warning) == 3
        and type(warning[0]) is int
        and all(type(part) is str for part in warning[1:])
    )


CHUNK = 256
"""Entries per pickle in a pack: what one unpickler's memo keeps alive at a time (a whole year
at once would leave tens of MiB of freed memory between the digests)."""
_HEAD = struct.Struct("<Q32s")
"""Before each pickle: its length and its SHA-256."""


def _dump(entries: list[_Entry], path: Path) -> None:
    """The entries as pickles of ``CHUNK`` each, each after its length and checksum and
    starting with ``RULES`` (what they depend on)."""
    table = copyreg.dispatch_table | {cls: _reduce for cls in _MODELS.values()}
    with open(path, "wb") as handle:
        for start in range(0, len(entries), CHUNK):
            buffer = io.BytesIO()
            pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = table
            pickler.dump((RULES, [entry.row() for entry in entries[start : start + CHUNK]]))
            body = buffer.getbuffer()
            handle.write(_HEAD.pack(len(body), hashlib.sha256(body).digest()))
            handle.write(body)
            del body  # the buffer cannot be freed while a view of it exists


def _load(path: Path | str, limit: int = 2**40) -> list[_Entry]:
    """The entries of a pack or loose file, or none at all if any part of it is damaged, too
    large or of other rules."""
    entries: list[_Entry] = []
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > limit:
                return []
            while head := handle.read(_HEAD.size):
                if len(head) != _HEAD.size:
                    return []
                size, checksum = _HEAD.unpack(head)
                body = handle.read(size)
                if len(body) != size or hashlib.sha256(body).digest() != checksum:
                    return []
                rules, rows = _Unpickler(io.BytesIO(body)).load()
                if rules != RULES:
                    return []
                entries.extend(_Entry(*row) for row in rows)
    except Exception:  # unreadable, or whatever a damaged entry makes the unpickler say
        return []
    return entries if entries and all(entry.shaped() for entry in entries) else []


# -- the cache -------------------------------------------------------------------------------
def _current(
    path: str, known: FileStamp | None, sha256: str, taken: int, limit: int
) -> tuple[FileStamp, bool] | None:
    """The stamp of ``path`` if it still holds the content hashed ``sha256`` (None if not), and
    whether that took reading it: the entry's stamp is not there, or too close to ``taken``."""
    now = stamp(path)
    if now is None:
        return None
    if now == known and _ctime_ns(now) < taken - STAMP_SLACK_NS:
        return now, False  # not written since well before the verification began
    found = _read(path, limit)
    if found is None or _sha256(found) != sha256:
        return None
    return now, True


@dataclass(frozen=True, slots=True)
class Hit:
    loaded: Loaded
    stamps: Stamps
    taken: int
    hashed: bool
    """A file had to be read to know it is unchanged: put it again, so the next start need not."""


PACK_WHEN_OUTSIDE = 1 / 16
"""A start writes a new pack when more than this share of its digests came from outside it
or had to be written again (verified, or hashed under new stamps)."""


class VerifiedCache:
    """Entries for the digests of one folder, under ``root`` (shared by several folders).

    A pass over the folder is ``begin``, ``get`` (then ``put`` after a miss) for each file, and
    ``end`` with what is live; the first pass reads the pack, and writes one if it is due."""

    def __init__(self, root: Path, digests: Path) -> None:
        key = hashlib.sha256(os.path.realpath(digests).encode()).hexdigest()[:16]
        self.folder = root / f"verified-{key}"
        self._pack_name = f"pack-{RULES[:32]}"
        self._warned = False
        self._first = True
        self._began = 0
        self._pack: dict[str, _Entry] = {}
        self._loose: set[str] = set()
        self._loose_used = 0
        self._later: list[_Entry] = []
        """What the first pass verified, or had to hash again: for the pack or loose files."""

    def name(self, file: Path) -> str:
        return hashlib.sha256(f"{RULES}\n{file}".encode()).hexdigest()[:32] + ".entry"

    def begin(self) -> None:
        self._began = time.time_ns()
        try:
            self._loose = {n for n in os.listdir(self.folder) if n.endswith(".entry")}
        except OSError:
            self._loose = set()
        if self._first:
            self._pack = {entry.file: entry for entry in _load(self.folder / self._pack_name)}

    def get(self, file: Path, folder: str, folders: dict[str, str]) -> Hit | None:
        """The digest verified from exactly the files there are now, or None (then verify
        it). ``folder``: ``file``'s folder, resolved; ``folders``: the resolved folders of
        articles, filled as they are met (valid for one pass)."""
        taken = time.time_ns()
        entry, packed = self._entry(file)
        if entry is None:
            return None
        digest = _current(str(file), entry.stamps[0], entry.sha256, entry.taken, MAX_DIGEST_BYTES)
        if digest is None:
            return None
        source = _article(file, entry.digest, folders)
        if source != entry.article or not source.startswith(os.path.join(folder, "")):
            return None  # a link or folder that now leads elsewhere: let the loader say so
        article = _current(
            source, entry.stamps[1], entry.article_sha256, entry.taken, MAX_ARTICLE_BYTES
        )
        if article is None:
            return None
        self._loose_used += self._first and not packed
        warnings = tuple(Problem(file, *warning) for warning in entry.warnings)
        loaded = Loaded(
            entry.digest, file, Path(source), entry.sha256, entry.article_sha256, warnings
        )
        return Hit(loaded, (digest[0], article[0]), taken, digest[1] or article[1])

    def _entry(self, file: Path) -> tuple[_Entry | None, bool]:
        """The loose entry (newer than the pack: a pack takes in the loose ones it replaces),
        else the pack's, and whether it is the pack's. The pack's are taken out as they are
        used: freed while the pass goes on."""
        in_pack = self._pack.pop(str(file), None)
        name = self.name(file)
        if name in self._loose:
            found = _load(self.folder / name, 4 * MAX_DIGEST_BYTES)
            if len(found) == 1 and found[0].file == str(file):
                return found[0], False
            return None, False
        return in_pack, in_pack is not None

    def put(self, loaded: Loaded, stamps: Stamps, taken: int) -> None:
        """Keep ``loaded`` for the next start; a cache that cannot be written is only slower.
        ``stamps``: of its two files, taken after ``taken`` (``time.time_ns()`` before either
        file was read for this verification). The first pass keeps them for its ``end``: a
        start that verifies much writes them all into a pack, not one by one."""
        entry = _Entry.of(loaded, stamps, taken)
        if self._first:
            self._later.append(entry)
        else:
            self._write(self.name(loaded.path), [entry])

    def _write(self, name: str, entries: list[_Entry]) -> bool:
        target = self.folder / name
        temporary = self.folder / f"{name}.{os.getpid()}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _dump(entries, temporary)
            os.replace(temporary, target)
        except OSError as exc:
            if not self._warned:
                log.warning("cannot write the digest cache in %s: %s", self.folder, exc)
                self._warned = True
            with contextlib.suppress(OSError):
                temporary.unlink()
            return False
        return True

    def end(self, live: Sequence[tuple[Loaded, Stamps]]) -> None:
        """After a pass, with every digest now live and the stamps it was verified under:
        the first pass writes a pack if much was outside it; any pass removes what no live
        digest needs (entries of digests that went away, of older rules, stray temporaries)."""
        first, self._first = self._first, False
        self._pack = {}
        later, self._later = self._later, []
        packed = False
        if first and self._loose_used + len(later) > len(live) * PACK_WHEN_OUTSIDE:
            # Stamped when this pass began: earlier than any of its reads (see _current).
            entries = [_Entry.of(loaded, stamps, self._began) for loaded, stamps in live]
            packed = self._write(self._pack_name, entries)
        if not packed:
            for entry in later:
                self._write(self.name(Path(entry.file)), [entry])
        keep = set() if packed else {self.name(loaded.path) for loaded, _ in live}
        keep.add(self._pack_name)
        try:
            present = os.listdir(self.folder)
        except OSError:
            return
        for name in present:
            if name not in keep:
                with contextlib.suppress(OSError):
                    os.unlink(self.folder / name)


def _article(file: Path, digest: model.Digest, folders: dict[str, str]) -> str:
    """``str(article_path(file, digest))``, resolving each folder of articles once per pass:
    the last part is looked up alone (``lstat``), and a link there is resolved in full."""
    candidate = os.path.join(os.path.dirname(file), digest.article.text)
    parent, name = os.path.split(candidate)
    try:
        if name in ("", ".", "..") or stat.S_ISLNK(os.lstat(candidate).st_mode):
            return str(article_path(file, digest))
    except OSError:
        return str(article_path(file, digest))
    resolved = folders.get(parent)
    if resolved is None:
        resolved = folders[parent] = os.path.realpath(parent)  # no RuntimeError on a loop
    return os.path.join(resolved, name)
