"""``python -m bot desk`` (serve the desk) and ``python -m bot desk-user add|remove|list|key``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.config import Config, DeskConfig, config_path, load_config
from bot.desk import DeskError

Serve = Callable[[Config, DeskConfig], Coroutine[Any, Any, None]]

log = logging.getLogger(__name__)
ROLES = ("editor", "admin")
"""The same as ``accounts.ROLES`` (which validates again), without importing argon2 here."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default: desk.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: desk.port, 8080)")


def add_user_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add an account; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True, help="editor, or admin (schedules)")
    remove = sub.add_parser("remove", help="remove an account (its sessions end at once)")
    remove.add_argument("name")
    sub.add_parser("list", help="list the accounts")
    sub.add_parser("key", help="print a new session key for DESK_SECRET")


def _config(args: argparse.Namespace) -> Config:
    path, required = config_path(getattr(args, "config", None))
    return load_config(path, required=required)


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            from bot.desk.accounts import AccountError

            raise AccountError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def run_user(args: argparse.Namespace) -> int:
    from bot.desk.accounts import AccountError, Accounts

    if args.action == "key":
        from cryptography.fernet import Fernet

        print(Fernet.generate_key().decode())
        return 0
    accounts = Accounts(_config(args).database_url)
    try:
        if args.action == "add":
            user = accounts.add(args.name, args.role, _password())
            print(f"added {user.name} ({user.role})")
        elif args.action == "remove":
            if not accounts.remove(args.name):
                print(f"error: no user {args.name!r}", file=sys.stderr)
                return 2
            print(f"removed {args.name}")
        else:
            for user in accounts.list():
                when = user.created_at.strftime("%Y-%m-%d") if user.created_at else ""
                print(f"{user.name}\t{user.role}\t{when}")
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        accounts.close()
    return 0


def run(args: argparse.Namespace, serve: Serve) -> int:
    """``desk``: ``serve`` is the app's (``bot.app.serve_desk``): the wiring stays in the app."""
    config = _config(args)
    logging.basicConfig(
        level=config.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = config.desk or DeskConfig()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if not 1 <= overrides.get("port", 8080) <= 65535:
        print(f"error: --port {args.port} is not a port (1-65535)", file=sys.stderr)
        return 2
    settings = settings.model_copy(update=overrides)
    try:
        asyncio.run(serve(config, settings))
    except DeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
