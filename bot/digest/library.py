"""All digests in a folder, kept current while the bot runs.

``refresh`` is blocking file I/O: call it from a thread (``refresh_forever`` does). Readers get an
immutable snapshot, swapped in whole, so the event loop never sees a half-updated library. A file
that turns broken keeps its last good digest live; its problems are reported once per change.
Verified digests are kept in a cache folder, so a restart re-verifies only what changed; the
article texts are not kept at all (``Loaded.article_text`` reads one when it is needed).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.digest.cache import Stamps, VerifiedCache, stamp
from bot.digest.load import DigestInvalid, Loaded, Problem, load_digest
from bot.digest.model import Digest, fold

log = logging.getLogger(__name__)


DRAFTS = (".draft.yaml", ".draft.yml")


def is_draft(path: Path) -> bool:
    """``*.draft.yaml`` files are editors' work in progress: ``check`` them, never serve them."""
    return path.name.endswith(DRAFTS)


@dataclass(frozen=True, slots=True)
class _Entry:
    stamps: Stamps | None
    """Of the digest file and its article as verified (None: the file is broken)."""
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


FREEZE_AT = 1000
"""A refresh that brings in this many digests (a start) moves everything alive to the
collector's permanent generation (``gc.freeze``)."""


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading a year of digests makes millions of long-lived objects, and the cyclic garbage
    collector would scan them all again every few thousand allocations (40 % of a cold start).
    Loading makes no reference cycles worth collecting early; collection resumes after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _IdIndex:
    """The ids, newest first, folded into one string: autocomplete over a year of digests scans
    it with ``str.find`` instead of folding every id in Python on every keystroke."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = tuple(ids)
        folded = [fold(i) for i in self.ids]
        self.starts: list[int] = []
        at = 0
        for name in folded:
            self.starts.append(at)
            at += 1 + len(name)
        self.text = "".join(f"\n{name}" for name in folded)  # folding leaves no line break

    def matching(self, partial: str, limit: int) -> list[str]:
        """Ids that start with ``partial`` (folded), then those that contain it; newest first."""
        needle = fold(partial)
        hits: list[int] = []
        at = self.text.find("\n" + needle)
        while at != -1 and len(hits) < limit:
            hits.append(bisect.bisect_right(self.starts, at) - 1)
            at = self.text.find("\n" + needle, at + 1)
        if needle and len(hits) < limit:  # every id that starts with it is in hits by now
            found = set(hits)
            at = self.text.find(needle)
            while at != -1 and len(hits) < limit:
                index = bisect.bisect_right(self.starts, at) - 1
                if index not in found:
                    hits.append(index)
                if index + 1 == len(self.starts):
                    break
                at = self.text.find(needle, self.starts[index + 1])
        return [self.ids[i] for i in hits]


class _WordIndex:
    """Which digest a word names (``Library.named``), looked up rather than searched for: a
    year of digests would fold every id and title word on each ``/figures soldiers``."""

    def __init__(self, digests: Sequence[Digest]) -> None:
        self.digests = digests
        self.ids = sorted(d.id for d in digests)
        self.by_id = {d.id: d for d in digests}
        folded: dict[str, str] = {}  # titles repeat words: fold each once

        def words(texts: list[str]) -> set[str]:
            return {folded.get(t) or folded.setdefault(t, fold(t)) for t in texts}

        self.id_words: dict[str, Digest | None] = {}
        """A word of one id: its digest; of several: None (ambiguous). Titles' likewise."""
        self.title_words: dict[str, Digest | None] = {}
        for d in digests:
            for word in words(re.split(r"[\s-]+", d.id)):
                self.id_words[word] = None if word in self.id_words else d
            for word in words(d.title.split()):
                self.title_words[word] = None if word in self.title_words else d

    def named(self, word: str) -> Digest | None:
        exact = self.by_id.get(word)
        if exact is not None or len(word) < 3:
            return exact
        start = word.lower()
        at = bisect.bisect_left(self.ids, start)
        prefixed = [i for i in self.ids[at : at + 2] if i.startswith(start)]
        if prefixed:
            return self.by_id[prefixed[0]] if len(prefixed) == 1 else None
        needle = fold(word)
        for index in (self.id_words, self.title_words):
            if needle in index:
                return index[needle]
        return None


