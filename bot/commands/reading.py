"""The reading commands: /summary, /figures, /where, /sources, /digests.

Each reads its options from a ``Request`` (typed by Discord, words from the console and Matrix),
finds the digest and calls a content builder. A mistake raises ``UserError`` with one line that
says what would work; ``Commands.answer`` turns it into ``Reply.failure``.
"""

from __future__ import annotations

from bot.commands import content
from bot.commands.base import Caller, Command, CommandSpec, Context, OptionSpec, Request, UserError
from bot.digest.library import Library
from bot.digest.model import Digest, fold
from bot.reply import Line, Reply, Section, short_date

DIGEST = OptionSpec("digest", "Digest id (default: the newest)", "digest")
QUOTES = OptionSpec("quotes", "Show the article's verbatim words behind each item", "bool")
DIGESTS_SHOWN = 25


def find_digest(library: Library, request: Request) -> tuple[Digest, list[str]]:
    """The digest named by option or first word (default: newest) and the remaining words."""
    args = list(request.args)
    wanted = request.text("digest")
    if wanted is None and args and library.get(args[0]) is not None:
        wanted = args.pop(0)
    if wanted is None:
        newest = library.newest()
        if newest is None:
            raise UserError("no digests are loaded yet — add one to the digests folder")
        return newest, args
    wanted = wanted.strip()
    digest = library.get(wanted)
    if digest is None and wanted:
        # An explicit digest: option may be any unambiguous start of an id.
        starts = [i for i in library.ids() if i.startswith(wanted)]
        digest = library.get(starts[0]) if len(starts) == 1 else None
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
    digest, args = find_digest(ctx.library, request)
    quotes = request.flag("quotes")
    query = request.text("query") or " ".join(args)
    return content.figures(digest, query, quotes=quotes)


def _where(ctx: Context, request: Request, caller: Caller) -> Reply:
    digest, args = find_digest(ctx.library, request)
    quotes = request.flag("quotes")
    name = request.text("place") or " ".join(args)
    if not digest.places:
        raise UserError(f"digest '{digest.id}' names no places")
    focus = content.find_place(digest, name) if name.strip() else None
    return content.places(digest, focus, quotes=quotes, maps=ctx.maps)


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
