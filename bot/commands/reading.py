"""The reading commands: /summary, /figures, /where, /sources, /digests.

Each reads its options from a ``Request`` (typed by Discord, words from the console and Matrix),
finds the digest and calls a content builder. A mistake raises ``UserError`` with one line that
says what would work; ``Commands.answer`` turns it into ``Reply.failure``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.commands import content
from bot.commands.base import Caller, Command, CommandSpec, Context, OptionSpec, Request, UserError
from bot.digest.library import Library
from bot.digest.model import Digest, fold
from bot.reply import Line, Reply, Section, short_date

DIGEST = OptionSpec("digest", "Digest id (default: the newest)", "digest")
QUOTES = OptionSpec("quotes", "Show the article's verbatim words behind each item", "bool")
DIGESTS_SHOWN = 25


def _by_word(library: Library, word: str) -> Digest | None:
    """The one digest ``word`` names: its id, a start of its id, or a word of its id or title."""
    return library.named(word)


def find_digest(
    library: Library, request: Request, query: Callable[[Digest, str], bool] | None = None
) -> tuple[Digest, list[str]]:
    """The digest named by option or first word (default: newest) and the remaining words.

    The first word names a digest when it is its id, a start of its id or a unique word of its
    id or title (``/summary kursk 2``). For commands that take a query, words that the newest
    digest answers as a query (``query(digest, words)``) stay a query."""
    args = list(request.args)
    wanted = request.text("digest")
    if wanted is None and args:
        named = _by_word(library, args[0])
        newest = library.newest()
        # `/where Kursk region`: words the newest digest answers as a query stay a query.
        is_query = query is not None and newest is not None and query(newest, " ".join(args))
        if named is not None and not is_query:
            args.pop(0)
            return named, args
    if wanted is None:
        newest = library.newest()
        if newest is None:
            raise UserError("no digests are loaded yet — add one to the digests folder")
        return newest, args
    wanted = wanted.strip()
    digest = library.get(wanted)
    if digest is None and wanted:
        # An explicit digest: option may be any unambiguous start of an id, or a unique word.
        digest = _by_word(library, wanted)
    if digest is None:
        ids = library.ids()
        hint = content.suggestion(wanted, ids) or (f" — try {', '.join(ids[:5])}" if ids else "")
        raise UserError(f"no digest '{wanted}'{hint}")
    return digest, args


def _summary(ctx: Context, request: Request, caller: Caller) -> Reply:
    digest, args = find_digest(ctx.library, request)
    quotes = request.flag("quotes")
    raw = request.text("points")
    if args:
        if raw is not None or len(args) > 1:
            raise UserError(f"unexpected '{' '.join(args)}' — usage: {SUMMARY.usage}")
        raw = args[0]
    points = None
    if raw is not None:
        total = len(digest.summary)
        if not raw.strip().isdigit() or int(raw) < 1:
            raise UserError(f"points must be a whole number from 1 to {total}, not '{raw}'")
        points = int(raw)
    return content.summary(digest, points, quotes=quotes)


def _figures(ctx: Context, request: Request, caller: Caller) -> Reply:
    digest, args = find_digest(ctx.library, request, content.matches_figures)
    quotes = request.flag("quotes")
    query = request.text("query") or " ".join(args)
    return content.figures(digest, query, quotes=quotes)


def _where(ctx: Context, request: Request, caller: Caller) -> Reply:
    named = request.text("digest") is not None
    digest, args = find_digest(
        ctx.library, request, lambda d, word: content.match_place(d, word) is not None
    )
    named = named or len(args) < len(request.args)
    quotes = request.flag("quotes")
    name = request.text("place") or " ".join(args)
    focus = None
    elsewhere = ""
    if name.strip():
        focus = content.match_place(digest, name)
        if focus is None and not named:
            # No digest was named: the place may be in any digest, the newest first.
            found = next(
                ((d, p) for d in ctx.library.all() if (p := content.match_place(d, name))), None
            )
            if found is not None:
                digest, focus = found
                elsewhere = f"{focus.name} is in digest {digest.id} (not the newest)"
        if focus is None:
            focus = content.find_place(digest, name, ctx.library.all())
    if not digest.places:
        raise UserError(f"digest '{digest.id}' names no places")
    reply = content.places(digest, focus, quotes=quotes, maps=ctx.maps)
    if elsewhere:
        reply = replace(reply, note=" ".join(n for n in (elsewhere + ".", reply.note) if n))
    return reply


def _sources(ctx: Context, request: Request, caller: Caller) -> Reply:
    digest, args = find_digest(ctx.library, request)
    if args:
        raise UserError(f"unexpected '{' '.join(args)}' — usage: {SOURCES.usage}")
    return content.sources(digest, quotes=request.flag("quotes"))


def _digests(ctx: Context, request: Request, caller: Caller) -> Reply:
    query = request.text("query") or " ".join(request.args)
    digests = ctx.library.all()
    if not digests:
        return Reply(title="Digests", note="No digests are loaded yet.")
    if query.strip():
        needle = fold(query)
        digests = [d for d in digests if needle in fold(d.id) or needle in fold(d.title)]
        if not digests:
            raise UserError(f"no digest matches '{query}' — /digests lists them all")
    lines = []
    for d in digests[:DIGESTS_SHOWN]:
        s, f, p = d.counts
        lines.append(
            Line(
                f"{d.id} — {d.title} ({d.article.publisher}, {short_date(d.published)}): "
                f"{s} points, {f} figures, {p} places"
            )
        )
    note = None
    if len(digests) > DIGESTS_SHOWN:
        note = (
            f"The newest {DIGESTS_SHOWN} of {len(digests):,} — "
            "/digests WORD shows those whose id or title contains WORD"
        )
    return Reply(title="Digests", sections=(Section(None, tuple(lines)),), note=note)


SUMMARY = CommandSpec(
    "summary",
    "The digest's summary points, each with its source",
    (DIGEST, OptionSpec("points", "How many points (default: all)", "int"), QUOTES),
    "/summary 5",
)
SOURCES = CommandSpec(
    "sources",
    "Who claims what: every claimant and their items",
    (DIGEST, QUOTES),
    "/sources",
)
COMMANDS = (
    Command(SUMMARY, run=_summary),
    Command(
        CommandSpec(
            "figures",
            "Key figures with who claims them",
            (
                DIGEST,
                OptionSpec("query", "Filter by label, unit, claimant or quote", "figure"),
                QUOTES,
            ),
            "/figures soldiers",
        ),
        run=_figures,
    ),
    Command(
        CommandSpec(
            "where",
            "Places in the digest, or one place and what happened there",
            (DIGEST, OptionSpec("place", "One place to zoom to", "place"), QUOTES),
            "/where Korenevo",
        ),
        run=_where,
    ),
    Command(SOURCES, run=_sources),
    Command(
        CommandSpec(
            "digests",
            "Loaded digests, newest first",
            (OptionSpec("query", "Only digests whose id or title contains this", "text"),),
            "/digests kursk",
        ),
        run=_digests,
    ),
)
