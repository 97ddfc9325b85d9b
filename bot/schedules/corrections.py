"""Corrections reach every message already posted: watch live digests, diff, log, edit in place.

Each live digest's last seen version is kept in the store. When the library holds a different
version, the two are diffed (``bot.digest.diff``): an approved revision arrives with its
``corrections:`` entry already written; a file edited by hand gets the entry appended to the
file here (temp file + rename, checked with the loader first). Then every post of the digest
that reached a channel gets an edit row in the ledger (claimed before editing, so a restart
resumes it and never repeats it) and is queued on its platform's paced sender, which edits
each of the post's messages to the corrected content with the line "Corrected …: what".
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from bot.digest.diff import correction
from bot.digest.library import Library
from bot.digest.load import DigestInvalid, load_digest
from bot.digest.model import Correction, Digest
from bot.draft.emit import quoted
from bot.schedules.scheduler import Scheduler, utcnow
from bot.schedules.store import Store

log = logging.getLogger(__name__)

_KEY = re.compile(r"^corrections:\s*(\[\s*\])?\s*(#.*)?$")


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def version(entry: Correction) -> str:
    return _stamp(entry.at)


def with_correction(text: str, entry: Correction) -> str:
    """The digest file's text with ``entry`` appended to its ``corrections:`` list (or a new one);
    everything else, comments included, stays as the editor wrote it."""
    lines = text.rstrip("\n").split("\n")
    where = next((i for i, line in enumerate(lines) if _KEY.match(line)), None)
    if where is None:
        lines += ["corrections:"]
        where, end, indent = len(lines) - 1, len(lines), "  "
    else:
        lines[where] = "corrections:"
        end = where + 1
        indent = "  "
        while end < len(lines) and (not lines[end].strip() or lines[end][:1] in " -#"):
            if lines[end].lstrip().startswith("- "):
                indent = lines[end][: len(lines[end]) - len(lines[end].lstrip())]
            end += 1
        while end > where + 1 and not lines[end - 1].strip():
            end -= 1
    block = [f"{indent}- at: {_stamp(entry.at)}", f"{indent}  what: {quoted(entry.what)}"]
    return "\n".join(lines[:end] + block + lines[end:]) + "\n"


class Corrector:
    def __init__(
        self,
        library: Library,
        store: Store,
        scheduler: Scheduler,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.library = library
        self.store = store
        self.scheduler = scheduler
        self.clock = clock
        self._seen: dict[str, Digest] = {}
        self._lock = asyncio.Lock()
        """One check at a time (the watcher's and any other caller's): a change is logged once."""

    async def start(self) -> None:
        """Resume edits a restart interrupted, then take stock of the live digests."""
        await self.resume()
        await self.check()

    async def resume(self) -> int:
        """Lease and queue pending edits nobody holds — a restart's, a dead process's, or one
        another process handed over — of the platforms this process sends for. Several
        processes never both edit one post."""
        resumed = 0
        sending = self.scheduler.sending()
        for delivery, at in await asyncio.to_thread(self.store.lease_edits, sending):
            if await self.scheduler.submit_edit(delivery, at):
                log.info("resuming the correction of %s", delivery.key)
                resumed += 1
        return resumed

    async def serve(self, every: float = 5.0) -> None:
        """``start`` then ``run``: one task beside the platforms (its failures are logged, never
        stop the bot)."""
        try:
            await self.start()
        except Exception:
            log.exception("starting the corrections watcher failed; it keeps trying")
        await self.run(every)

    async def run(self, every: float = 5.0) -> None:
        """Until cancelled: a correction reaches the posted messages within ``every`` seconds of
        the library loading it."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.resume()
                await self.check()
            except Exception:  # keep watching whatever one digest does
                log.exception("checking digests for corrections failed")

    async def check(self) -> list[tuple[str, Correction]]:
        """Diff every changed live digest against its last seen version; fan out the edits."""
        async with self._lock:
            return await self._check()

    async def _check(self) -> list[tuple[str, Correction]]:
        done: list[tuple[str, Correction]] = []
        for digest in self.library.all():
            if self._seen.get(digest.id) is digest:
                continue
            entry, digest = await self._changed(digest)
            if entry is not None:
                done.append((digest.id, entry))
                await self.fan_out(digest.id, entry)
            # Only now is this version the one to diff against: a crash before this line is
            # followed by the same diff (or the logged entry) and the same, idempotent fan-out.
            self._seen[digest.id] = digest
            await asyncio.to_thread(
                self.store.save_snapshot, digest.id, digest.model_dump_json(by_alias=True)
            )
        return done

    async def _changed(self, digest: Digest) -> tuple[Correction | None, Digest]:
        """The change from the last seen version, and the digest (as logged, for a hand edit)."""
        saved = await asyncio.to_thread(self.store.snapshot, digest.id)
        old: Digest | None = None
        if saved is not None:
            try:
                old = Digest.model_validate_json(saved)
            except ValidationError:
                old = None  # written by another version of the bot: start again from here
        entry: Correction | None = None
        if old is not None:
            logged = [c for c in digest.corrections if c not in old.corrections]
            if logged:
                entry = logged[-1]  # an approved revision: the review queue wrote its entry
            else:
                entry = correction(old, digest, self.clock().replace(microsecond=0))
                if entry is not None:
                    digest = await self._log(digest, entry) or digest
        return entry, digest

    async def _log(self, digest: Digest, entry: Correction) -> Digest | None:
        """Append ``entry`` to the file edited by hand; the library's new version, or None."""
        loaded = self.library.loaded(digest.id)
        if loaded is None:
            return None
        path: Path = loaded.path
        temp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
            temp.write_text(with_correction(text, entry), encoding="utf-8")
            await asyncio.to_thread(load_digest, temp)
            os.replace(temp, path)
        except (OSError, DigestInvalid) as exc:
            temp.unlink(missing_ok=True)
            log.error(
                "%s: could not log the correction in the file (%s); posts are still corrected",
                path,
                exc,
            )
            return None
        await asyncio.to_thread(self.library.refresh)
        log.info("%s: logged correction %s", path.name, entry.what)
        return self.library.get(digest.id)

    async def fan_out(self, digest_id: str, entry: Correction) -> int:
        """Claim an edit row for every post of the digest made before the correction; queue it."""
        at = version(entry)
        queued = 0
        for delivery in await asyncio.to_thread(self.store.sent, digest_id):
            posted = delivery.updated_at
            if posted is not None:
                posted = posted if posted.tzinfo else posted.replace(tzinfo=UTC)
                if posted >= entry.at + timedelta(seconds=1):  # ``at`` is cut to the second
                    continue  # posted after the change: it already shows the corrected digest
            if not await asyncio.to_thread(self.store.claim_edit, delivery.key, at):
                continue
            if not await self.scheduler.submit_edit(delivery, at):
                log.warning(
                    "correction of %s waits: %s not running", delivery.key, delivery.platform
                )
                continue
            queued += 1
        if queued:
            log.info("correcting %d posted message(s) of %s: %s", queued, digest_id, entry.what)
        return queued
