"""``Reply`` → Discord embed pages, as plain data, within Discord's limits.

Pure functions, no ``discord`` import: ``pages.to_embed`` turns a :class:`Page` into an embed.
Every item keeps its source on its own line (``• text — source``, the source linked to the
article when it has a URL) and its verbatim quote under it (``> “quote”``) when asked for.

Nothing is ever dropped to fit: an answer longer than one embed becomes several pages; a single
item too long for a page is split between pages, the cut marked with ``…`` at both ends.
All digest text is markdown-escaped and ``@everyone``/``@here`` are defused, so a digest can
neither format nor ping (the client also sends ``AllowedMentions.none()``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from bot.reply import Attribution, Line, Picture, Reply

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
URL_MAX = 512
"""Longer article URLs are not linked from each item (the page title still links them)."""
TITLE_URL_MAX = 2048
ATOMIC_MAX = 1024
"""A source longer than this may be split across pages like any other text."""

BULLET = "• "
DASH = " — "
CONTINUE_END = " …"
CONTINUE_START = "… "
CUT_END = "…"
CUT_START = "…"
QUOTE_PREFIX = "> "

_MARKDOWN = re.compile(r"([\\*_~`|\[\]<>#])")
_LINE_START = re.compile(r"^([-+]|\d+\.)(?=\s|$)")
_PINGS = re.compile(r"@(everyone|here)", re.IGNORECASE)
_URL = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class Page:
    title: str
    description: str
    url: str | None
    footer: str | None
    number: int
    total: int

    def length(self) -> int:
        """Characters counted against Discord's 6000 per message."""
        return len(self.title) + len(self.description) + len(self.footer or "")


@dataclass(frozen=True)
class Rendered:
    pages: tuple[Page, ...]
    error: str | None = None
    """Set for a user error: the whole (ephemeral) message content."""
    picture: Picture | None = None


@dataclass(frozen=True)
class _Block:
    text: str
    tail: str = ""
    """Kept whole, at the end of the block's last piece (the linked source)."""
    prefix: str = ""
    """Repeated at the start of every continuation piece (``> `` for quotes)."""
    sticky: bool = False
    """Keep the first piece on the same page as the piece before it, when both fit."""


def collapse(text: str) -> str:
    """One line: runs of whitespace (newlines included) become one space."""
    return " ".join(text.split())


def escape(text: str) -> str:
    """Plain text → Discord markdown that shows exactly that text and pings no one."""
    text = _MARKDOWN.sub(r"\\\1", collapse(text))
    text = _LINE_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], text)
    return _PINGS.sub("@\u200b\\1", text)


def safe_url(url: str | None, limit: int = URL_MAX) -> str | None:
    """An http(s) URL usable inside ``[text](url)``, or None."""
    if url is None or len(url) > limit or not _URL.match(url):
        return None
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters of escaped text, ending with ``…`` if shortened."""
    if len(text) <= limit:
        return text
    index = _safe_index(text, limit - len(CUT_END))
    return text[:index] + CUT_END


def _safe_index(text: str, index: int) -> int:
    """Move a cut left so it never separates a backslash from the character it escapes."""
    slashes = 0
    while index - slashes - 1 >= 0 and text[index - slashes - 1] == "\\":
        slashes += 1
    return index - 1 if slashes % 2 else index


def source_text(source: Attribution) -> str:
    """``Russia's defence ministry, via The Telegraph, 9 Aug 2024``, linked when it has a URL."""
    label = escape(str(source))
    url = safe_url(source.url)
    return f"[{label}]({url})" if url else label


def line_blocks(line: Line) -> list[_Block]:
    text = BULLET + escape(line.text)
    blocks: list[_Block]
    if line.source is None:
        blocks = [_Block(text)]
    else:
        tail = DASH + source_text(line.source)
        if len(tail) > ATOMIC_MAX:
            blocks = [_Block(text + DASH + escape(str(line.source)))]
        else:
            blocks = [_Block(text, tail=tail)]
    if line.quote is not None:
        quoted = QUOTE_PREFIX + "“" + escape(line.quote) + "”"
        blocks.append(_Block(quoted, prefix=QUOTE_PREFIX, sticky=True))
    return blocks


