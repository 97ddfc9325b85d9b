"""All digests in a folder, kept current while the bot runs.

``refresh`` is blocking file I/O: call it from a thread (``refresh_forever`` does). Readers get an
immutable snapshot, swapped in whole, so the event loop never sees a half-updated library. A file
that turns broken keeps its last good digest live; its problems are reported once per change.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.digest.load import DigestInvalid, Loaded, Problem, load_digest
from bot.digest.model import Digest

log = logging.getLogger(__name__)

Stamp = tuple[tuple[int, int], ...]


def is_draft(path: Path) -> bool:
    """``*.draft.yaml`` files are editors' work in progress: ``check`` them, never serve them."""
    return path.name.endswith((".draft.yaml", ".draft.yml"))


def _stamp(*paths: Path) -> Stamp:
    out: list[tuple[int, int]] = []
    for path in paths:
        try:
            info = path.stat()
            out.append((info.st_mtime_ns, info.st_size))
        except OSError:
            out.append((-1, -1))
    return tuple(out)


@dataclass(frozen=True)
class _Entry:
    stamp: Stamp
    loaded: Loaded | None
    """The live version: the newest good one (possibly older than the file on disk)."""
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = field(default=())
    """Problems found in files that changed during this refresh (old ones are not repeated)."""
    kept: tuple[str, ...] = ()
    """Digests whose file broke: their last good version stays live."""

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.problems)


class Library:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._entries: dict[Path, _Entry] = {}
        self._by_id: Mapping[str, Loaded] = {}
        self._newest_first: tuple[Digest, ...] = ()
        self._lock = threading.Lock()
        self._missing = False

    # -- reading (any thread; snapshots) ------------------------------------------------------
    def get(self, digest_id: str) -> Digest | None:
        loaded = self._by_id.get(digest_id)
        return loaded.digest if loaded else None

    def loaded(self, digest_id: str) -> Loaded | None:
        return self._by_id.get(digest_id)

    def all(self) -> list[Digest]:
        """Newest first (by publication date, then id)."""
        return list(self._newest_first)

    def newest(self) -> Digest | None:
        digests = self._newest_first
        return digests[0] if digests else None

    def ids(self) -> list[str]:
        return [d.id for d in self._newest_first]

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(p for entry in self._entries.values() for p in entry.problems)

    # -- loading (blocking) -------------------------------------------------------------------
    def refresh(self) -> Changes:
        with self._lock:
            return self._refresh()

    def _refresh(self) -> Changes:
        if not self.folder.is_dir():
            # A folder that vanished (unmounted, mid-deploy) must not take every digest down,
            # nor fill the log: it is reported once, and again only after it came back.
            if self._missing:
                return Changes()
            self._missing = True
            problem = Problem(self.folder, 0, "", "digests folder not found; keeping what is live")
            return Changes(problems=(problem,))
        if self._missing:
            self._missing = False
            log.info("%s: digests folder is back", self.folder)
        files = sorted(
            path
            for pattern in ("*.yaml", "*.yml")
            for path in self.folder.glob(pattern)
            if path.is_file() and not is_draft(path)
        )
        old_ids = dict(self._by_id)
        entries: dict[Path, _Entry] = {}
        fresh: list[Problem] = []
        kept_ids: list[str] = []
        for path in files:
            previous = self._entries.get(path)
            if previous is not None and not previous.problems:
                assert previous.loaded is not None
                if previous.stamp == _stamp(path, previous.loaded.article_path):
                    entries[path] = previous
                    continue
            # A broken file is retried every time: what it lacks (its article) may have arrived.
            try:
                loaded = load_digest(path)
            except DigestInvalid as exc:
                kept = previous.loaded if previous else None
                entries[path] = _Entry((), kept, exc.problems)
                if previous is None or previous.problems != exc.problems:
                    fresh.extend(exc.problems)
                    if kept is not None:
                        kept_ids.append(kept.digest.id)
                continue
            entries[path] = _Entry(_stamp(path, loaded.article_path), loaded)
        by_id: dict[str, Loaded] = {}
        for path, entry in entries.items():
            if entry.loaded is None:
                continue
            digest_id = entry.loaded.digest.id
            if digest_id in by_id:
                other = by_id[digest_id].path.name
                problem = Problem(path, 1, "id", f"'{digest_id}' is already used by {other}")
                entries[path] = _Entry(entry.stamp, None, (problem,))
                if problem not in (self._entries.get(path) or _Entry((), None)).problems:
                    fresh.append(problem)
                continue
            by_id[digest_id] = entry.loaded
        self._entries = entries
        ordered = sorted((x.digest for x in by_id.values()), key=lambda d: (d.published, d.id))
        # Readers may run on other threads: publish the order before the ids it is built from.
        self._newest_first = tuple(reversed(ordered))
        self._by_id = by_id
        added = tuple(sorted(set(by_id) - set(old_ids)))
        removed = tuple(sorted(set(old_ids) - set(by_id)))
        updated = tuple(sorted(i for i in set(by_id) & set(old_ids) if by_id[i] is not old_ids[i]))
        return Changes(added, updated, removed, tuple(fresh), tuple(kept_ids))

    async def refresh_forever(self, every: float) -> None:
        """Poll the folder off the event loop until cancelled."""
        while True:
            await asyncio.sleep(every)
            try:
                changes = await asyncio.to_thread(self.refresh)
            except Exception:  # keep serving the last good library whatever happens
                log.exception("refreshing digests failed")
                continue
            level = logging.WARNING if changes.problems else logging.INFO
            for line in describe(changes):
                log.log(level, "%s", line)


def describe(changes: Changes) -> list[str]:
    """What changed, one line each, for the console or the log."""
    out = [str(problem) for problem in changes.problems]
    out.extend(
        f"[digests] {i}: the file is broken; its last good version stays live" for i in changes.kept
    )
    for verb, ids in (("added", changes.added), ("updated", changes.updated)):
        out.extend(f"[digests] {verb} {i}" for i in ids)
    out.extend(f"[digests] removed {i}" for i in changes.removed)
    return out
