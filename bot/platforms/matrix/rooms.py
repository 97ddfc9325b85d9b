"""Pure Matrix rules, tested without a homeserver: who may join and manage, what is a command,
how an answer relates to the message it answers."""

from __future__ import annotations

import email.utils
import re
import struct
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.commands import registry
from bot.commands.content import suggestion

ADMIN_LEVEL = 50
PRIVILEGED_CREATOR_VERSIONS = frozenset({"org.matrix.hydra.11"})
"""Room versions (besides numeric ones ≥ 12) in which creators have unlimited power."""
CREATOR_POWER = 2**53


def server_of(identifier: str) -> str | None:
    """'@bot:example.org' / '!room:example.org' → 'example.org'; None for v12 room ids."""
    return identifier.split(":", 1)[1] if ":" in identifier else None


def room_allowed(
    room_id: str, allowed: Iterable[str], own_server: str, room_server: str | None = None
) -> bool:
    """Whether the bot may join or answer in a room.

    ``room_server`` is where the room lives: the server part of its id, or (room version 12 ids
    have none) the server of its creator or inviter.
    """
    entries = tuple(allowed)
    if room_id in entries:
        return True
    servers = {e[1:] for e in entries if e.startswith(":")}
    if not entries:
        servers = {own_server}
    server = server_of(room_id) or room_server
    return server is not None and server in servers


def _version_has_creator_power(version: str) -> bool:
    if version in PRIVILEGED_CREATOR_VERSIONS:
        return True
    return version.isdigit() and int(version) >= 12


def power_level(state: Iterable[Mapping[str, Any]], user_id: str) -> int:
    """A user's power level from a room's state events, as the spec's auth rules define it.

    Room version 12 creators (``m.room.create`` sender and ``additional_creators``) have unlimited
    power and are not listed in ``m.room.power_levels``; without a power-levels event the creator
    has 100 and everyone else 0.
    """
    create: Mapping[str, Any] | None = None
    levels: Mapping[str, Any] | None = None
    for event in state:
        if event.get("state_key", "") != "":
            continue
        if event.get("type") == "m.room.create":
            create = event
        elif event.get("type") == "m.room.power_levels":
            levels = event
    create_content: Mapping[str, Any] = (create or {}).get("content") or {}
    version = str(create_content.get("room_version", "1"))
    creator = (create or {}).get("sender")
    if _version_has_creator_power(version):
        extra = create_content.get("additional_creators") or []
        if user_id == creator or user_id in extra:
            return CREATOR_POWER
    if levels is not None:
        content: Mapping[str, Any] = levels.get("content") or {}
        users: Mapping[str, Any] = content.get("users") or {}
        raw = users.get(user_id, content.get("users_default", 0))
        try:
            return int(raw)
        except (TypeError, ValueError):
            return 0
    if version in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"):
        creator = create_content.get("creator", creator)
    return 100 if user_id == creator else 0


def retry_after_header(value: str | None, now: float | None = None) -> int | None:
    """A ``Retry-After`` header (seconds or an HTTP date) in milliseconds, or None."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return int(float(value) * 1000)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0, int((when.timestamp() - now) * 1000))


def strip_reply_fallback(body: str) -> str:
    """Drop the '> <@user> quoted' lines older clients put before the text of a reply."""
    lines = body.splitlines()
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n")


def is_command(text: str, names: Sequence[str] | None = None) -> bool:
    """'!summary …' and friends; an unknown '!word' only when it is close to a command."""
    if not text.startswith("!") or len(text) < 2 or text[1].isspace():
        return False
    known = [s.name for s in registry.specs()] if names is None else list(names)
    word = text[1:].split(maxsplit=1)[0].lower()
    if word in known:
        return True
    return bool(suggestion(word, known))


def reply_relation(event_id: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """``m.relates_to`` for an answer to ``event_id``: a reply, in its thread if it has one."""
    relates = content.get("m.relates_to")
    if isinstance(relates, Mapping) and relates.get("rel_type") == "m.thread":
        return {
            "rel_type": "m.thread",
            "event_id": relates.get("event_id"),
            "is_falling_back": False,
            "m.in_reply_to": {"event_id": event_id},
        }
    return {"m.in_reply_to": {"event_id": event_id}}


def png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 24 and data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return None
