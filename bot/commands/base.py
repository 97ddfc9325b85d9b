"""What a command is: its spec (options, who may run it), a typed request, the caller.

Platforms read ``CommandSpec``s to build their own UI (Discord app commands, Matrix ``!words``,
the console's ``/words``) and hand in a ``Request`` whose options are already typed (Discord) or
still words (``key:value`` typed in the console or Matrix); the command reads either the same way.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from bot.digest.model import Digest, Place
from bot.reply import Reply

if TYPE_CHECKING:
    from bot.commands.schedule import Schedules
    from bot.digest.library import Library

OptionKind = Literal["digest", "place", "figure", "int", "text", "bool"]
Value = str | int | bool
Who = Literal["anyone", "admin"]

YES = {"yes", "y", "true", "on", "1"}
NO = {"no", "n", "false", "off", "0"}


class UserError(Exception):
    """A mistake in the request: its message is shown to the user as it is."""


@dataclass(frozen=True)
class OptionSpec:
    name: str
    description: str
    kind: OptionKind
    required: bool = False
    choices: tuple[str, ...] = ()
    """When set, the only values accepted (Discord offers them as a menu)."""


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str
    options: tuple[OptionSpec, ...] = ()
    example: str = ""
    who: Who = "anyone"
    """``admin``: Manage Server on Discord, power level ≥ 50 on Matrix, always in the console."""
    refusal: str = ""
    """What a caller who may not run it is told (default: names the command)."""

    @property
    def usage(self) -> str:
        words = " ".join(f"[{o.name}]" for o in self.options if o.kind != "bool")
        return f"/{self.name} {words}".rstrip()

    @property
    def refused(self) -> str:
        return self.refusal or f"only server admins may use /{self.name} here"


@dataclass(frozen=True)
class Request:
    command: str
    args: tuple[str, ...] = ()
    options: Mapping[str, Value] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        value = self.options.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    def flag(self, name: str) -> bool:
        value = self.options.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        raw = str(value)
        if raw.lower() in YES:
            return True
        if raw.lower() in NO:
            return False
        raise UserError(f"{name}:{raw} — use {name}:yes or {name}:no")


@dataclass(frozen=True)
class Caller:
    """Who sent a request, from where, and how to tell whether they are an admin there."""

    platform: str
    channel: str
    user: str
    is_admin: bool = False
    check_admin: Callable[[], Awaitable[bool]] | None = field(default=None, compare=False)
    """Asked only for admin commands (Matrix reads the room's power levels from the server)."""
    admin_need: str | None = None
    """What admin means here, for the refusal ("power level 50 or more in this room")."""

    async def admin(self) -> bool:
        if self.check_admin is not None:
            return await self.check_admin()
        return self.is_admin


CONSOLE = Caller("console", "console", "console", is_admin=True)
"""The console's only user: the person at the terminal, who owns the bot."""


class MapSource(Protocol):
    """Draws the /where map; the maps package implements it, tests may pass their own."""

    def picture(self, digest: Digest, focus: Place | None = None) -> Path: ...

    def describe(self, digest: Digest, focus: Place | None = None) -> str:
        """The picture's text alternative (alt text), naming places drawn at the edge."""
        ...


_WORD = re.compile(r'([A-Za-z_]+):"([^"]*)"|([A-Za-z_]+):(\S*)|"([^"]*)"|(\S+)')


def parse(line: str) -> Request:
    """Split a typed command line: ``/where digest:x Lipetsk air base quotes:yes``.

    ``key:value`` words are options (``key:"two words"`` too); double quotes group words;
    apostrophes are ordinary letters (Oktyabr'skoe). Which options a command takes is checked
    by the command, so a misspelt option is reported rather than taken as text.
    """
    matches = list(_WORD.finditer(line.strip()))
    if not matches:
        return Request("help")
    command = matches[0].group(0).lstrip("/!").lower()
    args: list[str] = []
    options: dict[str, Value] = {}
    for match in matches[1:]:
        quoted_key, quoted_value, key, value, quoted, word = match.groups()
        if quoted_key is not None:
            options[quoted_key.lower()] = quoted_value
        elif key is not None:
            options[key.lower()] = value
        else:
            args.append(quoted if quoted is not None else word)
    return Request(command, tuple(args), options)


@dataclass(frozen=True)
class Context:
    """What commands read: the digests, the map renderer and (when running) the schedules."""

    library: Library
    maps: MapSource | None = None
    scheduler: Schedules | None = None


Handler = Callable[[Context, Request, Caller], Reply]
"""A command that computes (maps, filters): ``Commands.answer`` runs it off the event loop."""
AsyncHandler = Callable[[Context, Request, Caller], Awaitable[Reply]]
"""A command that waits on I/O (the schedules' store): awaited on the loop."""


@dataclass(frozen=True)
class Command:
    spec: CommandSpec
    run: Handler | None = None
    run_async: AsyncHandler | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.run_async is None):
            raise ValueError(f"/{self.spec.name}: give exactly one of run and run_async")

    @property
    def name(self) -> str:
        return self.spec.name
