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

from bot.digest.checks import digest_findings, item_findings
from bot.digest.model import SLUG, TAG, Digest, Figure, Item, Place, SummaryPoint
from bot.digest.text import normalise
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
        at = f"{self.file}:{self.line}" if self.line > 0 else str(self.file)  # 0: the whole file
        return f"{at}: {where}{message}"


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
    warnings: tuple[Problem, ...] = ()
    """What ``check`` shows but does not refuse (a source no item uses)."""

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


def _value_message(value: object) -> str:
    """A figure's value in the editor's words, not pydantic's union of types."""
    if isinstance(value, str) and re.fullmatch(r"[\d.,\s]+", value) and "," in value:
        plain = value.replace(",", "").replace(" ", "")
        return f"write {plain} without the comma, or [low, high] for a range"
    if isinstance(value, str) and re.fullmatch(
        r"\s*\d+(\.\d+)?\s*[-\u2013]\s*\d+(\.\d+)?\s*", value
    ):
        low, high = re.split(r"\s*[-\u2013]\s*", value.strip())
        return f"write a range as [{low}, {high}]"
    return "must be a number (945, 5.7), or [low, high] for a range"


def _raw(parsed: Parsed, path: Path_) -> object:
    """The value at ``path`` in the file as parsed (None where there is none)."""
    node: object = parsed.data
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _schema_problems(file: Path, parsed: Parsed, exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[Path_, str]] = set()
    for error in exc.errors():
        path: Path_ = tuple(p for p in error["loc"] if p != "[key]")
        if path[:1] == ("schema_",):
            path = ("schema", *path[1:])
        message = _message(error)
        if path[:1] == ("figures",) and path[2:3] == ("value",) and error["type"] != "value_error":
            # int | float | [low, high] fails three ways at once: say it once, plainly.
            path = path[:3]
            message = _value_message(_raw(parsed, path))
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


def _read_article(file: Path, parsed: Parsed, text: str) -> tuple[Path, str, str]:
    """The article's path, text and hash; ``DigestInvalid`` if it escapes the folder or is
    unreadable (its line is looked up only for a problem)."""
    folder = file.parent.resolve()
    source = (file.parent / text).resolve()  # as article_path() resolves it
    if not source.is_relative_to(folder):
        message = f"{text!r} is outside the digest's folder"
        at = parsed.line_of(("article", "text"))
        raise DigestInvalid([Problem(file, at, "article.text", message)])
    try:
        article, article_sha256 = read_hashed(source, MAX_ARTICLE_BYTES, "article text")
        return source, article, article_sha256
    except DigestInvalid as exc:
        at = parsed.line_of(("article", "text"))
        problems = [
            Problem(file, at, "article.text", f"{p.file}: {p.message}") for p in exc.problems
        ]
        raise DigestInvalid(problems) from None


_ITEM_MODELS: dict[str, type[Item]] = {"summary": SummaryPoint, "figures": Figure, "places": Place}


def _salvage(file: Path, parsed: Parsed) -> list[Problem]:
    """After a schema failure, verify the items that are valid on their own against the article,
    so the editor sees every problem in one pass. Nothing here is reported twice: an item that
    fails its schema is skipped, and a file without a readable article yields nothing more."""
    data = parsed.data
    if not isinstance(data, dict):
        return []
    article = data.get("article")
    text = article.get("text") if isinstance(article, dict) else None
    sources = data.get("sources")
    if not isinstance(text, str) or not isinstance(sources, dict):
        return []
    try:
        _, article_text, _ = _read_article(file, parsed, text)
    except DigestInvalid:
        return []
    haystack = normalise(article_text)
    problems: list[Problem] = []
    for group, model in _ITEM_MODELS.items():
        raw = data.get(group)
        for index, entry in enumerate(raw if isinstance(raw, list) else []):
            try:
                item = model.model_validate(entry)
            except ValidationError:
                continue
            for where, message in item_findings(item, sources, haystack):
                path: Path_ = (group, index, *where)
                problems.append(Problem(file, parsed.line_of(path), dotted(path), message))
    return problems


def _unused_sources(file: Path, parsed: Parsed, digest: Digest) -> tuple[Problem, ...]:
    used = {i.source for i in (*digest.summary, *digest.figures, *digest.places)}
    return tuple(
        Problem(
            file,
            parsed.line_of(("sources", key)),
            f"sources.{key}",
            "warning: no item uses this source (the digest still loads)",
        )
        for key in digest.sources
        if key not in used
    )


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
        message = exc.message
        if "mapping values are not allowed" in message:  # `what: closest point: Korenevo`
            message += " — a text with ': ' in it needs quotes: put the text in quotes"
        raise DigestInvalid([Problem(file, exc.line, dotted(exc.path), message)]) from None
    if not isinstance(parsed.data, dict):
        raise DigestInvalid([Problem(file, 1, "", "a digest is a mapping (schema: 1, id: …)")])
    if parsed.data.get("schema") != 1:
        found = parsed.data.get("schema", "nothing")
        message = f"unsupported schema {found!r}; this bot reads schema 1"
        raise DigestInvalid([Problem(file, parsed.line_of(("schema",)), "schema", message)])
    try:
        digest = Digest.model_validate(parsed.data)
    except ValidationError as exc:
        # Report everything at once: a bad `lat` must not hide a quote that is not verbatim.
        problems = _schema_problems(file, parsed, exc) + _salvage(file, parsed)
        raise DigestInvalid(sorted(problems, key=lambda p: p.line)) from None
    source, article, article_sha256 = _read_article(file, parsed, digest.article.text)
    problems = _verify(file, parsed, digest, article)
    if problems:
        raise DigestInvalid(problems)
    warnings = _unused_sources(file, parsed, digest)
    return Loaded(digest, file, source, sha256, article_sha256, warnings)
