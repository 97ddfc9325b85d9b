"""The pipeline's review queue (drafts in the store) as the desk's ``ReviewQueue``, and the
desk's queue of both kinds of draft.

Pipeline drafts are ``p<N>`` (the draft row); the version is the row's revision. A save is a new
revision of the same story (the pipeline supersedes the open one), so a save based on a
replaced revision is stale. Approval and rejection are the pipeline's own (``via="desk"``): the
same states, the same ``reviewed:`` stamp, the same corrections for a live digest.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.desk.review import Draft, FolderQueue, StaleDraft, UnknownDraft
from bot.digest.load import DigestInvalid, Loaded, Problem, load_digest_text
from bot.pipeline import review
from bot.pipeline.queue import DraftRow, Queue, ReviewError, Superseded, utcnow

_ID = re.compile(r"^p(\d{1,18})$")


class PipelineQueue:
    def __init__(
        self,
        queue: Queue,
        folder: Path,
        expire: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.queue = queue
        self.folder = folder
        self.expire = expire
        self.clock = clock
        self._lock = threading.Lock()

    def _draft(self, row: DraftRow) -> Draft:
        path = self.folder / f"{row.digest_id}.yaml"
        return Draft(f"p{row.id}", str(row.revision), row.yaml, path, None, row.created_at)

    def _open(self, draft_id: str) -> DraftRow | None:
        match = _ID.match(draft_id)
        row = self.queue.get(int(match.group(1))) if match else None
        return row if row is not None and row.state == "draft" else None

    def pending(self) -> list[Draft]:
        return [self._draft(row) for row in self.queue.listed()]

    def get(self, draft_id: str) -> Draft | None:
        row = self._open(draft_id)
        return self._draft(row) if row is not None else None

    def _current(self, draft_id: str, based_on: str) -> DraftRow:
        row = self._open(draft_id)
        if row is None:
            match = _ID.match(draft_id)
            old = self.queue.get(int(match.group(1))) if match else None
            newer = self.queue.newer(old) if old is not None else None
            if newer is not None and newer.state == "draft":
                raise StaleDraft(self._draft(newer))
            raise UnknownDraft(draft_id)
        if str(row.revision) != based_on:
            raise StaleDraft(self._draft(row))
        return row

    def save(self, draft_id: str, text: str, *, based_on: str, by: str) -> Draft:
        with self._lock:
            row = self._current(draft_id, based_on)
            load_digest_text(self.folder / f"{row.digest_id}.yaml", text)
            new = self.queue.add_draft(
                row.story_id,
                self.queue.next_revision(row.story_id),
                yaml=text,
                article=row.article,
                text_hash=row.text_hash,
                title=row.title,
                now=self.clock(),
                expire=self.expire,
            )
            return self._draft(new)

    def approve(self, draft_id: str, *, based_on: str, by: str) -> Path:
        with self._lock:
            row = self._current(draft_id, based_on)
            try:
                done = review.approve(
                    self.queue, self.folder, row.id, by=by, via="desk", now=self.clock()
                )
            except review.NotApprovable as exc:
                path = self.folder / f"{row.digest_id}.yaml"
                raise DigestInvalid([Problem(path, 1, "", line) for line in exc.problems]) from None
            except Superseded:
                raise StaleDraft(self._draft(row)) from None
            except ReviewError:  # decided or expired meanwhile
                raise UnknownDraft(draft_id) from None
            return done.path

    def reject(self, draft_id: str, *, based_on: str, by: str, reason: str) -> None:
        with self._lock:
            row = self._current(draft_id, based_on)
            try:
                review.reject(self.queue, row.id, by=by, why=reason, via="desk", now=self.clock())
            except ReviewError:
                raise UnknownDraft(draft_id) from None

    def revise(self, live: Loaded, *, by: str) -> Draft:
        raise UnknownDraft(live.digest.id)  # live digests are corrected as files (DeskQueue)


class DeskQueue:
    """Both kinds of draft: the pipeline's (``p<N>``) and the ``*.draft.yaml`` files."""

    def __init__(self, files: FolderQueue, pipeline: PipelineQueue) -> None:
        self.files = files
        self.pipeline = pipeline

    def _for(self, draft_id: str) -> FolderQueue | PipelineQueue:
        return self.pipeline if _ID.match(draft_id) else self.files

    def pending(self) -> list[Draft]:
        return [*self.pipeline.pending(), *self.files.pending()]

    def get(self, draft_id: str) -> Draft | None:
        return self._for(draft_id).get(draft_id)

    def save(self, draft_id: str, text: str, *, based_on: str, by: str) -> Draft:
        return self._for(draft_id).save(draft_id, text, based_on=based_on, by=by)

    def approve(self, draft_id: str, *, based_on: str, by: str) -> Path:
        return self._for(draft_id).approve(draft_id, based_on=based_on, by=by)

    def reject(self, draft_id: str, *, based_on: str, by: str, reason: str) -> None:
        self._for(draft_id).reject(draft_id, based_on=based_on, by=by, reason=reason)

    def revise(self, live: Loaded, *, by: str) -> Draft:
        return self.files.revise(live, by=by)
