"""Review in chat, platform-neutral: the draft's card, the decision, and posting cards once.

A chat adapter that can host reviews (Discord: a message with Approve/Reject buttons; Matrix: a
notice people react to with ✅/❌) implements ``ReviewPoster``; the board posts each new draft's
card to the configured review channel once (the posted card is recorded before anything else
happens to the draft, so a restart neither loses nor repeats one) and turns a press or a
reaction into ``approve``/``reject`` with the person's name and the platform as ``via``.
Whether that person may decide is the adapter's business (it knows the channel's permissions).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from bot.commands.base import Request
from bot.commands.content import attribution, figure_text, place_text
from bot.digest.model import Digest
from bot.digest.yamlsafe import YamlProblem, parse
from bot.pipeline.queue import DraftRow, Queue, ReviewError, Via, utcnow
from bot.pipeline.review import Approved, NotApprovable, approve, reject
from bot.reply import Line, Reply, Section

log = logging.getLogger(__name__)

_NOTE = re.compile(r"#\s*((?:review|claim|unresolved):.*)$")
MAX_NOTES = 12


class ReviewPoster(Protocol):
    async def post_review(self, channel: str, draft_id: int, card: Reply, nonce: str) -> str:
        """Post the card with the platform's approve/reject controls; return its message id.
        ``nonce`` is the same for every attempt at one card: a repeat after a crash is
        recognised by the platform (Discord's enforced nonce, Matrix's transaction id)."""
        ...


@dataclass(frozen=True)
class Decision:
    row: DraftRow
    text: str
    """One line for the reviewer and the channel: who decided what, when."""
    approved: Approved | None = None


def notes(yaml_text: str) -> list[str]:
    """The drafter's ``review:``/``claim:`` comments: where the reviewer should look."""
    found = [m.group(1).strip() for line in yaml_text.splitlines() if (m := _NOTE.search(line))]
    return list(dict.fromkeys(found))


def card(row: DraftRow) -> Reply:
    """The draft as reviewers see it: every item with its claimant, the notes, the state."""
    head = f"Draft {row.id}: {row.title}"
    note = (
        f"{row.digest_id}, revision {row.revision}"
        + (f" — {row.flag.upper()}" if row.flag else "")
        + f" — {row.publisher} — {row.decision()}"
    )
    try:
        digest = Digest.model_validate(parse(row.yaml).data)
    except (YamlProblem, ValidationError, TypeError) as exc:
        return Reply(title=head, note=note, error=f"the draft does not parse: {exc}")
    sections = [
        Section(
            "Summary",
            tuple(Line(p.text, attribution(digest, p), p.quote) for p in digest.summary),
        )
    ]
    if digest.figures:
        lines = tuple(
            Line(figure_text(digest, f), attribution(digest, f), f.quote) for f in digest.figures
        )
        sections.append(Section("Figures", lines))
    if digest.places:
        lines = tuple(Line(place_text(p), attribution(digest, p)) for p in digest.places)
        sections.append(Section("Places", lines))
    found = notes(row.yaml)
    if found:
        shown = found[:MAX_NOTES]
        more = len(found) - len(shown)
        lines = tuple(Line(n) for n in shown) + ((Line(f"… and {more} more"),) if more else ())
        sections.append(Section("For the reviewer", lines))
    return Reply(title=head, sections=tuple(sections), note=note, url=row.url)


