"""Commands → platform-neutral ``Reply``s. Every digest item leaves here with its source.

Platforms hand in a ``Request``: positional words (typed in the console or Matrix) and/or named
options (Discord's app-command options, or ``key:value`` words). User mistakes come back as
``Reply.failure`` with one line that says what would work; nothing here raises for bad input.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from bot.digest.diff import correction_line
from bot.digest.library import Library
from bot.digest.model import Digest, Figure, Item, Place, fold
from bot.reply import Attribution, Line, Picture, Reply, Section, short_date

log = logging.getLogger(__name__)

OptionKind = Literal["digest", "place", "figure", "int", "text", "bool"]


@dataclass(frozen=True)
class OptionSpec:
    name: str
    description: str
    kind: OptionKind
    required: bool = False


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str
    options: tuple[OptionSpec, ...] = ()
    example: str = ""

    @property
    def usage(self) -> str:
        words = " ".join(f"[{o.name}]" for o in self.options if o.kind != "bool")
        return f"/{self.name} {words}".rstrip()


_DIGEST = OptionSpec("digest", "Digest id (default: the newest)", "digest")
_QUOTES = OptionSpec("quotes", "Show the article's verbatim words behind each item", "bool")

COMMANDS: Mapping[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec(
            "summary",
            "The digest's summary points, each with its source",
            (_DIGEST, OptionSpec("points", "How many points (default: all)", "int"), _QUOTES),
            "/summary 5",
        ),
        CommandSpec(
            "figures",
            "Key figures with who claims them",
            (
                _DIGEST,
                OptionSpec("query", "Filter by label, unit, claimant or quote", "figure"),
                _QUOTES,
            ),
            "/figures soldiers",
        ),
        CommandSpec(
            "where",
            "Places in the digest, or one place and what happened there",
            (_DIGEST, OptionSpec("place", "One place to zoom to", "place"), _QUOTES),
            "/where Korenevo",
        ),
        CommandSpec(
            "sources",
            "Who claims what: every claimant and their items",
            (_DIGEST, _QUOTES),
            "/sources",
        ),
        CommandSpec(
            "digests",
            "Loaded digests, newest first",
            (OptionSpec("query", "Only digests whose id or title contains this", "text"),),
            "/digests kursk",
        ),
        CommandSpec(
            "help",
            "What the commands do",
            (OptionSpec("command", "A command to explain", "text"),),
            "/help where",
        ),
    )
}

YES = {"yes", "y", "true", "on", "1"}
NO = {"no", "n", "false", "off", "0"}


@dataclass(frozen=True)
class Request:
    command: str
    args: tuple[str, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)


class MapSource(Protocol):
    """Draws the /where map; the maps package implements it, tests may pass their own."""

    def picture(self, digest: Digest, focus: Place | None = None) -> Path: ...

    def describe(self, digest: Digest, focus: Place | None = None) -> str:
        """The picture's text alternative (alt text), naming places drawn at the edge."""
        ...


class UserError(Exception):
    """A mistake in the request: its message is shown to the user as it is."""


_WORD = re.compile(r'([A-Za-z_]+):"([^"]*)"|([A-Za-z_]+):(\S*)|"([^"]*)"|(\S+)')


def parse(line: str) -> Request:
    """Split a typed command line: ``/where digest:x Lipetsk air base quotes:yes``.

    ``key:value`` words are options (``key:"two words"`` too); double quotes group words;
    apostrophes are ordinary letters (Oktyabr'skoe). Which options a command takes is checked
    by the command, so a misspelt option is reported rather than taken as text.
    """
    matches = list(_WORD.finditer(line.strip()))
    if not matches:
        return Request("help")
    command = matches[0].group(0).lstrip("/!").lower()
    args: list[str] = []
    options: dict[str, str] = {}
    for match in matches[1:]:
        quoted_key, quoted_value, key, value, quoted, word = match.groups()
        if quoted_key is not None:
            options[quoted_key.lower()] = quoted_value
        elif key is not None:
            options[key.lower()] = value
        else:
            args.append(quoted if quoted is not None else word)
    return Request(command, tuple(args), options)


