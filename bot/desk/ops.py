"""Schedules (admins) and the delivery ledger (everyone): what goes out, where, and how it went.

Schedule changes go through the ``/schedule`` command itself (``Commands.answer``), so the
desk validates exactly as chat does. When the desk runs inside ``python -m bot run`` it shares
the live scheduler; on its own (``python -m bot desk``) changes are stored and the bot applies
them on its next start, and a test post or a retry waits for a process that runs the platform.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.commands.base import Caller, Request, UserError
from bot.desk import ledger
from bot.desk.context import desk, flash, render, user
from bot.schedules.scheduler import Scheduler
from bot.schedules.spec import PARTS, PLATFORMS, State

STATES: tuple[State, ...] = ("pending", "sent", "failed", "skipped")


def _scheduler(request: web.Request) -> Scheduler:
    if not user(request).is_admin:
        raise web.HTTPForbidden(text="only admins manage schedules")
    scheduler = desk(request).scheduler
    if scheduler is None:
        raise web.HTTPNotFound(text="schedules are not available in this desk")
    return scheduler


NEW = {"platform": "discord", "channel": "", "cron": "", "timezone": "UTC", "post": "latest"}


async def schedules(
    request: web.Request, form: dict[str, str] | None = None, error: str | None = None
) -> web.Response:
    scheduler = _scheduler(request)
    statuses = await scheduler.statuses()
    return await render(
        request,
        "schedules.html",
        status=422 if error else 200,
        statuses=statuses,
        platforms=PLATFORMS,
        parts=PARTS,
        running=sorted(scheduler.deliverers),
        form=form or {**NEW, "parts": "summary"},
        error=error,
    )


async def _run(request: web.Request, words: tuple[str, ...], options: dict[str, str]) -> str | None:
    """Run ``/schedule`` as an admin; the error line, or None (then the result is flashed)."""
    _scheduler(request)  # admins only, and only where schedules exist
    options = dict(options)
    platform = options.pop("platform", "console")
    channel = options.pop("channel", "")
    caller = Caller(platform, channel, f"desk:{user(request).name}", is_admin=True)
    reply = await desk(request).commands.answer(Request("schedule", words, options), caller)
    if reply.error is not None:
        return reply.error
    await flash(request, f"{reply.title}. {reply.note or ''}".strip())
    return None


async def schedule_add(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    parts = ",".join(str(p) for p in form.getall("parts", []) if str(p) in PARTS) or "summary"
    options = {
        "platform": str(form.get("platform", "")),
        "channel": str(form.get("channel", "")).strip(),
        "cron": " ".join(str(form.get("cron", "")).split()),
        "timezone": str(form.get("timezone", "UTC")).strip() or "UTC",
        "post": str(form.get("post", "latest")),
        "parts": parts,
    }
    if options["platform"] not in PLATFORMS:
        error: str | None = f"unknown platform — use {', '.join(PLATFORMS)}"
    else:
        error = await _run(request, ("add",), options)
    if error is not None:  # shown with the admin's input, nothing lost
        return await schedules(request, options, error)
    raise web.HTTPSeeOther("/schedules")


async def schedule_action(request: web.Request) -> web.StreamResponse:
    action = request.match_info["action"]
    schedule_id = request.match_info["schedule_id"]
    spec = _scheduler(request).specs.get(schedule_id)
    platform = spec.platform if spec else "console"
    error = await _run(request, (action, schedule_id), {"platform": platform})
    if error is not None:
        await flash(request, error, "error")
    raise web.HTTPSeeOther("/schedules")


async def deliveries(request: web.Request) -> web.Response:
    filters = {
        name: request.query.get(name, "").strip()[:255]
        for name in ("platform", "state", "digest_id", "schedule_id")
    }
    rows = await asyncio.to_thread(ledger.rows, desk(request).store, **filters)
    return await render(
        request,
        "deliveries.html",
        rows=rows,
        filters=filters,
        platforms=PLATFORMS,
        states=STATES,
        limit=ledger.LIMIT,
    )


async def retry(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    key = tuple(str(form.get(n, "")) for n in ("platform", "channel", "digest_id", "slot"))
    the_desk = desk(request)
    row = await asyncio.to_thread(ledger.requeue, the_desk.store, (key[0], key[1], key[2], key[3]))
    if row is None:
        await flash(request, "only a failed delivery can be retried", "error")
    else:
        scheduler = the_desk.scheduler
        sender = scheduler.deliverers.get(row.platform) if scheduler else None
        if scheduler is not None and sender is not None:
            try:  # built now as the scheduler builds every post, to say at once if it cannot
                await asyncio.to_thread(scheduler.build, row)
            except UserError as exc:
                await asyncio.to_thread(the_desk.store.mark, row.key, "failed", error=str(exc))
                await flash(request, f"cannot retry: {exc}", "error")
            else:
                sender.wake()  # the row is free: this process's deliverer leases it now
                await flash(
                    request, f"retrying {row.digest_id} to {row.platform}:{row.channel} now"
                )
        else:
            await flash(
                request,
                f"queued again: {row.platform} is not running in this process, so the bot posts "
                "it when it next starts with that platform",
            )
    raise web.HTTPSeeOther(
        str(form.get("back", "/deliveries"))
        if str(form.get("back", "")).startswith("/deliveries")
        else "/deliveries"
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/schedules", schedules),
        web.post("/schedules", schedule_add),
        web.post(r"/schedules/{schedule_id}/{action:remove|test}", schedule_action),
        web.get("/deliveries", deliveries),
        web.post("/deliveries/retry", retry),
    ]
