"""What every platform renders: a platform-neutral answer whose items each carry their source.

Text here is plain (no markup); each renderer escapes it for its own format and fits it to its
own limits. A scheduled post is the same ``Reply`` as ``/summary``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


def short_date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@dataclass(frozen=True)
class Attribution:
    """Who says it and where it was published: shown next to every item."""

    claimant: str
    publisher: str
    published: date
    url: str | None = None

    @property
    def via(self) -> str | None:
        return None if self.claimant == self.publisher else self.publisher

    def __str__(self) -> str:
        who = self.claimant if self.via is None else f"{self.claimant}, via {self.via}"
        return f"{who}, {short_date(self.published)}"


@dataclass(frozen=True)
class Line:
    """One item. ``source`` is None only for lines that are not digest content (help, lists)."""

    text: str
    source: Attribution | None = None
    quote: str | None = None
    """The verbatim words of the article behind the item, when the user asked for quotes."""


@dataclass(frozen=True)
class Section:
    heading: str | None
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Picture:
    path: Path
    alt: str


@dataclass(frozen=True)
class Reply:
    title: str
    sections: tuple[Section, ...] = ()
    note: str | None = None
    """A short line under the title: what was left out, how to see more."""
    picture: Picture | None = None
    error: str | None = None
    """Set for a user error: one line that says what went wrong and what would work."""
    url: str | None = field(default=None)

    @classmethod
    def failure(cls, message: str) -> Reply:
        return cls(title="Error", error=message)

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for section in self.sections for line in section.lines)


# -- the plain-text form: the reference rendering (console, `ask`, Matrix's plain body) -------


def render_line(line: Line) -> str:
    text = f"• {line.text}"
    if line.source is not None:
        text += f" — {line.source}"
    if line.quote is not None:
        text += f'\n    "{line.quote}"'
    return text


def plain(reply: Reply) -> str:
    """The whole reply as plain text, every item's source on the item's own line."""
    if reply.error is not None:
        return f"error: {reply.error}"
    out = [reply.title, "=" * min(len(reply.title), 78)]
    if reply.note:
        out.append(reply.note)
    for section in reply.sections:
        if section.heading:
            out.extend(["", section.heading])
        out.extend(render_line(line) for line in section.lines)
    if reply.picture is not None:
        out.extend(["", f"Map: {reply.picture.path}", f"    {reply.picture.alt}"])
    if reply.url:
        out.extend(["", f"Article: {reply.url}"])
    return "\n".join(out)