def split(block: _Block, limit: int) -> list[str]:
    """The block as pieces of at most ``limit`` characters, cut at spaces where possible."""
    rest = block.text + block.tail
    # The tail stays whole only if it leaves room for text on the same page.
    tail = block.tail if len(block.prefix + CONTINUE_START + block.tail) <= limit // 2 else ""
    pieces: list[str] = []
    while len(rest) > limit:
        head_end = len(rest) - len(tail)
        start = len(block.prefix) + (len(CONTINUE_START) if pieces else 0) + 1
        room = min(limit - len(CONTINUE_END), head_end)
        space = rest.rfind(" ", start, room + 1)
        if space >= max(start, limit // 2):
            pieces.append(rest[:space] + CONTINUE_END)
            rest = block.prefix + CONTINUE_START + rest[space + 1 :]
        else:
            index = _safe_index(rest, min(limit - len(CUT_END), head_end))
            pieces.append(rest[:index] + CUT_END)
            rest = block.prefix + CUT_START + rest[index:]
    pieces.append(rest)
    return pieces


def paginate(blocks: list[_Block], limit: int = DESCRIPTION_MAX) -> list[str]:
    """Pack blocks into page descriptions of at most ``limit`` characters, in order."""
    pieces: list[tuple[str, bool]] = []
    for block in blocks:
        for index, piece in enumerate(split(block, limit)):
            pieces.append((piece, block.sticky and index == 0))
    groups: list[list[str]] = []
    for piece, sticky in pieces:
        if sticky and groups:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    pages: list[list[str]] = [[]]

    def size(parts: list[str]) -> int:
        return sum(len(p) for p in parts) + max(len(parts) - 1, 0)

    for group in groups:
        units = [group] if size(group) <= limit else [[piece] for piece in group]
        for unit in units:
            current = pages[-1]
            if current and size(current) + 1 + size(unit) > limit:
                pages.append(list(unit))
            else:
                current.extend(unit)
    return ["\n".join(page) for page in pages if page] or [""]


def _heading(text: str, limit: int) -> _Block:
    escaped = escape(text)
    bold = f"**{escaped}**"
    return _Block(bold if len(bold) <= limit else escaped)


def reply_blocks(reply: Reply, limit: int = DESCRIPTION_MAX) -> list[_Block]:
    blocks: list[_Block] = []
    title = escape(reply.title)
    if len(title) > TITLE_MAX:
        blocks.append(_heading(reply.title, limit))
    if reply.note:
        note = escape(reply.note)
        italic = f"*{note}*"
        blocks.append(_Block(italic if len(italic) <= limit else note))
    for section in reply.sections:
        heading_pending = False
        if section.heading:
            blocks.append(_heading(section.heading, limit))
            heading_pending = True
        for line in section.lines:
            for block in line_blocks(line):
                if heading_pending:
                    block = _Block(block.text, block.tail, block.prefix, sticky=True)
                    heading_pending = False
                blocks.append(block)
    return blocks


def render(reply: Reply, limit: int = DESCRIPTION_MAX) -> Rendered:
    """Pages for a reply (one embed each), or the error message for a failure."""
    if reply.error is not None:
        return Rendered(pages=(), error=error_text(reply.error))
    title = cut(escape(reply.title), TITLE_MAX) or "\u200b"
    descriptions = paginate(reply_blocks(reply, limit), limit)
    total = len(descriptions)
    url = safe_url(reply.url, TITLE_URL_MAX)
    pages = tuple(
        Page(
            title=title,
            description=description,
            url=url,
            footer=f"Page {number} of {total}" if total > 1 else None,
            number=number,
            total=total,
        )
        for number, description in enumerate(descriptions, start=1)
    )
    return Rendered(pages=pages, picture=reply.picture)


def error_text(message: str) -> str:
    """A user error as one short message (the user's own words are echoed escaped)."""
    return cut(escape(message), CONTENT_MAX) or "Something went wrong."
