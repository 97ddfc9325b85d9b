"""Load one digest file: read safely, validate the schema, verify every item against its article.

Every failure is a ``Problem`` that prints as one line ``FILE:LINE: field.path: what is wrong``;
nothing a file contains can make this module raise anything else.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.digest.checks import digest_findings
from bot.digest.model import SLUG, TAG, Digest
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


ARTICLES_KEPT = 32
"""Article texts kept in memory after a read (most recently used): a library of a year of
digests keeps only its digests; whoever needs an article's words reads them on demand."""


@dataclass(frozen=True)
class Loaded:
    """A verified digest, and the content hashes of the two files it was verified from."""

    digest: Digest
    path: Path
    article_path: Path
    sha256: str
    article_sha256: str

    def article_text(self) -> str:
        """The article this digest was verified against, read on demand; ``DigestInvalid`` if
        the file has changed since (the library re-verifies it on its next refresh)."""
        try:
            return _article(self.article_path, self.article_sha256)
        except _Changed:
            message = f"{self.article_path} has changed since the digest was verified"
            raise DigestInvalid([Problem(self.path, 1, "article.text", message)]) from None


class _Changed(Exception):
    pass


@functools.lru_cache(maxsize=ARTICLES_KEPT)
def _article(path: Path, sha256: str) -> str:
    text, found = read_hashed(path, MAX_ARTICLE_BYTES, "article text")
    if found != sha256:
        raise _Changed  # not cached: the verified text may come back
    return text


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
    return read_hashed(path, limit, what)[0]


def read_hashed(path: Path, limit: int, what: str) -> tuple[str, str]:
    """``read_text`` and the SHA-256 of the very bytes it decoded."""
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
        return data.decode("utf-8"), hashlib.sha256(data).hexdigest()
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
        if pattern == TAG:
            return (
                f"{error['input']!r} must be a tag: lowercase letters, digits and '-', "
                "at most 40 characters"
            )
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
    text, sha256 = read_hashed(file, MAX_DIGEST_BYTES, "digest file")
    return load_digest_text(file, text, sha256)


def load_digest_text(file: Path, text: str, sha256: str | None = None) -> Loaded:
    """Verify ``text`` as if it were ``file``'s content (the desk checks an edit before saving)."""
    if sha256 is None:
        data = text.encode("utf-8")
        if len(data) > MAX_DIGEST_BYTES:
            message = f"a digest is at most {MAX_DIGEST_BYTES:,} bytes"
            raise DigestInvalid([Problem(file, 1, "", message)])
        sha256 = hashlib.sha256(data).hexdigest()
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
    at: Path_ = ("article", "text")  # its line is looked up only for a problem
    if not source.is_relative_to(folder):
        message = f"{digest.article.text!r} is outside the digest's folder"
        raise DigestInvalid([Problem(file, parsed.line_of(at), "article.text", message)])
    try:
        article, article_sha256 = read_hashed(source, MAX_ARTICLE_BYTES, "article text")
    except DigestInvalid as exc:
        problems = [
            Problem(file, parsed.line_of(at), "article.text", f"{p.file}: {p.message}")
            for p in exc.problems
        ]
        raise DigestInvalid(problems) from None
    problems = _verify(file, parsed, digest, article)
    if problems:
        raise DigestInvalid(problems)
    return Loaded(digest, file, source, sha256, article_sha256)