def attribution(digest: Digest, item: Item) -> Attribution:
    source = digest.sources[item.source]
    return Attribution(
        claimant=source.name,
        publisher=digest.article.publisher,
        published=digest.published,
        url=digest.article.url,
    )


def _line(digest: Digest, item: Item, text: str, quotes: bool) -> Line:
    return Line(text=text, source=attribution(digest, item), quote=item.quote if quotes else None)


_FRACTION_WORDS = {0.5: "half", 0.25: "a quarter", 0.75: "three quarters"}


def _number(value: float) -> str:
    if value in _FRACTION_WORDS:
        return _FRACTION_WORDS[value]
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def amount(figure: Figure) -> str:
    if isinstance(figure.value, tuple):
        low, high = figure.value
        number = f"{_number(low)}\u2013{_number(high)}"
    else:
        number = _number(figure.value)
    words = [figure.qualifier or "", number, figure.unit or ""]
    return " ".join(w for w in words if w)


def figure_text(digest: Digest, figure: Figure) -> str:
    """A claim names its claimant in the sentence itself, never only in the source line."""
    claimant = digest.sources[figure.source].name
    text = f"{figure.label}: {amount(figure)}"
    if figure.status == "claim":
        text = f"Claimed by {claimant}: {figure.label}, {amount(figure)}"
    elif figure.status == "estimate":
        text = f"{text} (estimate by {claimant})"
    if figure.note:
        text = f"{text} ({figure.note})"
    return text + ("" if text.endswith((".", ")")) else ".")


def place_text(place: Place, detailed: bool = False) -> str:
    where = f"{place.name} ({place.region})" if place.region else place.name
    text = f"{where}: {place.what}"
    if detailed:
        ns = "N" if place.lat >= 0 else "S"
        ew = "E" if place.lon >= 0 else "W"
        text += f" ({abs(place.lat):.2f}° {ns}, {abs(place.lon):.2f}° {ew})"
        if place.note:
            text += f". Note: {place.note}"
    return text


# -- argument helpers -------------------------------------------------------------------------


def suggestion(word: str, choices: Sequence[str]) -> str:
    """' — did you mean X?' for the closest choice (whole name or one of its words), else ''."""
    keys: dict[str, str] = {}
    for choice in choices:
        keys.setdefault(fold(choice), choice)
        for part in re.split(r"[\s-]+", choice):
            if len(part) >= 4:
                keys.setdefault(fold(part), choice)
    hit = difflib.get_close_matches(fold(word), list(keys), n=1, cutoff=0.6)
    return f" — did you mean {keys[hit[0]]}?" if hit else ""


def _flag(request: Request, name: str) -> bool:
    raw = request.options.get(name)
    if raw is None:
        return False
    if raw.lower() in YES:
        return True
    if raw.lower() in NO:
        return False
    raise UserError(f"{name}:{raw} — use {name}:yes or {name}:no")


def _digest(library: Library, request: Request) -> tuple[Digest, list[str]]:
    """The digest named by option or first word (default: newest) and the remaining words."""
    args = list(request.args)
    wanted = request.options.get("digest")
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
        hint = suggestion(wanted, ids) or (f" — try {', '.join(ids[:5])}" if ids else "")
        raise UserError(f"no digest '{wanted}'{hint}")
    return digest, args


def _check_options(request: Request, spec: CommandSpec) -> None:
    known = [o.name for o in spec.options]
    for name in request.options:
        if name not in known:
            allowed = ", ".join(f"{k}:" for k in known) or "none"
            raise UserError(f"unknown option '{name}:' for /{spec.name} — options: {allowed}")


# -- commands ---------------------------------------------------------------------------------


