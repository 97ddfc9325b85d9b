"""How a schedule posts, beyond when: the filter, publishing, threads, forum tags, a ping.

Platform-neutral values with the checks that need no server (formats, which platform supports
what); the checks that need the server — does the forum have that tag, may the bot ping that
role — are :func:`bot.schedules.targets.problems`, run at ``/schedule add`` and when the
platform connects.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.schedules.filters import FilterError, Only

ROLE = re.compile(r"^role:(\d{15,21})$")
FORUM_TAGS_MAX = 5
"""Discord applies at most 5 tags to a forum post."""


class OptionError(ValueError):
    """One line: which option is wrong, and what would work."""


@dataclass(frozen=True)
class PostOptions:
    only: Only = field(default_factory=Only)
    publish: bool = True
    """In a Discord announcement channel, publish (crosspost) each post to following servers."""
    thread: bool = False
    """Open a discussion thread on each post (Matrix: later posts of a digest join its thread)."""
    tags: tuple[str, ...] = ()
    """Discord forum channels: the tags (by name) applied to each digest's forum post."""
    mention: str | None = None
    """``role:ID`` on Discord; ``room`` on Matrix (``@room``, when the bot's power level allows)."""

    def check(self, platform: str) -> None:
        if self.tags and platform != "discord":
            raise OptionError("tags: are Discord forum tags; remove them for this platform")
        if len(self.tags) > FORUM_TAGS_MAX:
            raise OptionError(f"tags: a forum post takes at most {FORUM_TAGS_MAX} tags")
        if len(set(self.tags)) != len(self.tags):
            raise OptionError("tags: a tag is listed twice")
        if any(not tag.strip() for tag in self.tags):
            raise OptionError("tags: an empty tag name")
        if self.thread and platform == "console":
            raise OptionError("thread: works on discord and matrix, not in the console")
        if self.mention is not None:
            if platform == "discord" and not ROLE.match(self.mention):
                raise OptionError(
                    f"mention: '{self.mention}' — use role:ID with the role's id (Server "
                    "Settings → Roles → ⋯ → Copy Role ID); @everyone is never pinged"
                )
            if platform == "matrix" and self.mention != "room":
                raise OptionError(f"mention: '{self.mention}' — on Matrix the only ping is room")
            if platform == "console":
                raise OptionError("mention: works on discord and matrix, not in the console")

    @property
    def role_id(self) -> str | None:
        found = ROLE.match(self.mention or "")
        return found.group(1) if found else None

    @property
    def default(self) -> bool:
        return self == PostOptions()

    def key(self) -> str:
        """Part of the schedule id, empty for the defaults (so older ids stay the same)."""
        if self.default:
            return ""
        return (
            f"|only={','.join(self.only.tags)};{','.join(self.only.words)}"
            f"|publish={self.publish}|thread={self.thread}|tags={','.join(self.tags)}"
            f"|mention={self.mention or ''}"
        )

    def describe(self) -> str:
        """For ``/schedule list``: only what differs from the defaults."""
        parts = []
        if not self.only.empty:
            parts.append(self.only.describe())
        if not self.publish:
            parts.append("not published")
        if self.thread:
            parts.append("a thread per post")
        if self.tags:
            parts.append("forum tags " + ", ".join(self.tags))
        if self.mention:
            parts.append("pings " + ("@room" if self.mention == "room" else f"<@&{self.role_id}>"))
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "only": self.only.to_json(),
            "publish": self.publish,
            "thread": self.thread,
            "tags": list(self.tags),
            "mention": self.mention,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> PostOptions:
        if not data:
            return cls()
        try:
            only = Only.from_json(data.get("only"))
        except FilterError as exc:
            raise OptionError(str(exc)) from None
        return cls(
            only=only,
            publish=bool(data.get("publish", True)),
            thread=bool(data.get("thread", False)),
            tags=tuple(data.get("tags") or ()),
            mention=data.get("mention"),
        )


@dataclass(frozen=True)
class Placement:
    """Where and how one scheduled post goes, beyond its channel: what the adapter needs."""

    options: PostOptions = field(default_factory=PostOptions)
    title: str = ""
    """The digest's title: the name of its forum post or discussion thread."""
    thread: str | None = None
    """The digest's forum post (Discord) or thread root (Matrix) in this channel, if any: later
    posts of the same digest go there."""
    pace: Callable[[str], Awaitable[None]] | None = field(default=None, compare=False)
    """Awaited before each request after a post's first (its later parts, a publish, a thread),
    with the channel: the deliverer's pacer, so a fan-out meets no 429s however many requests
    each post takes."""


AS_CONFIGURED = Placement()
"""A post with the default options and no thread yet."""


@dataclass(frozen=True)
class Posted:
    """What an adapter reports after a scheduled post."""

    message_id: str
    thread: str | None = None
    """The forum post, discussion thread or Matrix thread root the post opened or joined."""
    note: str | None = None
    """What did not happen as configured (posted unpublished, no thread): logged and listed."""
    more_ids: tuple[str, ...] = ()
    """The further messages of a post that took several (a paged post): a correction edits
    every one of them, so the ledger keeps them all."""

    @property
    def message_ids(self) -> list[str]:
        return [self.message_id, *self.more_ids]
