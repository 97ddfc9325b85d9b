"""Can a schedule post where it says it will? Checked against what the platform reports about
the channel — its kind, its forum tags, the bot's permissions there, the server's roles — at
``/schedule add`` (refused) and when the platform connects (config.yaml schedules: reported
as ``FILE:LINE: schedules[N]: …`` and flagged, never discovered at 08:00).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.schedules.options import PostOptions

Kind = Literal["text", "announcement", "forum", "thread", "room", "other"]
KIND_NAMES = {
    "text": "a text channel",
    "announcement": "an announcement channel",
    "forum": "a forum channel",
    "thread": "a thread",
    "room": "a room",
    "other": "a channel the bot cannot post digests in (voice, stage, category or DM)",
}


class NotSeenHere(Exception):
    """This process cannot tell: the channel may be in a server whose shard another process
    runs (that process checks it; a channel that is gone everywhere is flagged at its first
    post)."""


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    mentionable: bool


@dataclass(frozen=True)
class ChannelFacts:
    """What the platform adapter found out about a channel (None: it does not exist / is not
    visible to the bot)."""

    name: str
    kind: Kind
    tags: tuple[str, ...] = ()
    """A forum's tags, by name."""
    missing: tuple[str, ...] = ()
    """Permissions the bot needs there but lacks (see :func:`needed`), by their UI names."""
    may_mention_everyone: bool = False
    roles: Mapping[str, Role] = field(default_factory=dict)
    may_ping_room: bool = True
    """Matrix: the bot's power level reaches the room's ``notifications.room`` level."""


def needed(options: PostOptions, kind: Kind) -> tuple[str, ...]:
    """The permissions (by their names in Discord's UI) a schedule needs in a channel."""
    base = ["View Channel", "Embed Links"]
    if kind == "forum":
        base += ["Send Messages", "Send Messages in Threads"]
    elif kind == "thread":
        base += ["Send Messages in Threads"]
    else:
        base += ["Send Messages"]
    if options.thread and kind in ("text", "announcement"):
        base += ["Create Public Threads", "Send Messages in Threads"]
    return tuple(dict.fromkeys(base))


def problems(options: PostOptions, facts: ChannelFacts | None, channel: str) -> list[str]:
    """Everything that stops the schedule from posting as configured; each says what to do."""
    if facts is None:
        return [
            f"channel {channel} does not exist or the bot cannot see it — check the id, and "
            "that the bot has View Channel there"
        ]
    where = f"#{facts.name}" if facts.kind != "room" else facts.name
    found: list[str] = []
    if facts.kind == "other":
        return [f"{where} is {KIND_NAMES['other']}: use a text, announcement or forum channel"]
    if facts.missing:
        found.append(
            f"the bot lacks {', '.join(facts.missing)} in {where} — grant it in the channel's "
            "settings (Edit Channel → Permissions → the bot's role)"
        )
    if options.tags and facts.kind != "forum":
        found.append(
            f"tags: apply to forum posts, but {where} is {KIND_NAMES[facts.kind]} — remove "
            "tags or pick a forum channel"
        )
    unknown = [tag for tag in options.tags if tag not in facts.tags]
    if facts.kind == "forum" and unknown:
        have = ", ".join(facts.tags) or "none"
        found.append(
            f"forum {where} has no tag {', '.join(repr(t) for t in unknown)} (its tags: {have})"
            " — add it in the forum's settings (Edit Channel → Tags) or fix the name"
        )
    if options.thread and facts.kind in ("forum", "thread"):
        found.append(
            f"thread: true does not apply in {KIND_NAMES[facts.kind]}: "
            + (
                "each digest already gets its own forum post"
                if facts.kind == "forum"
                else "a thread cannot have threads"
            )
        )
    role_id = options.role_id
    if role_id is not None:
        role = facts.roles.get(role_id)
        if role is None:
            found.append(
                f"mention: no role {role_id} in this server — copy the id again (Server "
                "Settings → Roles → ⋯ → Copy Role ID)"
            )
        elif not role.mentionable and not facts.may_mention_everyone:
            found.append(
                f"mention: the role @{role.name} is not mentionable — turn on 'Allow anyone "
                "to @mention this role' in its settings, or give the bot Mention Everyone"
            )
    if options.mention == "room" and not facts.may_ping_room:
        found.append(
            f"mention: room needs the bot's power level to reach the room's @room level in "
            f"{where} — raise the bot's level or lower notifications.room"
        )
    return found