def _summary(library: Library, request: Request) -> Reply:
    digest, args = _digest(library, request)
    quotes = _flag(request, "quotes")
    raw = request.options.get("points")
    if args:
        if raw is not None or len(args) > 1:
            raise UserError(f"unexpected '{' '.join(args)}' — usage: {COMMANDS['summary'].usage}")
        raw = args[0]
    total = len(digest.summary)
    points = total
    if raw is not None:
        if not raw.strip().isdigit() or int(raw) < 1:
            raise UserError(f"points must be a whole number from 1 to {total}, not '{raw}'")
        points = min(int(raw), total)
    lines = tuple(_line(digest, p, p.text, quotes) for p in digest.summary[:points])
    note = f"{points} of {total} points — /summary {total} for all" if points < total else None
    fixes = tuple(Line(correction_line(c)) for c in digest.corrections)
    return Reply(
        title=digest.title,
        sections=(Section(None, lines),) + ((Section("Corrections", fixes),) if fixes else ()),
        note=note,
        url=digest.article.url,
    )


def _figures(library: Library, request: Request) -> Reply:
    digest, args = _digest(library, request)
    quotes = _flag(request, "quotes")
    query = request.options.get("query") or " ".join(args)
    figures: Sequence[Figure] = digest.figures
    if query.strip():
        needle = fold(query)
        figures = [
            f
            for f in digest.figures
            if needle in fold(f.label)
            or needle in fold(f.unit or "")
            or needle in fold(digest.sources[f.source].name)
            or needle in fold(f.quote)
        ]
        if not figures:
            labels = [f.label for f in digest.figures]
            hint = suggestion(query, labels) or " — /figures with no query lists them all"
            raise UserError(f"no figure matches '{query}'{hint}")
    if not figures:
        raise UserError(f"digest '{digest.id}' has no figures")
    lines = tuple(_line(digest, f, figure_text(digest, f), quotes) for f in figures)
    note = f"{len(figures)} of {len(digest.figures)} figures match '{query}'" if query else None
    return Reply(
        title=f"{digest.title} — figures",
        sections=(Section(None, lines),),
        note=note,
        url=digest.article.url,
    )


def find_place(digest: Digest, name: str) -> Place:
    wanted = fold(name)
    for place in digest.places:
        if fold(place.name) == wanted:
            return place
    starts = [p for p in digest.places if fold(p.name).startswith(wanted) and wanted]
    if len(starts) == 1:
        return starts[0]
    names = [p.name for p in digest.places]
    hint = suggestion(name, names) or (f" — places: {', '.join(names)}" if names else "")
    raise UserError(f"no place '{name}'{hint}")


def mentions(digest: Digest, place: Place) -> list[Item]:
    """Summary points and figures whose words name the place."""
    keys = {fold(place.name)}
    first = place.name.split()[0]
    if len(first) >= 4:
        keys.add(fold(first))
    found: list[Item] = []
    for item in (*digest.summary, *digest.figures):
        words = fold(f"{getattr(item, 'text', '')} {getattr(item, 'label', '')} {item.quote}")
        if any(key in words for key in keys):
            found.append(item)
    return found


def _where(library: Library, request: Request, maps: MapSource | None) -> Reply:
    digest, args = _digest(library, request)
    quotes = _flag(request, "quotes")
    name = request.options.get("place") or " ".join(args)
    if not digest.places:
        raise UserError(f"digest '{digest.id}' names no places")
    focus = find_place(digest, name) if name.strip() else None
    sections: tuple[Section, ...]
    if focus is None:
        lines = tuple(_line(digest, p, place_text(p), quotes) for p in digest.places)
        sections = (Section(None, lines),)
        title = f"{digest.title} — places"
    else:
        detail = _line(digest, focus, place_text(focus, detailed=True), quotes)
        related = tuple(
            _line(digest, item, item_text(digest, item), quotes) for item in mentions(digest, focus)
        )
        sections = (Section(None, (detail,)),)
        if related:
            sections += (Section(f"What the digest says about {focus.name}", related),)
        title = f"{focus.name} — {digest.title}"
    picture = None
    note = None
    if maps is not None:
        try:
            path = maps.picture(digest, focus)
        except Exception:  # the places answer stands without its map
            log.exception("map for %s (%s) failed", digest.id, focus.name if focus else "all")
            note = "The map could not be drawn this time; the places are listed below."
        else:
            picture = Picture(path=path, alt=maps.describe(digest, focus))
    return Reply(title=title, sections=sections, picture=picture, note=note, url=digest.article.url)


