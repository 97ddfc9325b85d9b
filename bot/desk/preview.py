"""A post as each platform will show it, from the platforms' own renderers.

Discord: ``discord_render`` gives embed pages in Discord markdown; the few constructs it emits
(backslash escapes, ``**bold**``, ``*italic*``, ``[label](url)``, ``> `` quotes) are turned
into HTML here *after* escaping, so digest text can only ever be text. Matrix: the renderer's
own ``formatted_body`` (already escaped), shown in a sandboxed frame that runs no script.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markupsafe import Markup

from bot.platforms.discord import render as discord_render
from bot.platforms.matrix import render as matrix_render
from bot.reply import Reply

_ESCAPED = re.compile(r"\\([\\*_~`|\[\]<>#.+-])")
_LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


@dataclass(frozen=True)
class DiscordPage:
    title: str
    url: str | None
    description: Markup
    footer: str | None


def _markdown_line(line: str) -> str:
    quote = line.startswith("> ")
    if quote:
        line = line[2:]
    # Escaped characters are set aside first so they can never start a construct.
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(1))
        return f"\x00{len(kept) - 1}\x00"

    text = html.escape(_ESCAPED.sub(keep, line), quote=True)
    text = _LINK.sub(
        lambda m: f'<a href="{m.group(2)}" rel="noopener noreferrer">{m.group(1)}</a>', text
    )
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    text = re.sub(r"\x00(\d+)\x00", lambda m: html.escape(kept[int(m.group(1))]), text)
    return f"<blockquote>{text}</blockquote>" if quote else text


def discord_pages(reply: Reply) -> list[DiscordPage]:
    rendered = discord_render.render(reply)
    if rendered.error is not None:
        return [DiscordPage("", None, Markup(_markdown_line(rendered.error)), None)]
    out = []
    for page in rendered.pages:
        lines = [_markdown_line(line) for line in page.description.split("\n")]
        body = Markup("<br>".join(lines))  # every piece was escaped above
        out.append(DiscordPage(_ESCAPED.sub(r"\1", page.title), page.url, body, page.footer))
    return out


def matrix_parts(reply: Reply) -> list[tuple[str, str]]:
    """(plain body, HTML) per event, as the Matrix adapter sends them."""
    return matrix_render.render_parts(reply)
