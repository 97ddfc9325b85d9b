"""A ``Reply`` as Matrix message content: a plain ``body`` and an escaped HTML ``formatted_body``.

No ``nio`` here: this is pure text, so it is tested without a homeserver.

* Every sourced line shows its source next to the item: ``• text — source`` in the body,
  ``<li>text — <em>source</em></li>`` in HTML, the source linked to the article when its URL is an
  http(s) URL. Quotes (``quotes:yes``) are ``<blockquote>``s under their item.
* Everything that comes from a digest is ``html.escape``d: a digest cannot inject markup, and the
  content carries an empty ``m.mentions`` so "@room" in a digest pings nobody.
* Matrix refuses events over 65,536 bytes. A long answer is split into several notices of at most
  ``PART_LIMIT`` bytes of JSON each, "(part 2 of 3)" in every title; nothing is ever cut.
* Commands in help texts and notes read ``!summary`` (what Matrix users type), never in digest text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.reply import Line, Reply, render_line

PART_LIMIT = 24_000
"""Bytes of JSON (``body`` + ``formatted_body``, non-ASCII escaped) per event, under 64 KiB."""
HTML_FORMAT = "org.matrix.custom.html"
DASH = "\u2014"

_COMMAND_WORD = re.compile(
    r"(?<![\w/!])/(summary|figures|where|sources|digests|help|schedule)\b", re.IGNORECASE
)

Kind = Literal["title", "note", "heading", "item", "footer", "error"]


@dataclass(frozen=True)
class _Block:
    kind: Kind
    plain: str
    html: str


def bang(text: str) -> str:
    """'/summary 5' → '!summary 5': how a command is typed in Matrix (not for digest text)."""
    return _COMMAND_WORD.sub(r"!\1", text)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def safe_url(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) stays text."""
    if url and re.match(r"^https?://[^\s<>\"']+$", url, re.IGNORECASE):
        return url
    return None


def _source_html(line: Line) -> str:
    assert line.source is not None
    text = _e(str(line.source))
    url = safe_url(line.source.url)
    if url is not None:
        text = f'<a href="{_e(url)}">{text}</a>'
    return f"<em>{text}</em>"


def line_plain(line: Line) -> str:
    """The console's line (the reference rendering), with commands typed the Matrix way."""
    return render_line(line if line.source is not None else replace(line, text=bang(line.text)))


def line_html(line: Line) -> str:
    text = line.text if line.source is not None else bang(line.text)
    out = _e(text)
    if line.source is not None:
        out += f" {DASH} {_source_html(line)}"
    if line.quote is not None:
        out += f"<blockquote>{_e(line.quote)}</blockquote>"
    return f"<li>{out}</li>"


def _blocks(reply: Reply) -> Iterator[_Block]:
    if reply.error is not None:
        text = bang(reply.error)
        yield _Block("error", f"error: {text}", f"<strong>error:</strong> {_e(text)}")
        return
    digest_text = any(line.source is not None for line in reply.lines)
    title = reply.title if digest_text else bang(reply.title)
    yield _Block("title", title, f"<strong>{_e(title)}</strong>")
    if reply.note:
        note = bang(reply.note)
        yield _Block("note", note, f"<p><em>{_e(note)}</em></p>")
    for section in reply.sections:
        if section.heading:
            yield _Block(
                "heading", section.heading, f"<p><strong>{_e(section.heading)}</strong></p>"
            )
        for line in section.lines:
            yield _Block("item", line_plain(line), line_html(line))
    if reply.url:
        url = safe_url(reply.url)
        link = f'<a href="{_e(url)}">{_e(url)}</a>' if url else _e(reply.url)
        yield _Block("footer", f"Article: {reply.url}", f"<p>Article: {link}</p>")


def _assemble(blocks: list[_Block]) -> tuple[str, str]:
    plain: list[str] = []
    parts: list[str] = []
    in_list = False
    for block in blocks:
        if block.kind in ("heading", "footer") and plain:
            plain.append("")
        plain.append(block.plain)
        if block.kind == "item" and not in_list:
            parts.append("<ul>")
            in_list = True
        elif block.kind != "item" and in_list:
            parts.append("</ul>")
            in_list = False
        parts.append(block.html)
    if in_list:
        parts.append("</ul>")
    return "\n".join(plain), "".join(parts)


def content_size(body: str, formatted: str) -> int:
    """Bytes the two texts take in the event's JSON, non-ASCII escaped as \\uXXXX (worst case)."""
    return len(json.dumps({"body": body, "formatted_body": formatted}).encode("ascii"))


def render_matrix(reply: Reply) -> tuple[str, str]:
    """The whole reply as (plain body, escaped HTML), unsplit."""
    return _assemble(list(_blocks(reply)))


def _pieces(block: _Block, limit: int) -> list[_Block]:
    """A single block too large for one event is cut into several (text kept whole, in order)."""
    if content_size(block.plain, block.html) <= limit:
        return [block]
    step = max(1, (limit - 256) // 24)  # a char takes ≤ 12 JSON bytes in each of body and html
    chunks = [block.plain[i : i + step] for i in range(0, len(block.plain), step)]
    wrap = {
        "item": ("<li>", "</li>"),
        "heading": ("<p><strong>", "</strong></p>"),
        "title": ("<strong>", "</strong>"),
    }.get(block.kind, ("<p>", "</p>"))
    return [_Block(block.kind, c, f"{wrap[0]}{_e(c)}{wrap[1]}") for c in chunks]


def render_parts(reply: Reply, limit: int = PART_LIMIT) -> list[tuple[str, str]]:
    """The reply as one or more (body, html) pairs, each within ``limit`` bytes of JSON.

    Splits between items; a later part repeats the title with "(part i of n)".
    """
    blocks = [piece for block in _blocks(reply) for piece in _pieces(block, limit // 2)]
    whole = _assemble(blocks)
    if content_size(*whole) <= limit:
        return [whole]
    title = blocks[0] if blocks[0].kind == "title" else None
    body = blocks[1:] if title is not None else blocks
    reserve = 0 if title is None else content_size(title.plain, title.html) + 64
    groups: list[list[_Block]] = [[]]
    for block in body:
        trial = groups[-1] + [block]
        if groups[-1] and content_size(*_assemble(trial)) + reserve > limit:
            groups.append([block])
        else:
            groups[-1] = trial
    total = len(groups)
    out: list[tuple[str, str]] = []
    for number, group in enumerate(groups, 1):
        if title is not None:
            label = f"{title.plain} (part {number} of {total})"
            group = [_Block("title", label, f"<strong>{_e(label)}</strong>"), *group]
        out.append(_assemble(group))
    return out


def message_content(
    body: str, formatted: str, msgtype: str, relates_to: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An ``m.room.message`` content; an empty ``m.mentions`` mentions no one, not even @room."""
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": body,
        "format": HTML_FORMAT,
        "formatted_body": formatted,
        "m.mentions": {},
    }
    if relates_to:
        content["m.relates_to"] = relates_to
    return content
