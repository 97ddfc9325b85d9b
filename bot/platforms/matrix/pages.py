"""Matrix extras for answers and posts: ◀ ▶ reactions that page a long answer for the person
who asked, thread relations for a digest's later posts, and an intentional ``@room`` ping.

Paging: the answer's first page is sent with ◀ and ▶ reactions of the bot's own; when the
asker reacts with one of them (or takes such a reaction back: clients toggle, so both count as
a press) the bot edits the answer in place (``m.replace``) to the previous or next page. Other
people's reactions change nothing. A pure state machine over an injected clock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PREVIOUS, NEXT = "◀", "▶"
PAGE_KEYS = (PREVIOUS, NEXT)
PAGE_TIMEOUT = 600.0
"""Seconds after the last press that an answer stops turning (as on Discord)."""
KEEP = 500
"""Answers remembered at most (the oldest are forgotten first)."""


@dataclass
class Paged:
    room_id: str
    event_id: str
    """The answer's event: the one reacted to, and edited."""
    owner: str
    pages: list[tuple[str, str]]
    """(plain body, HTML) of each page."""
    index: int = 0
    touched: float = 0.0


class Pager:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._answers: OrderedDict[tuple[str, str], Paged] = OrderedDict()
        self._reactions: dict[str, tuple[str, str, str]] = {}
        """reaction event id → (room, answer event id, key): a redaction of it is a press."""

    def add(self, room_id: str, event_id: str, owner: str, pages: list[tuple[str, str]]) -> Paged:
        paged = Paged(room_id, event_id, owner, pages, 0, self.clock())
        self._answers[(room_id, event_id)] = paged
        while len(self._answers) > KEEP:
            self._answers.popitem(last=False)
        return paged

    def reaction(
        self, room_id: str, sender: str, reaction_id: str, target: str, key: str
    ) -> Paged | None:
        """An ``m.reaction`` arrived: the answer at its new page, or None (nothing to do)."""
        if key not in PAGE_KEYS:
            return None
        paged = self._answers.get((room_id, target))
        if paged is None or paged.owner != sender:
            return None
        self._reactions[reaction_id] = (room_id, target, key)
        return self._turn(paged, key)

    def redaction(self, room_id: str, sender: str, redacted: str) -> Paged | None:
        """A redaction arrived: if it takes back the asker's ◀/▶, that is a press too."""
        found = self._reactions.pop(redacted, None)
        if found is None or found[0] != room_id:
            return None
        paged = self._answers.get((found[0], found[1]))
        if paged is None or paged.owner != sender:
            return None
        return self._turn(paged, found[2])

    def _turn(self, paged: Paged, key: str) -> Paged | None:
        now = self.clock()
        if now - paged.touched > PAGE_TIMEOUT:
            self._answers.pop((paged.room_id, paged.event_id), None)
            return None
        step = -1 if key == PREVIOUS else 1
        index = max(0, min(paged.index + step, len(paged.pages) - 1))
        paged.touched = now
        if index == paged.index:
            return None
        paged.index = index
        return paged


def page_label(body: str, html: str, number: int, total: int) -> tuple[str, str]:
    """A page with its position and how to turn it."""
    hint = f"Page {number} of {total} — react {PREVIOUS} or {NEXT} to turn (only the asker)."
    return f"{body}\n\n{hint}", f"{html}<p><em>{hint}</em></p>"


def edit_content(original_id: str, new: dict[str, Any]) -> dict[str, Any]:
    """An ``m.replace`` of ``original_id`` with ``new`` (which keeps its own relation out)."""
    inner = {k: v for k, v in new.items() if k != "m.relates_to"}
    return {
        **inner,
        "body": f"* {inner.get('body', '')}",
        "formatted_body": f"* {inner.get('formatted_body', '')}",
        "m.new_content": inner,
        "m.relates_to": {"rel_type": "m.replace", "event_id": original_id},
    }


def reaction_content(target: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}


def thread_relation(root: str) -> dict[str, Any]:
    """Put a later post of a digest in the thread of its first (with a fallback reply)."""
    return {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": root},
    }


def ping_room(content: dict[str, Any]) -> dict[str, Any]:
    """Mention the room on purpose: ``m.mentions.room`` and "@room" for older clients.

    Homeservers notify for it only when the sender's power level reaches the room's
    ``notifications.room`` (default 50); the schedule checks that before it is added.
    """
    return {
        **content,
        "body": f"@room {content.get('body', '')}",
        "formatted_body": f"@room {content.get('formatted_body', '')}",
        "m.mentions": {"room": True},
    }


def room_ping_level(power_levels: dict[str, Any]) -> int:
    notifications = power_levels.get("notifications")
    if isinstance(notifications, dict) and isinstance(notifications.get("room"), int):
        return int(notifications["room"])
    return 50
