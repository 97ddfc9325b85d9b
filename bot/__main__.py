"""``digest-bot [run|console|ask|check|draft|sync] …`` (or ``python -m bot``) — see ``--help``.

Exit codes: 0 ok, 1 invalid digests (``check``), 2 a usage, config or user error. Every error is
one line on stderr; no traceback reaches the user for anything they typed or wrote.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.desk import cli as desk_cli
from bot.draft import cli as draft_cli
from bot.pipeline import cli as pipeline_cli

# The app (its store, scheduler, platforms), the config and asyncio load inside the commands
# that use them: `draft` needs none of them, and every command loads only what it runs.
if TYPE_CHECKING:
    from bot.config import Config

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
        prog="digest-bot",
        description="digest-bot: sourced news digests in chat. Without a subcommand: run.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser(
        "run",
        parents=[common],
        help="start the configured platforms (the console when no token is set)",
        description="Start every platform whose token is in the environment "
        "(DISCORD_TOKEN, MATRIX_ACCESS_TOKEN); with none, the console sandbox. Several "
        "processes may run at once on one DATABASE_URL (PostgreSQL), each with its Discord "
        "shards: every one posts scheduled posts, each post once.",
    )
    run.add_argument(
        "--shard-count",
        type=int,
        metavar="N",
        help="Discord: the token's number of shards (the same in every process)",
    )
    run.add_argument(
        "--shard-ids",
        metavar="A[,B…]",
        help="Discord: the shards this process runs (default: all N)",
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
    desk = sub.add_parser(
        "desk",
        parents=[common],
        help="serve the editors' desk (web page) on 127.0.0.1:8080",
        description="Serve the desk: review drafts, read digests beside their articles, watch "
        "deliveries, manage schedules. Accounts: desk-user add.",
    )
    desk_cli.add_arguments(desk)
    desk_user = sub.add_parser(
        "desk-user",
        parents=[common],
        help="add, remove or list desk accounts",
        description="Desk accounts (argon2 hashes in the database). add reads the password "
        "from stdin; key prints a new DESK_SECRET.",
    )
    desk_cli.add_user_arguments(desk_user)
    pipeline_cli.add_ingest_arguments(
        sub.add_parser("ingest", parents=[common], help="queue an article or a feed for review")
    )
    pipeline_cli.add_review_arguments(
        sub.add_parser("review", parents=[common], help="list, show, approve or reject drafts"),
        common,
    )
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
    from bot.config import config_path, load_config

    path, required = config_path(getattr(args, "config", None))
    return load_config(path, required=required)


def cmd_ask(args: argparse.Namespace) -> int:
    from bot import app
    from bot.reply import plain

    reply = app.ask(_config(args), " ".join(args.line))
    if reply.error is not None:
        print(plain(reply), file=sys.stderr)
        return 2
    print(plain(reply))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from bot import app

    paths = [Path(p) for p in args.paths] or [_config(args).digests]
    good, problems, warnings = app.check(paths)
    for line in problems + warnings:
        print(line, file=sys.stderr)

    def count(n: int, what: str) -> str:
        return f"{n} {what}{'s' if n != 1 else ''}"

    verdict = f"{count(good, 'digest')} valid, {count(len(problems), 'problem')}"
    print(verdict + (f", {count(len(warnings), 'warning')}" if warnings else ""))
    return 1 if problems else 0


NO_PLATFORM = (
    "no platform token set and no terminal for the console: set DISCORD_TOKEN, or "
    "MATRIX_HOMESERVER, MATRIX_USER_ID and MATRIX_ACCESS_TOKEN (or MATRIX_PASSWORD)"
)


def _need_stdin() -> None:
    """``digest-bot <&-`` leaves ``sys.stdin`` None: one line, not a traceback."""
    if sys.stdin is None or sys.stdin.closed:
        raise CliError("the console reads commands from stdin, and stdin is closed")


def cmd_console(args: argparse.Namespace) -> int:
    import asyncio

    from bot import app

    config = _config(args)
    _need_stdin()
    _logging(config)
    try:
        asyncio.run(app.App(config, console=app.ConsoleRun(), desk=config.desk).run())
    except app.PlatformError as exc:  # the desk, when config.yaml has one, could not start
        raise CliError(str(exc)) from None
    return 0


def shard_options(count: int | None, ids: str | None) -> dict[str, object]:
    """``--shard-count``/``--shard-ids`` as discord.py's ``shard_count``/``shard_ids``."""
    if count is None:
        if ids is not None:
            raise CliError("--shard-ids needs --shard-count (the token's number of shards)")
        return {}
    if count < 1:
        raise CliError(f"--shard-count {count}: there must be at least one shard")
    if ids is None:
        return {"shard_count": count}
    try:
        chosen = [int(part) for part in ids.split(",")]
    except ValueError:
        raise CliError(f"--shard-ids '{ids}': give shard numbers like 0,1") from None
    wrong = [n for n in chosen if not 0 <= n < count]
    if wrong:
        raise CliError(f"--shard-ids: {wrong[0]} is not a shard of 0..{count - 1}")
    if len(set(chosen)) != len(chosen):
        raise CliError(f"--shard-ids '{ids}' names a shard twice")
    return {"shard_count": count, "shard_ids": sorted(chosen)}


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from bot import app

    config = _config(args)
    _logging(config)
    shards = shard_options(getattr(args, "shard_count", None), getattr(args, "shard_ids", None))
    try:
        discord, matrix = app.platforms_from_env(config, os.environ)
    except app.PlatformError as exc:
        raise CliError(str(exc)) from None
    if shards:
        if discord is None:
            raise CliError("--shard-count is for Discord: set DISCORD_TOKEN")
        discord = dataclasses.replace(discord, options={**discord.options, **shards})
    if discord is None and matrix is None:
        # On a host (no terminal) a console that reads EOF and exits 0 is a silent restart
        # loop: fail, saying what to set. A pipe still reaches the console via `console`.
        if sys.stdin is None or sys.stdin.closed or not sys.stdin.isatty():
            raise CliError(NO_PLATFORM)
        log.info("no platform token set: starting the console sandbox")
        return cmd_console(args)
    try:
        asyncio.run(app.App(config, discord=discord, matrix=matrix, desk=config.desk).run())
    except* app.PlatformError as group:
        raise CliError(" / ".join(str(e) for e in group.exceptions)) from None
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    import asyncio

    from bot import app
    from bot.config import Secrets

    config = _config(args)
    _logging(config)
    token = Secrets.from_env().discord_token
    if not token:
        raise CliError("sync needs DISCORD_TOKEN in the environment")
    try:
        names = asyncio.run(
            app.sync_discord(app.open_library(config), token, args.guild, clear=args.clear)
        )
    except app.PlatformError as exc:
        raise CliError(str(exc)) from None
    where = f"in server {args.guild}" if args.guild else "globally"
    if args.clear:
        print(f"removed the commands {where}")
    else:
        print(f"registered {', '.join('/' + n for n in names)} {where}")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    return pipeline_cli.ingest(args, _config(args))


