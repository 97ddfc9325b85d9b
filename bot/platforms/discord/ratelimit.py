"""Discord's global limit (50 requests/s per token) held at the HTTP layer, for every request.

The sender's ``Pacer`` spaces scheduled posts evenly, but it cannot see when a request reaches
Discord: on a busy machine a few requests held up by the event loop or the network arrive
together with the next ones, and a burst like that is a 429 (which stops every request of the
token for its ``retry_after``). This hook counts every request the client makes from the moment
it is sent until one period after its answer (``bot.schedules.pacing.Window``), which keeps
each second's arrivals under the limit whatever those delays are.

It is an aiohttp ``TraceConfig`` that discord.py passes to its session (``http_trace``), so it
sees lookups, publishing and thread creation as well as posts. Interaction answers and their
follow-ups (``/interactions/…``, ``/webhooks/…``) are not bound by the global limit and do not
wait: a command is answered at once during a fan-out.
"""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
import discord
from yarl import URL

from bot.schedules.pacing import Window

EXEMPT = ("/interactions/", "/webhooks/")
"""Path parts of the endpoints Discord does not count against the bot's global limit."""


def counted(url: URL) -> bool:
    """Is this request one of the token's, bound by the global limit?"""
    base = str(discord.http.Route.BASE)  # read each time: tests point it at a fake
    text = str(url)
    if not text.startswith(base):
        return False  # the gateway, a CDN: other hosts, other limits
    rest = text[len(base) :]
    return not any(rest.startswith(part) for part in EXEMPT)


def global_limit(window: Window) -> aiohttp.TraceConfig:
    """The trace that holds every counted request in ``window`` (enter on start, leave when the
    answer's headers are in or the request failed: aiohttp always ends a started trace)."""

    async def start(
        _session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        if counted(params.url):
            await window.enter()
            context.counted = True  # only once in: a request cancelled while waiting holds none

    async def end(
        _session: aiohttp.ClientSession,
        context: SimpleNamespace,
        _params: aiohttp.TraceRequestEndParams | aiohttp.TraceRequestExceptionParams,
    ) -> None:
        if getattr(context, "counted", False):
            context.counted = False
            window.leave()

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(start)
    trace.on_request_end.append(end)
    trace.on_request_exception.append(end)
    return trace