class Library:
    def __init__(self, folder: Path, cache: Path | None = None) -> None:
        """``cache``: where verified digests are kept across restarts (default: a ``.cache``
        folder inside ``folder``, which the loader never reads digests from)."""
        self.folder = folder
        self._cache = VerifiedCache(folder / ".cache" if cache is None else cache, folder)
        self._swept = False
        self._entries: dict[Path, _Entry] = {}
        self._by_id: Mapping[str, Loaded] = {}
        self._newest_first: tuple[Digest, ...] = ()
        self._index = _IdIndex(())
        self._words = _WordIndex(())
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
        return list(self._index.ids)

    def matching_ids(self, partial: str, limit: int = 25) -> list[str]:
        """Autocomplete for digest ids: those starting with ``partial`` (case and punctuation
        folded), then those containing it, newest first, at most ``limit``."""
        return self._index.matching(partial, limit)

    def named(self, word: str) -> Digest | None:
        """The one digest ``word`` names: its id, the start of one id only, or a word (case and
        punctuation folded) of one id only, else of one title only. The index is made on the
        first call after a change (a reader's thread; it is one snapshot's)."""
        words = self._words
        if words.digests is not self._newest_first:
            words = self._words = _WordIndex(self._newest_first)
        return words.named(word)

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(p for entry in self._entries.values() for p in entry.problems)

    # -- loading (blocking) -------------------------------------------------------------------
    def refresh(self) -> Changes:
        with self._lock, _collector_paused():
            changes = self._refresh()
            if len(changes.added) + len(changes.updated) >= FREEZE_AT:
                # The collector would scan a year of new digests once when resumed, and again
                # in each older generation: they hold no cycles (checked: a collection right
                # after a start finds no garbage), and a replaced digest is freed by its count.
                gc.freeze()
            return changes

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
        files = [self.folder / name for name in self._names()]
        old_ids = dict(self._by_id)
        resolved = os.path.realpath(self.folder)
        folders: dict[str, str] = {}  # resolved folders of articles, for this pass
        self._cache.begin()
        entries: dict[Path, _Entry] = {}
        fresh: list[Problem] = []
        kept_ids: list[str] = []
        good: list[tuple[Loaded, Stamps]] = []  # what the cache keeps (duplicate ids too)
        verified = False
        for path in files:
            previous = self._entries.get(path)
            if previous is not None and not previous.problems:
                assert previous.loaded is not None
                if previous.stamps == (stamp(path), stamp(previous.loaded.article_path)):
                    entries[path] = previous
                    good.append((previous.loaded, previous.stamps))
                    continue
            # A broken file is retried every time: what it lacks (its article) may have arrived.
            try:
                hit = self._cache.get(path, resolved, folders)
                if hit is None:
                    taken = time.time_ns()  # before the files are read: see cache.STAMP_SLACK_NS
                    loaded = load_digest(path)
                    stamps = (stamp(path), stamp(loaded.article_path))
                    self._cache.put(loaded, stamps, taken)
                    verified = True
                else:
                    loaded, stamps = hit.loaded, hit.stamps
                    if hit.hashed:
                        self._cache.put(loaded, stamps, hit.taken)
                good.append((loaded, stamps))
            except DigestInvalid as exc:
                kept = previous.loaded if previous else None
                entries[path] = _Entry(None, kept, exc.problems)
                if previous is None or previous.problems != exc.problems:
                    fresh.extend(exc.problems)
                    if kept is not None:
                        kept_ids.append(kept.digest.id)
                continue
            entries[path] = _Entry(stamps, loaded)
        by_id: dict[str, Loaded] = {}
        for path, entry in entries.items():
            if entry.loaded is None:
                continue
            digest_id = entry.loaded.digest.id
            if digest_id in by_id:
                other = by_id[digest_id].path.name
                problem = Problem(path, 1, "id", f"'{digest_id}' is already used by {other}")
                entries[path] = _Entry(entry.stamps, None, (problem,))
                if problem not in (self._entries.get(path) or _Entry(None, None)).problems:
                    fresh.append(problem)
                continue
            by_id[digest_id] = entry.loaded
        if verified or len(entries) < len(self._entries) or not self._swept:
            self._swept = True
            self._cache.end(good)
        self._entries = entries
        ordered = sorted((x.digest for x in by_id.values()), key=lambda d: (d.published, d.id))
        # Readers may run on other threads: publish the order before the ids it is built from.
        self._newest_first = tuple(reversed(ordered))
        if self._index.ids != tuple(d.id for d in self._newest_first):
            self._index = _IdIndex([d.id for d in self._newest_first])
        self._by_id = by_id
        added = tuple(sorted(set(by_id) - set(old_ids)))
        removed = tuple(sorted(set(old_ids) - set(by_id)))
        updated = tuple(sorted(i for i in set(by_id) & set(old_ids) if by_id[i] is not old_ids[i]))
        return Changes(added, updated, removed, tuple(fresh), tuple(kept_ids))

    def _names(self) -> list[str]:
        """The served digest files' names, sorted: ``*.yaml`` and ``*.yml`` (``glob``'s way:
        case-sensitive, hidden names too), not drafts; files or links to files."""
        try:
            with os.scandir(self.folder) as found:
                names = [
                    entry.name
                    for entry in found
                    if entry.name.endswith((".yaml", ".yml"))
                    and not entry.name.endswith(DRAFTS)
                    and entry.is_file()
                ]
        except OSError:  # gone since it was checked: nothing to serve from it this time
            return []
        return sorted(names)

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
