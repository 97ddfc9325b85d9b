"""Verified digests kept on disk, so that a restart re-verifies only what changed.

One file per verified digest, named by the path and content hash of the digest file and by the
loader's own fingerprint (its source code, PyYAML's and pydantic's versions): an edited digest, an
edited article or a new release of the rules simply misses. An entry is used only when the article
its digest names still has the content hash it was verified against and its own checksum holds; a
file that cannot be read, checked or validated is ignored — never trusted — and the digest it
would have described is verified from its files again. The cache is as trusted as the digests
folder itself (whoever can write one can write the other): the checksum catches damage, not
forgery.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.digest.load import MAX_ARTICLE_BYTES, MAX_DIGEST_BYTES, Loaded, article_path
from bot.digest.model import Digest

log = logging.getLogger(__name__)

Stamp = tuple[tuple[int, int], ...]
"""(mtime_ns, size) of a digest file and of its article."""


def fingerprint(package: Path = Path(__file__).parent) -> str:
    """What a verification depends on besides the two files: the code that does it."""
    digest = hashlib.sha256(f"pyyaml {yaml.__version__} pydantic {pydantic.VERSION}".encode())
    for module in sorted(package.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


RULES = fingerprint()


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    rules: str
    file: str
    sha256: str
    article_sha256: str
    digest: Digest


@dataclass(frozen=True)
class _File:
    data: bytes
    stamp: tuple[int, int]
    """(mtime_ns, size) of the very file read: what the library polls for changes."""


def _read(path: Path, limit: int) -> _File | None:
    """A file no larger than ``limit`` (the loader's own cap), or None; one open, one fstat."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_size > limit:
                return None
            data = handle.read()  # sized from that fstat: no 2 MiB buffer per small file
    except OSError:
        return None
    if len(data) > limit:
        return None
    return _File(data, (info.st_mtime_ns, info.st_size))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class VerifiedCache:
    """Entries for the digests of one folder, under ``root`` (shared by several folders)."""

    def __init__(self, root: Path, digests: Path) -> None:
        key = hashlib.sha256(str(digests.resolve()).encode()).hexdigest()[:16]
        self.folder = root / f"verified-{key}"
        self._warned = False

    def name(self, file: Path, sha256: str) -> str:
        return hashlib.sha256(f"{RULES}\n{file}\n{sha256}".encode()).hexdigest() + ".json"

    def get(self, file: Path, folder: Path) -> tuple[Loaded, Stamp] | None:
        """The digest verified from exactly these files and their stamps, or None (then verify
        it). ``folder``: ``file``'s folder, resolved (once for all its files)."""
        digest_file = _read(file, MAX_DIGEST_BYTES)
        if digest_file is None:
            return None
        sha256 = _sha256(digest_file.data)
        raw = _read(self.folder / self.name(file, sha256), 4 * MAX_DIGEST_BYTES)
        if raw is None:
            return None
        checksum, _, body = raw.data.partition(b"\n")
        if checksum != _sha256(body).encode():
            return None
        try:
            entry = _Entry.model_validate_json(body)
        except ValidationError:
            return None
        if (entry.rules, entry.file, entry.sha256) != (RULES, str(file), sha256):
            return None
        source = article_path(file, entry.digest)
        if not source.is_relative_to(folder):
            return None  # a link that now leads outside: let the loader say so
        article = _read(source, MAX_ARTICLE_BYTES)
        if article is None or _sha256(article.data) != entry.article_sha256:
            return None
        loaded = Loaded(entry.digest, file, source, sha256, entry.article_sha256)
        return loaded, (digest_file.stamp, article.stamp)

    def put(self, loaded: Loaded) -> None:
        """Keep ``loaded`` for the next start; a cache that cannot be written is only slower."""
        entry = _Entry(
            rules=RULES,
            file=str(loaded.path),
            sha256=loaded.sha256,
            article_sha256=loaded.article_sha256,
            digest=loaded.digest,
        )
        body = entry.model_dump_json(by_alias=True).encode()
        target = self.folder / self.name(loaded.path, loaded.sha256)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(_sha256(body).encode() + b"\n" + body)
            os.replace(temporary, target)
        except OSError as exc:
            if not self._warned:
                log.warning("cannot write the digest cache in %s: %s", self.folder, exc)
                self._warned = True

    def keep_only(self, names: Iterable[str]) -> None:
        """Remove the entries of digests that changed or went away (and stray temporaries)."""
        live = set(names)
        try:
            stale = [p for p in self.folder.iterdir() if p.name not in live]
        except OSError:
            return
        for path in stale:
            with contextlib.suppress(OSError):
                path.unlink()
