"""``python -m bot [run|console|ask|check] …`` — see ``--help``.

Exit codes: 0 ok, 1 invalid digests (``check``), 2 a usage, config or user error. Every error is
one line on stderr; no traceback reaches the user for anything they typed or wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.answers import MapSource, answer, parse
from bot.config import Config, ConfigError, Secrets, config_path, load_config
from bot.delivery import Limits
from bot.digest.library import Library, describe
from bot.digest.load import DigestInvalid, load_digest
from bot.draft import cli as draft_cli
from bot.platforms.console import Console, render
from bot.schedule import Scheduler
from bot.store import Store

if TYPE_CHECKING:  # the chat SDKs load only when a platform runs: `ask` and `check` stay quick
    from bot.platforms.matrix_chat import MatrixSettings

log = logging.getLogger("bot")


class CliError(Exception):
    """A one-line error for stderr; exit code 2."""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default ./config.yaml, or $BOT_CONFIG)",
    )
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="digest-bot: sourced news digests in chat. Without a subcommand: run.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "run",
        parents=[common],
        help="start the configured platforms (the console when no token is set)",
        description="Start every platform whose token is in the environment "
        "(DISCORD_TOKEN, MATRIX_ACCESS_TOKEN); with none, the console sandbox.",
    )
    sub.add_parser(
        "console",
        parents=[common],
        help="the console sandbox: a REPL with the chat commands",
        description="A REPL with the chat commands: /summary, /figures, /where, /sources, "
        "/digests, /help.",
    )
    ask = sub.add_parser(
        "ask",
        parents=[common],
        help="answer one command and exit",
        description="Answer one command as the console would, e.g. "
        'python -m bot ask "/where Korenevo quotes:yes". Exit 2 on a user error.',
    )
    ask.add_argument("line", nargs="+", help="the command line, e.g. '/figures soldiers'")
    check = sub.add_parser(
        "check",
        parents=[common],
        help="validate digest files or folders",
        description="Validate digests (default: the configured folder). Prints one line per "
        "problem as FILE:LINE: field: message and exits 1 when any is invalid.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="digest files or folders")
    draft = sub.add_parser(
        "draft",
        parents=[common],
        help="draft a digest from an article's text",
        description="Draft a digest (YAML) from a saved article: figures, places, claimants and "
        "summary candidates, each with a verbatim quote. Review it, then `check` it. Save it as "
        "NAME.draft.yaml: drafts are never served until renamed.",
    )
    draft_cli.add_arguments(draft)
    sync = sub.add_parser(
        "sync",
        parents=[common],
        help="register the slash commands with Discord (needs DISCORD_TOKEN)",
        description="Register (overwrite) the app commands globally or in one server. Run it when "
        "the commands change, not on every start: Discord allows 200 creates a day.",
    )
    sync.add_argument(
        "--guild", type=int, metavar="ID", help="only in this server (instant; for testing)"
    )
    sync.add_argument(
        "--clear", action="store_true", help="remove the commands from that scope instead"
    )
    return parser


def _config(args: argparse.Namespace) -> Config:
    path, required = config_path(getattr(args, "config", None))
    return load_config(path, required=required)


def _maps(config: Config) -> MapSource | None:
    """The /where map renderer (imported here so ``check`` and ``ask`` stay quick to start)."""
    from bot.maps import MapMaker

    return MapMaker(config.cache / "maps")


def _library(config: Config) -> Library:
    library = Library(config.digests)
    changes = library.refresh()
    for text in describe(changes):
        if not text.startswith("[digests] added"):
            print(text, file=sys.stderr)
    return library


def cmd_ask(args: argparse.Namespace) -> int:
    config = _config(args)
    library = _library(config)
    reply = answer(library, parse(" ".join(args.line)), _maps(config))
    if reply.error is not None:
        print(render(reply), file=sys.stderr)
        return 2
    print(render(reply))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [_config(args).digests]
    problems: list[str] = []
    good = 0
    for path in paths:
        if path.is_dir():
            library = Library(path)
            changes = library.refresh()
            problems.extend(str(p) for p in changes.problems)
            good += len(library.all())
            # Drafts are never served, but `check` of the folder checks them too.
            drafts = [p for pattern in ("*.draft.yaml", "*.draft.yml") for p in path.glob(pattern)]
            for draft in sorted(drafts):
                try:
                    load_digest(draft)
                    good += 1
                except DigestInvalid as exc:
                    problems.extend(str(p) for p in exc.problems)
        elif path.is_file():
            try:
                load_digest(path)
                good += 1
            except DigestInvalid as exc:
                problems.extend(str(p) for p in exc.problems)
        else:
            problems.append(f"{path}: no such file or folder")
    for line in problems:
        print(line, file=sys.stderr)
    verdict = f"{good} digest{'s' if good != 1 else ''} valid"
    print(f"{verdict}, {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    return 1 if problems else 0


async def _console(config: Config, library: Library) -> None:
    """The console platform with schedules: ``console`` posts are printed as they fire."""
    store = Store(config.database_url)
    scheduler = Scheduler(library, store, catch_up=config.catch_up)
    console = Console(
        library, maps=_maps(config), reload_seconds=config.reload_seconds, scheduler=scheduler
    )
    scheduler.attach("console", console)
    try:
        await scheduler.load(config.schedules)
        await scheduler.start()
        await console.run()
    finally:
        await scheduler.stop()
        store.close()


def cmd_console(args: argparse.Namespace) -> int:
    config = _config(args)
    _logging(config)
    library = _library(config)
    asyncio.run(_console(config, library))
    return 0


MATRIX_LIMITS = Limits(per_second=10.0, channel_count=10, channel_period=1.0)
"""Synapse's limits vary per server and are not advertised: the Matrix adapter waits out each
M_LIMIT_EXCEEDED exactly (no post dropped), so this pacer only spreads bursts."""


async def _platforms(
    config: Config, library: Library, secrets: Secrets, matrix: MatrixSettings | None
) -> None:
    """Every configured platform in one process, sharing the library and the scheduler."""
    from bot.platforms.matrix_chat import MatrixBot

    store = Store(config.database_url)
    scheduler = Scheduler(library, store, catch_up=config.catch_up)
    maps = _maps(config)
    services: list[Coroutine[Any, Any, None]] = []
    matrix_bot: MatrixBot | None = None
    try:
        if matrix is not None:
            matrix_bot = MatrixBot(library, matrix, maps, scheduler=scheduler)
            await matrix_bot.start()  # login and first sync: fails fast with a MatrixError
            scheduler.attach("matrix", matrix_bot, MATRIX_LIMITS)
            services.append(matrix_bot.run())
        if secrets.discord_token:
            from bot.platforms.discord_chat import DiscordPoster, build_client, serve_discord

            client = build_client(library, maps=maps, scheduler=scheduler)
            poster = DiscordPoster(client)
            scheduler.attach("discord", poster, config.discord_limits, poster.ready)
            services.append(serve_discord(client, secrets.discord_token))
        await scheduler.load(config.schedules)
        await scheduler.start()
        async with asyncio.TaskGroup() as group:
            if config.reload_seconds:
                group.create_task(library.refresh_forever(config.reload_seconds))
            for service in services:
                group.create_task(service)
    finally:
        for service in services:
            service.close()  # never awaited when start-up failed: no "never awaited" warning
        await scheduler.stop()
        if matrix_bot is not None:
            await matrix_bot.close()
        store.close()


def cmd_run(args: argparse.Namespace) -> int:
    config = _config(args)
    _logging(config)
    secrets = Secrets.from_env()
    from bot.platforms.matrix_chat import MatrixError, MatrixSettings

    try:
        matrix = MatrixSettings.from_env(
            os.environ,
            config.matrix_store,
            config.matrix_allowed,
            config.matrix_msgtype,
            config.matrix_encryption,
        )
    except MatrixError as exc:
        raise CliError(str(exc)) from None
    library = _library(config)
    if matrix is None and not secrets.discord_token:
        log.info("no platform token set: starting the console sandbox")
        asyncio.run(_console(config, library))
        return 0
    from bot.platforms.discord_chat import DiscordLoginError

    try:
        asyncio.run(_platforms(config, library, secrets, matrix))
    except* (DiscordLoginError, MatrixError) as group:
        raise CliError(" / ".join(str(e) for e in group.exceptions)) from None
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    config = _config(args)
    _logging(config)
    token = Secrets.from_env().discord_token
    if not token:
        raise CliError("sync needs DISCORD_TOKEN in the environment")
    from bot.platforms.discord_chat import DiscordLoginError, sync_commands

    try:
        names = asyncio.run(sync_commands(_library(config), token, args.guild, clear=args.clear))
    except DiscordLoginError as exc:
        raise CliError(str(exc)) from None
    where = f"in server {args.guild}" if args.guild else "globally"
    if args.clear:
        print(f"removed the commands {where}")
    else:
        print(f"registered {', '.join('/' + n for n in names)} {where}")
    return 0


def _logging(config: Config) -> None:
    logging.basicConfig(
        level=config.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


COMMANDS = {
    "run": cmd_run,
    "console": cmd_console,
    "ask": cmd_ask,
    "check": cmd_check,
    "sync": cmd_sync,
    "draft": draft_cli.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = COMMANDS[args.command or "run"]
    try:
        return command(args)
    except (CliError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
