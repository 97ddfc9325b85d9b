"""The desk's aiohttp application and how it is served.

``make_app`` only wires: the services come in a ``Desk``; the session key comes from
``DESK_SECRET`` (a Fernet key) or is made per start, in which case sessions end with the process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from bot.commands.base import MapSource
from bot.commands.registry import Commands
from bot.config import Config, DeskConfig
from bot.desk import DeskError, auth, drafts, ops, pages
from bot.desk.accounts import Accounts
from bot.desk.context import DESK, STATIC, Desk, render
from bot.desk.review import FolderQueue, ReviewQueue
from bot.digest.library import Library
from bot.schedules.scheduler import Scheduler
from bot.schedules.store import Store

log = logging.getLogger(__name__)
# aiohttp-session 2.12 keys the request with plain strings; nothing for the desk's log to show.
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module="aiohttp_session")

SESSION_HOURS = 12
SECRET_ENV = "DESK_SECRET"


def session_key(env: Mapping[str, str] | None = None) -> Fernet:
    env = os.environ if env is None else env
    given = env.get(SECRET_ENV)
    if not given:
        log.warning(
            "%s is not set: a session key was made for this start, so everyone signs in "
            "again after a restart (set it to a key from `digest-bot desk-user key`)",
            SECRET_ENV,
        )
        return Fernet(Fernet.generate_key())
    try:
        return Fernet(given.encode())
    except ValueError:
        raise DeskError(
            f"{SECRET_ENV} is not a Fernet key (32 url-safe base64-encoded bytes); make one with "
            "`digest-bot desk-user key`"
        ) from None


@web.middleware
async def error_pages(request: web.Request, handler: auth.Handler) -> web.StreamResponse:
    """Errors as short pages; the details go to the log, never to the browser."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or (exc.status == 404 and request.path.startswith("/static/")):
            raise
        return await render(
            request, "error.html", status=exc.status, title=exc.reason, message=exc.text or ""
        )
    except Exception:
        log.exception("desk: %s %s failed", request.method, request.path)
        return await render(
            request,
            "error.html",
            status=500,
            title="Something went wrong",
            message="The details are in the bot's log.",
        )


@dataclass
class Running:
    """A serving desk: stop it with ``close()``."""

    runner: web.AppRunner
    accounts: Accounts

    async def close(self) -> None:
        await self.runner.cleanup()
        self.accounts.close()


async def start_desk(
    config: Config,
    settings: DeskConfig,
    *,
    library: Library,
    store: Store,
    commands: Commands,
    scheduler: Scheduler | None,
    maps: MapSource | None,
    queue: ReviewQueue | None = None,
) -> Running:
    """Serve the desk over the app's services (the same library, store, commands, scheduler)."""
    accounts = Accounts(config.database_url)
    if not await asyncio.to_thread(accounts.list):
        log.warning(
            "no desk accounts yet: add one with python -m bot desk-user add NAME --role admin"
        )
    the_desk = Desk(
        library=library,
        accounts=accounts,
        queue=queue if queue is not None else FolderQueue(config.digests),
        store=store,
        commands=commands,
        scheduler=scheduler,
        maps=maps,
    )
    try:
        app = make_app(the_desk, session_key(), secure_cookie=settings.secure_cookie)
        return Running(await serve(app, settings.host, settings.port), accounts)
    except DeskError:
        accounts.close()
        raise


def make_app(the_desk: Desk, key: Fernet, *, secure_cookie: bool = False) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[DESK] = the_desk
    setup_sessions(
        app,
        EncryptedCookieStorage(
            key,
            cookie_name="desk_session",
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            samesite="Strict",
            secure=secure_cookie,
        ),
    )
    app.middlewares.extend([error_pages, auth.require_session, auth.require_csrf])
    app.on_response_prepare.append(auth.security_headers)
    app.add_routes(
        [
            web.get("/login", auth.login_page),
            web.post("/login", auth.login),
            web.post("/logout", auth.logout),
            *pages.routes(),
            *drafts.routes(),
            *ops.routes(),
            web.static("/static", STATIC),
        ]
    )
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start listening; the caller keeps the runner and calls ``cleanup()`` to stop."""
    # Requests here take milliseconds: on stop, wait 5 s (not aiohttp's 60) for ones in flight,
    # so a half-open connection cannot hold a Ctrl-C for a minute.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise DeskError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    log.info("desk: serving on http://%s:%d/", host, port)
    return runner
