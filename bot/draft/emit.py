"""A small YAML emitter for drafts: block style, fixed key order, comments where to look.

Every string is written either plain (when YAML reads it back as the same string) or
double-quoted with escapes, so that ``yaml.safe_load(emit(...))`` returns exactly what went in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

import yaml

Scalar = str | int | float | date | None

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 .,'()/&%+\u2019-]*")
_BREAKS = re.compile(r"[\r\n\x85\u2028\u2029]+")


def _printable(char: str) -> bool:
    code = ord(char)
    return (
        code in (0x09, 0x0A, 0x0D)
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ) and char not in "\u2028\u2029\ufeff"


def _escape(code: int) -> str:
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar."""
    out = ['"']
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif not _printable(char):
            out.append(_escape(ord(char)))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _plain_ok(text: str) -> bool:
    if not _PLAIN.fullmatch(text) or text != text.strip() or "  " in text:
        return False
    try:
        return bool(yaml.safe_load(text) == text)
    except yaml.YAMLError:
        return False


def scalar(value: Scalar, force_quotes: bool = False) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if not force_quotes and _plain_ok(value):
        return value
    return quoted(value)


def comment(text: str, indent: int = 0) -> str:
    """One comment line: line breaks in ``text`` become spaces, unprintables escapes."""
    body = _BREAKS.sub(" ", text)
    body = "".join(c if _printable(c) else _escape(ord(c)) for c in body).rstrip()
    return f"{' ' * indent}# {body}" if body else f"{' ' * indent}#"


Value = Scalar | Sequence[int | float]
_QUOTED_KEYS = frozenset({"quote", "text", "what", "note"})


def field_line(
    key: str, value: Value, indent: int, first_in_item: bool = False, quote: bool = False
) -> str:
    prefix = " " * indent + ("- " if first_in_item else "")
    if isinstance(value, (str, int, float, date)) or value is None:
        rendered = scalar(value, force_quotes=quote)
    else:
        rendered = "[" + ", ".join(scalar(v) for v in value) + "]"
    return f"{prefix}{key}: {rendered}"


def item_lines(fields: Mapping[str, Value], comments: Sequence[str], indent: int = 2) -> list[str]:
    """A list item of a mapping, with its comments above it; ``None`` fields are left out."""
    lines = [comment(c, indent) for c in comments]
    first = True
    for key, value in fields.items():
        if value is None:
            continue
        if first:
            lines.append(field_line(key, value, indent, True, key in _QUOTED_KEYS))
            first = False
        else:
            lines.append(field_line(key, value, indent + 2, False, key in _QUOTED_KEYS))
    return lines


def mapping_lines(fields: Mapping[str, Value], indent: int, keep_none: bool = False) -> list[str]:
    return [
        field_line(key, value, indent)
        for key, value in fields.items()
        if value is not None or keep_none
    ]