def item_text(digest: Digest, item: Item) -> str:
    if isinstance(item, Figure):
        return figure_text(digest, item)
    if isinstance(item, Place):
        return place_text(item)
    return str(getattr(item, "text", item.quote))


def _sources(library: Library, request: Request) -> Reply:
    digest, args = _digest(library, request)
    if args:
        raise UserError(f"unexpected '{' '.join(args)}' — usage: {COMMANDS['sources'].usage}")
    quotes = _flag(request, "quotes")
    sections: list[Section] = []
    items: list[Item] = [*digest.summary, *digest.figures, *digest.places]
    for key, source in digest.sources.items():
        own = [i for i in items if i.source == key]
        if not own:
            continue
        extra = ", ".join(x for x in (source.kind, source.side and f"side: {source.side}") if x)
        heading = f"{source.name} ({extra}) — {len(own)} item{'s' if len(own) != 1 else ''}"
        lines = tuple(_line(digest, i, item_text(digest, i), quotes) for i in own)
        sections.append(Section(heading, lines))
    return Reply(
        title=f"{digest.title} — sources", sections=tuple(sections), url=digest.article.url
    )


DIGESTS_SHOWN = 25


def _digests(library: Library, request: Request) -> Reply:
    query = request.options.get("query") or " ".join(request.args)
    digests = library.all()
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


def _help(library: Library, request: Request) -> Reply:
    topic = (request.options.get("command") or " ".join(request.args)).lstrip("/!").strip()
    if topic:
        spec = COMMANDS.get(topic.lower())
        if spec is None:
            hint = suggestion(topic, [f"/{c}" for c in COMMANDS])
            raise UserError(f"no command '{topic}'{hint}")
        lines = [Line(f"{o.name}: {o.description}") for o in spec.options]
        if spec.example:
            lines.append(Line(f"Example: {spec.example}"))
        return Reply(
            title=f"{spec.usage} — {spec.description}", sections=(Section(None, tuple(lines)),)
        )
    lines = [Line(f"{spec.usage} — {spec.description}") for spec in COMMANDS.values()]
    note = (
        "Every item shows who says it and where it was published. "
        "Add quotes:yes to see the article's exact words; name options as digest:ID, place:NAME. "
        "Admins: /schedule list | add | remove | test posts digests on a schedule."
    )
    return Reply(title="digest-bot commands", sections=(Section(None, tuple(lines)),), note=note)


_HANDLERS: Mapping[str, Callable[[Library, Request], Reply]] = {
    "summary": _summary,
    "figures": _figures,
    "sources": _sources,
    "digests": _digests,
    "help": _help,
}


def answer(library: Library, request: Request, maps: MapSource | None = None) -> Reply:
    """The reply to ``request``; user mistakes become ``Reply.failure``, never exceptions."""
    spec = COMMANDS.get(request.command)
    if spec is None:
        hint = suggestion(request.command, [f"/{c}" for c in COMMANDS]) or " — try /help"
        return Reply.failure(f"no command '/{request.command}'{hint}")
    try:
        _check_options(request, spec)
        if request.command == "where":
            return _where(library, request, maps)
        return _HANDLERS[request.command](library, request)
    except UserError as exc:
        return Reply.failure(str(exc))


def suggest(library: Library, kind: str, partial: str, digest_id: str | None = None) -> list[str]:
    """Autocomplete choices (at most 25); the command validates whatever is finally sent."""
    needle = fold(partial)
    if kind == "digest":
        choices = library.ids()
    else:
        digest = library.get(digest_id) if digest_id else library.newest()
        if digest is None:
            return []
        if kind == "place":
            choices = [p.name for p in digest.places]
        elif kind == "figure":
            choices = list(dict.fromkeys(f.label for f in digest.figures))
        else:
            return []
    hits = [c for c in choices if fold(c).startswith(needle)]
    hits += [c for c in choices if needle in fold(c) and c not in hits]
    return [c[:100] for c in hits[:25]]
