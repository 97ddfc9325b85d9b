"""Sign-in, sessions and CSRF: every page but the login page needs a session; every POST a token.

Sessions live in an encrypted, authenticated cookie (Fernet: AES + HMAC), HttpOnly and
SameSite=Strict; the server keeps no session table, so the user named in the cookie is looked
up on every request — a removed account is signed out at once, a changed role applies at once.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web
from aiohttp_session import get_session, new_session

from bot.desk.context import USER, desk, render

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = ("/login", "/static/")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _local(target: str | None) -> str:
    """Only a path on this site may be a redirect target (no //host, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/digests"
    return target


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: on every response, errors and redirects included."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def require_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(PUBLIC):
        return await handler(request)
    session = await get_session(request)
    name = session.get("user")
    found = None
    if isinstance(name, str):
        found = await asyncio.to_thread(desk(request).accounts.get, name)
    if found is None:
        session.pop("user", None)
        if request.method == "GET":
            target = quote(request.path_qs, safe="/?=&")
            raise web.HTTPFound(f"/login?next={target}")
        raise web.HTTPForbidden(text="sign in first")
    request[USER] = found
    return await handler(request)


@web.middleware
async def require_csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        session = await get_session(request)
        expected = session.get("csrf")
        form = await request.post()
        given = form.get("csrf")
        if (
            not isinstance(expected, str)
            or not isinstance(given, str)
            or not hmac.compare_digest(expected.encode(), given.encode())
        ):
            log.warning("refused %s %s: missing or wrong CSRF token", request.method, request.path)
            return await render(
                request,
                "error.html",
                status=403,
                title="Form expired",
                message="This form was missing its security token or it had expired. "
                "Go back, reload the page and send it again.",
            )
    return await handler(request)


async def login_page(request: web.Request) -> web.Response:
    return await render(
        request, "login.html", next=_local(request.query.get("next")), error=None, name=""
    )


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    target = _local(str(form.get("next", "")))
    the_desk = desk(request)
    keys = (f"name:{name.casefold()}", f"addr:{request.remote or '?'}")
    wait = the_desk.throttle.wait(*keys)
    if wait > 0:
        message = f"Too many failed sign-ins. Try again in {math.ceil(wait)} s."
        return await render(
            request, "login.html", status=429, next=target, error=message, name=name
        )
    found = await asyncio.to_thread(the_desk.accounts.verify, name, password) if name else None
    if found is None:
        the_desk.throttle.failed(*keys)
        log.warning("failed desk sign-in for %r from %s", name[:64], request.remote)
        message = "Wrong name or password."
        return await render(
            request, "login.html", status=401, next=target, error=message, name=name
        )
    the_desk.throttle.succeeded(keys[0])
    session = await new_session(request)  # a fresh session: nothing carried over from before
    session["user"] = found.name
    session["csrf"] = secrets.token_urlsafe(32)
    log.info("desk sign-in: %s (%s)", found.name, found.role)
    raise web.HTTPSeeOther(target)


async def logout(request: web.Request) -> web.StreamResponse:
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/login")
