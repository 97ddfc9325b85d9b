"""Load one digest file: read safely, validate the schema, verify every item against its article.

Every failure is a ``Problem`` that prints as one line ``FILE:LINE: field.path: what is wrong``;
nothing a file contains can make this module raise anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.digest.checks import digest_findings
from bot.digest.model import SLUG, Digest
from bot.digest.yamlsafe import Parsed, Path_, YamlProblem, parse

MAX_DIGEST_BYTES = 512 * 1024
MAX_ARTICLE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        message = " ".join(self.message.split())  # always one line, whatever the input held
        return f"{self.file}:{self.line}: {where}{message}"


class DigestInvalid(Exception):
    """A digest file that cannot go live; ``problems`` holds one line per failure."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Loaded:
    digest: Digest
    path: Path
    article_path: Path
    article_text: str


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not re.fullmatch(r"[\w-]+", part):
            out += f"[{part!r}]"  # a key with spaces or control characters stays one line
        else:
            out += f".{part}" if out else part
    return out


def read_text(path: Path, limit: int, what: str) -> str:
    """Read UTF-8 text under a size cap; raise ``DigestInvalid`` naming the offending line."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise DigestInvalid(
                [Problem(path, 1, "", f"{what} is {size:,} bytes; the limit is {limit:,}")]
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DigestInvalid([Problem(path, 1, "", f"cannot read {what}: {exc.strerror}")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = Problem(path, line, "", f"{what} is not UTF-8 (byte {exc.start})")
        raise DigestInvalid([problem]) from None


_MESSAGES = {
    "missing": "missing (required)",
    "dict_type": "must be a mapping of key: value",
    "model_type": "must be a mapping of key: value",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "string_type": "must be text",
    "date_type": "must be a date like 2024-08-09",
    "date_from_datetime_inexact": "must be a date like 2024-08-09, without a time",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
}


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; schema 1 has no such field)"
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern")
        if pattern == SLUG:
            return f"{error['input']!r} must be a slug: lowercase letters, digits and '-'"
        return f"{error['input']!r} must be an http(s) URL"
    if kind == "literal_error":
        return f"{error['input']!r} is not allowed; expected {error['ctx']['expected']}"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _schema_problems(file: Path, parsed: Parsed, exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[Path_, str]] = set()
    for error in exc.errors():
        path: Path_ = tuple(p for p in error["loc"] if p != "[key]")
        if path[:1] == ("schema_",):
            path = ("schema", *path[1:])
        message = _message(error)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        problems.append(Problem(file, parsed.line_of(path), dotted(path), message))
    return problems


def _verify(file: Path, parsed: Parsed, digest: Digest, article: str) -> list[Problem]:
    """The rules that need the article or several fields (``bot.digest.checks``), with lines."""
    return [
        Problem(file, parsed.line_of(path), dotted(path), message)
        for path, message in digest_findings(digest, article)
    ]


def article_path(file: Path, digest: Digest) -> Path:
    return (file.parent / digest.article.text).resolve()


def load_digest(file: Path) -> Loaded:
    """Load and verify ``file``; raise ``DigestInvalid`` with every problem found."""
    return load_digest_text(file, read_text(file, MAX_DIGEST_BYTES, "digest file"))


def load_digest_text(file: Path, text: str) -> Loaded:
    """Verify ``text`` as if it were ``file``'s content (the desk checks an edit before saving)."""
    if len(text.encode("utf-8")) > MAX_DIGEST_BYTES:
        message = f"a digest is at most {MAX_DIGEST_BYTES:,} bytes"
        raise DigestInvalid([Problem(file, 1, "", message)])
    try:
        parsed = parse(text)
    except YamlProblem as exc:
        raise DigestInvalid([Problem(file, exc.line, dotted(exc.path), exc.message)]) from None
    if not isinstance(parsed.data, dict):
        raise DigestInvalid([Problem(file, 1, "", "a digest is a mapping (schema: 1, id: …)")])
    if parsed.data.get("schema") != 1:
        found = parsed.data.get("schema", "nothing")
        message = f"unsupported schema {found!r}; this bot reads schema 1"
        raise DigestInvalid([Problem(file, parsed.line_of(("schema",)), "schema", message)])
    try:
        digest = Digest.model_validate(parsed.data)
    except ValidationError as exc:
        raise DigestInvalid(_schema_problems(file, parsed, exc)) from None
    folder = file.parent.resolve()
    source = article_path(file, digest)
    at = parsed.line_of(("article", "text"))
    if not source.is_relative_to(folder):
        message = f"{digest.article.text!r} is outside the digest's folder"
        raise DigestInvalid([Problem(file, at, "article.text", message)])
    try:
        article = read_text(source, MAX_ARTICLE_BYTES, "article text")
    except DigestInvalid as exc:
        problems = [
            Problem(file, at, "article.text", f"{p.file}: {p.message}") for p in exc.problems
        ]
        raise DigestInvalid(problems) from None
    problems = _verify(file, parsed, digest, article)
    if problems:
        raise DigestInvalid(problems)
    return Loaded(digest=digest, path=file, article_path=source, article_text=article)
