"""Deciding a draft: approval validates, stamps ``reviewed:``, diffs, and writes the digest live.

Approval, in order: the draft must be open and the newest revision of its story; the digest it
would become (the draft, ``reviewed: {by, at, via}``, and the ``corrections:`` log carried over
from the live version plus this change) is written to a temporary file beside the digests and
loaded with the loader — a draft that fails ``check`` is refused with the loader's lines; the
queue row is compare-and-set (one of two reviewers wins); then the temporary file is renamed
over ``digests/<id>.yaml`` (atomic: the library never sees half a file) and the row marked live.
A crash between the row and the rename is finished by ``publish_pending`` on the next start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from bot.digest.diff import correction
from bot.digest.load import DigestInvalid, Loaded, load_digest
from bot.digest.model import Correction, Digest, Reviewed
from bot.draft.emit import quoted
from bot.pipeline.queue import (
    DraftRow,
    Queue,
    ReviewError,
    Superseded,
    Via,
    refusal,
)

log = logging.getLogger(__name__)


class NotApprovable(ReviewError):
    """The draft fails the loader's checks; ``problems`` holds its lines."""

    def __init__(self, draft_id: int, problems: tuple[str, ...]) -> None:
        self.problems = problems
        super().__init__(
            f"draft {draft_id} fails `check` and cannot be approved: " + " | ".join(problems)
        )


@dataclass(frozen=True)
class Approved:
    row: DraftRow
    path: Path
    digest: Digest
    correction: Correction | None
    """Set when this revision changed a digest that was already live."""


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def digest_yaml(draft_yaml: str, reviewed: Reviewed, corrections: tuple[Correction, ...]) -> str:
    """The draft's YAML with the review stamp and the corrections log appended."""
    lines = [draft_yaml.rstrip("\n"), "", "reviewed:"]
    lines += [
        f"  by: {quoted(reviewed.by)}",
        f"  at: {_stamp(reviewed.at)}",
        f"  via: {reviewed.via}",
    ]
    if corrections:
        lines.append("corrections:")
        for entry in corrections:
            lines += [f"  - at: {_stamp(entry.at)}", f"    what: {quoted(entry.what)}"]
    return "\n".join(lines) + "\n"


def _live(folder: Path, digest_id: str) -> Loaded | None:
    path = folder / f"{digest_id}.yaml"
    if not path.exists():
        return None
    try:
        return load_digest(path)
    except DigestInvalid:
        return None  # a broken live file has no trustworthy "before" to diff against


def _write(
    folder: Path, row: DraftRow, reviewed: Reviewed
) -> tuple[Path, Path, Loaded, Correction | None]:
    """Compose and verify the digest in a temporary file; return (temp, final, loaded, change)."""
    final = folder / f"{row.digest_id}.yaml"
    before = _live(folder, row.digest_id)
    history = before.digest.corrections if before is not None else ()
    temp = folder / f".{row.digest_id}.{uuid.uuid4().hex[:8]}.tmp"
    first = digest_yaml(row.yaml, reviewed, history)
    temp.write_text(first, encoding="utf-8")
    try:
        loaded = load_digest(temp)
    except DigestInvalid as exc:
        temp.unlink(missing_ok=True)
        lines = tuple(str(p).replace(str(temp), f"draft {row.id}") for p in exc.problems)
        raise NotApprovable(row.id, lines) from None
    change = None
    if before is not None:
        change = correction(before.digest, loaded.digest, reviewed.at)
        if change is not None:
            temp.write_text(digest_yaml(row.yaml, reviewed, (*history, change)), encoding="utf-8")
            loaded = load_digest(temp)
    with open(temp, "rb+") as handle:
        os.fsync(handle.fileno())
    return temp, final, loaded, change


def approve(
    queue: Queue, folder: Path, draft_id: int, *, by: str, via: Via, now: datetime
) -> Approved:
    """Approve draft ``draft_id`` and put it live; raise ``ReviewError`` (one line) if not."""
    by = " ".join(by.split())
    if not by:
        raise ReviewError("say who approves it (--as NAME)")
    row = queue.get(draft_id)
    if row is None:
        raise ReviewError(f"no draft {draft_id} — `review list` shows the open ones")
    newer = queue.newer(row)
    if newer is not None:
        raise Superseded(
            f"draft {row.id} changed underneath: the article was updated and draft {newer.id} "
            f"(revision {newer.revision}) replaced it — review that one"
        )
    if row.state != "draft" or row.expires_at <= now:
        raise refusal(row, now)
    reviewed = Reviewed(by=by, at=now.replace(microsecond=0), via=via)
    temp, final, loaded, change = _write(folder, row, reviewed)
    try:
        decided = queue.decide(draft_id, "approved", by=by, via=via, now=reviewed.at)
    except ReviewError:
        temp.unlink(missing_ok=True)
        raise
    try:
        os.replace(temp, final)
    except OSError:
        temp.unlink(missing_ok=True)
        queue.undo_approval(draft_id)
        raise
    _sync_folder(folder)
    queue.mark_live(draft_id, now)
    return Approved(decided, final, loaded.digest, change)


def reject(queue: Queue, draft_id: int, *, by: str, why: str, via: Via, now: datetime) -> DraftRow:
    by, why = " ".join(by.split()), " ".join(why.split())
    if not by:
        raise ReviewError("say who rejects it (--as NAME)")
    if not why:
        raise ReviewError("say why it is rejected (--why TEXT): the newsroom reads it later")
    return queue.decide(draft_id, "rejected", by=by, via=via, now=now, reason=why)


def publish_pending(queue: Queue, folder: Path, now: datetime) -> list[Approved]:
    """Finish approvals a crash interrupted: write each approved-but-not-live digest once."""
    done: list[Approved] = []
    for row in queue.approved_not_live():
        assert row.decided_by is not None
        assert row.decided_at is not None
        reviewed = Reviewed(by=row.decided_by, at=row.decided_at, via=cast(Via, row.via or "cli"))
        try:
            temp, final, loaded, change = _write(folder, row, reviewed)
        except NotApprovable as exc:  # its article went missing since: say so, keep the rest
            log.error("approved draft %d cannot be written: %s", row.id, exc)
            continue
        os.replace(temp, final)
        _sync_folder(folder)
        queue.mark_live(row.id, now)
        done.append(Approved(row, final, loaded.digest, change))
    return done


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX: fsync the directory)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
