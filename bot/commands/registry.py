"""The one list of commands, and ``Commands``: the object every platform hands requests to.

Platforms build their UI from ``specs()`` when they start, so a command registered here appears
on the console, Discord and Matrix with no adapter change. ``Commands.answer`` is the one way a
command runs: it checks who may run it, the options it takes, runs computing commands off the
event loop, and turns a ``UserError`` into ``Reply.failure``. Anything else raises: the
platform's one error handler logs it and tells the user.
"""

from __future__ import annotations

import asyncio

from bot.commands import reading, schedule
from bot.commands.base import (
    CONSOLE,
    Caller,
    Command,
    CommandSpec,
    Context,
    MapSource,
    OptionSpec,
    Request,
    UserError,
)
from bot.commands.content import suggestion
from bot.commands.schedule import Schedules
from bot.digest.library import Library
from bot.digest.model import fold
from bot.reply import Line, Reply, Section


def _help(ctx: Context, request: Request, caller: Caller) -> Reply:
    topic = (request.text("command") or " ".join(request.args)).lstrip("/!").strip()
    listed = {s.name: s for s in specs() if s.who == "anyone"}
    if topic:
        spec = _REGISTRY[topic.lower()].spec if topic.lower() in _REGISTRY else None
        if spec is None:
            hint = suggestion(topic, [f"/{c}" for c in listed])
            raise UserError(f"no command '{topic}'{hint}")
        lines = [Line(f"{o.name}: {o.description}") for o in spec.options]
        if spec.example:
            lines.append(Line(f"Example: {spec.example}"))
        return Reply(
            title=f"{spec.usage} — {spec.description}", sections=(Section(None, tuple(lines)),)
        )
    lines = [Line(f"{spec.usage} — {spec.description}") for spec in listed.values()]
    note = (
        "Every item shows who says it and where it was published. "
        "Add quotes:yes to see the article's exact words; name options as digest:ID, place:NAME."
    )
    if any(s.who == "admin" for s in specs()):
        note += " Admins: /schedule list | add | remove | test posts digests on a schedule."
    return Reply(title="digest-bot commands", sections=(Section(None, tuple(lines)),), note=note)


HELP = Command(
    CommandSpec(
        "help",
        "What the commands do",
        (OptionSpec("command", "A command to explain", "text"),),
        "/help where",
    ),
    run=_help,
)

_REGISTRY: dict[str, Command] = {c.name: c for c in (*reading.COMMANDS, HELP, schedule.COMMAND)}


def register(command: Command) -> Command:
    """Add a command (after the built-in ones); platforms started afterwards offer it."""
    if command.name in _REGISTRY:
        raise ValueError(f"/{command.name} is registered already")
    _REGISTRY[command.name] = command
    return command


def unregister(name: str) -> None:
    del _REGISTRY[name]


def specs() -> tuple[CommandSpec, ...]:
    """Every command, in the order platforms show them."""
    return tuple(c.spec for c in _REGISTRY.values())


def get(name: str) -> Command | None:
    return _REGISTRY.get(name)


def check_options(request: Request, spec: CommandSpec) -> None:
    known = {o.name: o for o in spec.options}
    for name, value in request.options.items():
        option = known.get(name)
        if option is None:
            allowed = ", ".join(f"{k}:" for k in known) or "none"
            raise UserError(f"unknown option '{name}:' for /{spec.name} — options: {allowed}")
        if option.choices and str(value).lower() not in option.choices:
            raise UserError(f"{name}:{value} — use one of {', '.join(option.choices)}")


def refusal(spec: CommandSpec, caller: Caller) -> str:
    return f"/{spec.name} needs {caller.admin_need}" if caller.admin_need else spec.refused


class Commands:
    """The commands over one library (and map renderer, and scheduler when one runs)."""

    def __init__(
        self,
        library: Library,
        maps: MapSource | None = None,
        scheduler: Schedules | None = None,
    ) -> None:
        self.context = Context(library, maps, scheduler)

    @property
    def library(self) -> Library:
        return self.context.library

    def specs(self) -> tuple[CommandSpec, ...]:
        return specs()

    def names(self) -> list[str]:
        return [s.name for s in specs()]

    def _resolve(self, request: Request) -> Command:
        command = get(request.command)
        if command is None:
            hint = suggestion(request.command, [f"/{n}" for n in self.names()]) or " — try /help"
            raise UserError(f"no command '/{request.command}'{hint}")
        check_options(request, command.spec)
        return command

    async def answer(self, request: Request, caller: Caller = CONSOLE) -> Reply:
        """The reply to ``request``; a user's mistake is ``Reply.failure``, a bug raises."""
        command = get(request.command)
        if command is not None and command.spec.who == "admin" and not await caller.admin():
            return Reply.failure(refusal(command.spec, caller))
        try:
            command = self._resolve(request)
            if command.run_async is not None:
                return await command.run_async(self.context, request, caller)
            assert command.run is not None
            return await asyncio.to_thread(command.run, self.context, request, caller)
        except UserError as exc:
            return Reply.failure(str(exc))

    def answer_now(self, request: Request, caller: Caller = CONSOLE) -> Reply:
        """The same answer, computed in this thread: for one-shot use (``ask``) and tests."""
        command = get(request.command)
        if command is not None and command.spec.who == "admin" and not caller.is_admin:
            return Reply.failure(refusal(command.spec, caller))
        try:
            command = self._resolve(request)
            if command.run is None:  # it waits on the running bot's services
                raise UserError(
                    f"/{command.name} works only in a running bot: `python -m bot run` or `console`"
                )
            return command.run(self.context, request, caller)
        except UserError as exc:
            return Reply.failure(str(exc))

    def suggest(self, kind: str, partial: str, digest_id: str | None = None) -> list[str]:
        """Autocomplete choices (at most 25); the command validates whatever is finally sent."""
        library = self.library
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
