"""The review queue as the desk sees it: a small Protocol, and drafts kept as files.

The desk needs five operations — list drafts, get one with its version, save a revision based
on a version (refused when stale), approve, reject with a reason — and nothing else, so the
pipeline's store-backed queue plugs in by implementing ``ReviewQueue``. ``FolderQueue`` is the
queue of ``*.draft.yaml`` files in the digests folder (what ``python -m bot draft`` writes):
approval writes ``<id>.yaml`` atomically, rejection renames the draft out of the folder's way.

Versions are opaque strings: two editors saving on the same version → the second is refused.
Methods block (file I/O, loader): async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from bot.digest.library import is_draft
from bot.digest.load import (
    MAX_DIGEST_BYTES,
    DigestInvalid,
    Loaded,
    load_digest,
    load_digest_text,
    read_text,
)


@dataclass(frozen=True)
class Draft:
    id: str
    version: str
    text: str
    """The digest's YAML, as the loader reads it."""
    path: Path
    """Where the draft lives: its ``article.text`` is relative to this file's folder."""
    saved_by: str | None = None
    saved_at: datetime | None = None


class StaleDraft(Exception):
    """The draft changed since the version the editor started from."""

    def __init__(self, current: Draft) -> None:
        self.current = current
        who = f" by {current.saved_by}" if current.saved_by else ""
        super().__init__(f"this draft was changed{who} since you opened it")


class UnknownDraft(KeyError):
    """No such draft (approved, rejected or expired meanwhile)."""


class ReviewQueue(Protocol):
    def pending(self) -> list[Draft]: ...

    def get(self, draft_id: str) -> Draft | None: ...

    def save(self, draft_id: str, text: str, *, based_on: str, by: str) -> Draft:
        """Store a revision; ``StaleDraft`` when ``based_on`` is not the current version,
        ``DigestInvalid`` when the loader refuses the text (nothing is stored then)."""
        ...

    def approve(self, draft_id: str, *, based_on: str, by: str) -> Path:
        """Make it live; returns the digest file. ``DigestInvalid`` if it fails ``check``."""
        ...

    def reject(self, draft_id: str, *, based_on: str, by: str, reason: str) -> None: ...

    def revise(self, live: Loaded, *, by: str) -> Draft:
        """A draft of a live digest, to correct it (approving it changes the live digest);
        the open one when there is one already."""
        ...


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_atomically(path: Path, text: str) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the new one."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _utcnow() -> datetime:
    return datetime.now(UTC)


class FolderQueue:
    """Drafts as ``NAME.draft.yaml`` files in the digests folder."""

    def __init__(self, folder: Path, clock: Callable[[], datetime] = _utcnow) -> None:
        self.folder = folder
        self.clock = clock
        self._lock = threading.Lock()
        self._saved: dict[str, tuple[str, datetime]] = {}

    def _path(self, draft_id: str) -> Path:
        path = self.folder / f"{draft_id}.draft.yaml"
        if "/" in draft_id or draft_id.startswith(".") or not is_draft(path):
            raise UnknownDraft(draft_id)
        return path

    def _read(self, draft_id: str) -> Draft | None:
        path = self._path(draft_id)
        try:
            text = read_text(path, MAX_DIGEST_BYTES, "draft")
        except DigestInvalid:
            return None if not path.exists() else Draft(draft_id, "unreadable", "", path)
        by, at = self._saved.get(draft_id, (None, None))
        return Draft(draft_id, version_of(text), text, path, by, at)

    def pending(self) -> list[Draft]:
        drafts = []
        for path in sorted(self.folder.glob("*.draft.yaml")):
            draft = self._read(path.name.removesuffix(".draft.yaml"))
            if draft is not None:
                drafts.append(draft)
        return drafts

    def get(self, draft_id: str) -> Draft | None:
        try:
            return self._read(draft_id)
        except UnknownDraft:
            return None

    def _current(self, draft_id: str, based_on: str) -> Draft:
        draft = self._read(draft_id)
        if draft is None:
            raise UnknownDraft(draft_id)
        if draft.version != based_on:
            raise StaleDraft(draft)
        return draft

    def check(self, draft_id: str, text: str) -> Loaded:
        """The loader's verdict on ``text`` as this draft (``DigestInvalid`` with its problems)."""
        return load_digest_text(self._path(draft_id), text)

    def save(self, draft_id: str, text: str, *, based_on: str, by: str) -> Draft:
        with self._lock:
            draft = self._current(draft_id, based_on)
            self.check(draft_id, text)
            write_atomically(draft.path, text)
            self._saved[draft_id] = (by, self.clock())
            saved = self._read(draft_id)
            assert saved is not None
            return saved

    def approve(self, draft_id: str, *, based_on: str, by: str) -> Path:
        with self._lock:
            draft = self._current(draft_id, based_on)
            loaded = self.check(draft_id, draft.text)
            target = self._target(draft_id, loaded.digest.id)
            stamp = self.clock().strftime("%Y-%m-%d %H:%M UTC")
            # schema 1 has no `reviewed:` key yet: who approved it is kept as a comment.
            write_atomically(target, f"# reviewed by {by} at {stamp} via desk\n{draft.text}")
            draft.path.unlink()
            self._saved.pop(draft_id, None)
            return target

    def _target(self, draft_id: str, digest_id: str) -> Path:
        """The live file this draft revises (same name, same id), else ``<id>.yaml``."""
        same_name = self.folder / f"{draft_id}.yaml"
        try:
            if load_digest(same_name).digest.id == digest_id:
                return same_name
        except DigestInvalid:
            pass
        return self.folder / f"{digest_id}.yaml"

    def revise(self, live: Loaded, *, by: str) -> Draft:
        with self._lock:
            draft_id = live.path.name.rsplit(".", 1)[0]
            path = self._path(draft_id)
            if live.path.parent.resolve() != self.folder.resolve():
                raise UnknownDraft(draft_id)
            if not path.exists():
                text = read_text(live.path, MAX_DIGEST_BYTES, "digest file")
                lines = text.splitlines(keepends=True)
                while lines and lines[0].startswith("# reviewed by "):
                    lines.pop(0)  # the next approval stamps it again
                write_atomically(path, "".join(lines))
                self._saved[draft_id] = (by, self.clock())
            draft = self._read(draft_id)
            assert draft is not None
            return draft

    def reject(self, draft_id: str, *, based_on: str, by: str, reason: str) -> None:
        with self._lock:
            draft = self._current(draft_id, based_on)
            stamp = self.clock().strftime("%Y-%m-%d %H:%M UTC")
            why = " ".join(reason.split())
            rejected = draft.path.with_name(draft.path.name + ".rejected")
            write_atomically(rejected, f"# rejected by {by} at {stamp}: {why}\n{draft.text}")
            draft.path.unlink()
            self._saved.pop(draft_id, None)