class Board:
    def __init__(
        self,
        queue: Queue,
        folder: Path,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.queue = queue
        self.folder = folder
        self.clock = clock
        self._lock = asyncio.Lock()

    async def announce(self, platform: str, channel: str, poster: ReviewPoster) -> int:
        """Post the card of every open draft not yet shown in ``channel``; return how many."""
        posted = 0
        async with self._lock:
            for row in await asyncio.to_thread(self.queue.listed):
                found = await asyncio.to_thread(self.queue.review_post, row.id, platform)
                if found is not None and found[1]:
                    continue
                if found is None:  # claimed before it is sent, like a scheduled post
                    await asyncio.to_thread(
                        self.queue.save_review_post, row.id, platform, channel, ""
                    )
                nonce = f"review-{row.id}-{platform}"
                message_id = await poster.post_review(channel, row.id, card(row), nonce)
                await asyncio.to_thread(
                    self.queue.save_review_post, row.id, platform, channel, message_id
                )
                posted += 1
        return posted

    def find(self, platform: str, message_id: str) -> int | None:
        """The draft whose card is ``message_id`` (for reactions, which name only the event)."""
        return self.queue.draft_of_review_post(platform, message_id)

    async def decide(
        self, draft_id: int, action: str, *, by: str, via: Via, why: str | None = None
    ) -> Decision:
        """Approve or reject; raise ``ReviewError`` with one line for the person who asked."""
        now = self.clock()
        if action == "approve":
            try:
                done = await asyncio.to_thread(
                    approve, self.queue, self.folder, draft_id, by=by, via=via, now=now
                )
            except NotApprovable as exc:
                shown = "; ".join(exc.problems[:3])
                more = f" (and {len(exc.problems) - 3} more)" if len(exc.problems) > 3 else ""
                raise ReviewError(f"draft {draft_id} fails check: {shown}{more}") from None
            text = f"Approved by {by}: {done.row.digest_id} is live"
            if done.correction is not None:
                text += f"; corrected: {done.correction.what}"
            row = done.row
            result = Decision(row, text, done)
        elif action == "reject":
            reason = why or f"rejected in {via}"
            row = await asyncio.to_thread(
                reject, self.queue, draft_id, by=by, why=reason, via=via, now=now
            )
            result = Decision(row, f"Rejected by {by}: {reason}")
        else:
            raise ReviewError(f"no review action '{action}' — approve or reject")
        log.info("draft %d: %s (%s)", draft_id, result.text, row.decision())
        return result


REVIEW_HELP = "/review list | /review show ID | /review approve ID | /review reject ID why:TEXT"


async def review_command(board: Board, request: Request, *, by: str, via: Via) -> Reply:
    """/review list|show|approve|reject — the CLI's review verbs where the reviewer is in chat."""
    words = list(request.args)
    action = (words.pop(0) if words else request.text("action") or "list").lower()
    target = request.text("id") or (words[0] if words else "")
    try:
        if action == "list":
            rows = await asyncio.to_thread(board.queue.listed)
            lines = tuple(Line(summary_line(r)) for r in rows)
            problems = await asyncio.to_thread(board.queue.problems)
            sections = [Section(None, lines)] if lines else []
            if problems:
                sections.append(
                    Section("Ingest problems", tuple(Line(p.message) for p in problems))
                )
            note = None if lines else "No drafts waiting for review."
            return Reply(title="Review queue", sections=tuple(sections), note=note)
        if not target.isdigit():
            raise ReviewError(f"/review {action} needs a draft number — {REVIEW_HELP}")
        if action == "show":
            row = await asyncio.to_thread(board.queue.get, int(target))
            if row is None:
                raise ReviewError(f"no draft {target} — /review list shows the open ones")
            return card(row)
        if action in ("approve", "reject"):
            why = request.text("why") or " ".join(words[1:]) or None
            decision = await board.decide(int(target), action, by=by, via=via, why=why)
            return Reply(title=decision.text, note=decision.row.decision())
        raise ReviewError(f"no /review {action} — {REVIEW_HELP}")
    except ReviewError as exc:
        return Reply.failure(str(exc))


def summary_line(row: DraftRow) -> str:
    """One line per draft, for `review list` in a terminal or a chat."""
    flag = f" [{row.flag}]" if row.flag else ""
    return (
        f"{row.id:>4}  {row.state:<10} {row.digest_id} r{row.revision}{flag} — {row.title} "
        f"({row.publisher}) — {row.decision()}"
    )
