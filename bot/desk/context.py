"""What every desk handler reaches: the shared services, the signed-in user, page rendering."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp_session import get_session
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.commands.base import MapSource
from bot.commands.registry import Commands
from bot.desk.accounts import Accounts, Throttle, User
from bot.desk.review import ReviewQueue
from bot.digest.library import Library
from bot.schedules.scheduler import Scheduler
from bot.schedules.store import Store

TEMPLATES = Environment(
    loader=PackageLoader("bot.desk", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
STATIC = Path(__file__).resolve().parent / "static"


@dataclass
class Desk:
    library: Library
    accounts: Accounts
    queue: ReviewQueue
    store: Store
    commands: Commands
    """The same commands as in chat: schedule changes go through /schedule's own code."""
    scheduler: Scheduler | None = None
    maps: MapSource | None = None
    throttle: Throttle = field(default_factory=Throttle)


DESK: web.AppKey[Desk] = web.AppKey("desk", Desk)
USER: web.RequestKey[User] = web.RequestKey("desk.user", User)
"""request[USER]: the signed-in ``User`` (set by the session middleware)."""


def desk(request: web.Request) -> Desk:
    return request.app[DESK]


def user(request: web.Request) -> User:
    return request[USER]


async def csrf_token(request: web.Request) -> str:
    session = await get_session(request)
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def flash(request: web.Request, message: str, kind: str = "ok") -> None:
    """A message for the next page (post → redirect → get)."""
    session = await get_session(request)
    session["flash"] = [*session.get("flash", []), [kind, message]][-5:]


async def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    session = await get_session(request)
    messages = session.pop("flash", [])
    html = TEMPLATES.get_template(template).render(
        user=request.get(USER),
        csrf=await csrf_token(request),
        flashes=messages,
        path=request.path,
        **context,
    )
    return web.Response(text=html, content_type="text/html", status=status)
