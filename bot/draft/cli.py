"""``python -m bot draft ARTICLE --publisher … --published YYYY-MM-DD [-o FILE]``.

Writes a draft digest of the article (YAML) to FILE, or to stdout. ``article.text`` in the draft
is the article's path relative to FILE's folder (the loader requires it to be inside that
folder); without ``-o`` it is relative to the folder above ``articles/`` when the article sits in
an ``articles`` folder (``digests/articles/x.txt`` → ``articles/x.txt``), else to the current
folder. An existing FILE is never overwritten without ``--force``: it may hold an editor's work.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import date
from pathlib import Path

from bot.digest.model import SLUG

MAX_ARTICLE_BYTES = 2 * 1024 * 1024


class UserError(Exception):
    """A one-line error for stderr; exit code 2."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-08-09") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "article", metavar="ARTICLE", help="the article as UTF-8 text, headline first"
    )
    parser.add_argument("--publisher", required=True, help='who published it, e.g. "The Telegraph"')
    parser.add_argument(
        "--published", required=True, type=_date, metavar="YYYY-MM-DD", help="publication date"
    )
    parser.add_argument("--headline", help="the headline (default: the article's first line)")
    parser.add_argument("--url", help="the article's URL, when known (never invented)")
    parser.add_argument(
        "--id", dest="digest_id", metavar="SLUG", help="digest id (default: from the file name)"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the draft here (default: stdout)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="go ahead where the drafter would refuse: overwrite an existing output file, "
        "draft a text that does not read like news",
    )


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            raise UserError(f"{path}: {size:,} bytes; an article is at most {MAX_ARTICLE_BYTES:,}")
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 (byte {exc.start}); save it as UTF-8") from None


def text_path(article: Path, output: Path | None) -> str:
    """``article`` relative to the digest's folder, with '/' separators."""
    if output is not None:
        base = output.resolve().parent
    elif article.resolve().parent.name == "articles":
        base = article.resolve().parent.parent
    else:
        base = Path.cwd().resolve()
    relative = Path(os.path.relpath(article.resolve(), base))
    if relative.parts[:1] == ("..",):
        raise UserError(
            f"{article} is outside {base}: the loader reads article texts only from the digest's "
            "folder or below it (save the article under that folder, e.g. digests/articles/)"
        )
    return relative.as_posix()


def run(args: argparse.Namespace) -> int:
    """Draft, write, report; 0 when written, 2 on a user error (one line on stderr)."""
    # imported here, not at the top: every other subcommand (console, chat) starts without
    # the drafter's vocabularies and patterns
    from bot.draft.core import DraftError

    try:
        return _run(args)
    except (UserError, DraftError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from bot.draft.core import draft

    article = Path(args.article)
    output = Path(args.output) if args.output else None
    if args.digest_id is not None and not re.fullmatch(SLUG, args.digest_id):
        raise UserError(
            f"--id {args.digest_id!r} must be a slug: lowercase letters, digits and '-'"
        )
    if args.url is not None and not re.fullmatch(r"https?://\S+", args.url):
        raise UserError(f"--url {args.url!r} must be an http(s) URL")
    for name in ("publisher", "headline"):
        value = getattr(args, name)
        if value is not None and not value.strip():
            raise UserError(f"--{name} must not be empty")
    if output is not None and output.exists() and not args.force:
        raise UserError(f"{output} exists; it may hold reviewed work (use --force to replace it)")
    text = _read(article)
    result = draft(
        text,
        publisher=args.publisher.strip(),
        published=args.published,
        text_path=text_path(article, output),
        headline=args.headline.strip() if args.headline else None,
        url=args.url,
        id=args.digest_id,
        stem=article.stem,
        force=args.force,
    )
    if result.warning:
        print(f"warning: {result.warning}", file=sys.stderr)
    yaml_text = result.yaml()
    if output is None:
        sys.stdout.write(yaml_text)
    else:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(yaml_text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    summary, figures, places = len(result.summary), len(result.figures), len(result.places)
    where = output if output is not None else "stdout"
    unresolved = (
        f" ({len(result.unresolved)} unresolved, listed at the end)" if result.unresolved else ""
    )
    print(
        f"drafted {where}: {summary} summary points, {figures} figures, {places} places"
        f"{unresolved}; review it, then: digest-bot check {output or 'FILE'}",
        file=sys.stderr,
    )
    return 0