def cmd_review(args: argparse.Namespace) -> int:
    return pipeline_cli.review(args, _config(args))


class _Stderr:
    """Whatever ``sys.stderr`` is at the time of writing: while the console's line editor runs
    it is the editor's proxy, so a log line prints above the prompt instead of through it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _logging(config: Config) -> None:
    logging.basicConfig(
        level=config.log_level,
        stream=_Stderr(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # not a line per plugin and step


def cmd_desk(args: argparse.Namespace) -> int:
    from bot import app

    return desk_cli.run(args, app.serve_desk)


COMMANDS = {
    "run": cmd_run,
    "console": cmd_console,
    "ask": cmd_ask,
    "check": cmd_check,
    "sync": cmd_sync,
    "draft": draft_cli.run,
    "desk": cmd_desk,
    "desk-user": desk_cli.run_user,
    "ingest": cmd_ingest,
    "review": cmd_review,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = COMMANDS[args.command or "run"]
    try:
        return command(args)
    except Exception as exc:
        from bot.config import ConfigError  # loaded already by whatever could raise it

        if not isinstance(exc, CliError | ConfigError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C is how a person at the terminal stops the bot: a clean stop, not an error
        # (`make run` would report "Error 130"). One-shot commands keep the shell's 130.
        return 0 if command in (cmd_run, cmd_console) else 130


def entry() -> None:
    """The ``digest-bot`` console script (and ``python -m bot``)."""
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())


if __name__ == "__main__":
    entry()
