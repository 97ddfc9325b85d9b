"""/schedule list|add|remove|test: admins manage the posts a channel gets on a schedule.

It reads and changes schedules through the ``Schedules`` protocol (the scheduler implements it),
so this package never imports the scheduler, the store or a platform: only the schedule values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.commands.base import Caller, Command, CommandSpec, Context, OptionSpec, Request, UserError
from bot.reply import Line, Reply, Section
from bot.schedules.spec import Delivery, ScheduleError, ScheduleSpec, Status

SCHEDULES_UNAVAILABLE = "schedules run only in a running bot: `python -m bot run` or `console`"
SCHEDULE_HELP = (
    '/schedule list | /schedule add cron:"0 8 * * mon-fri" timezone:Europe/Kyiv '
    "[post:latest|new] [parts:summary,figures,places,map] | /schedule remove ID | "
    "/schedule test ID"
)
ACTIONS = ("list", "add", "remove", "test")


class Schedules(Protocol):
    """What /schedule needs of the scheduler."""

    async def add(self, spec: ScheduleSpec) -> ScheduleSpec: ...

    async def remove(self, schedule_id: str) -> ScheduleSpec: ...

    async def test(self, schedule_id: str) -> list[Delivery]: ...

    async def statuses(self, platform: str | None = None) -> Sequence[Status]: ...


def status_line(status: Status) -> Line:
    spec = status.spec
    upcoming = status.next_run.strftime("%a %d %b %H:%M %Z") if status.next_run else "never"
    last = status.last
    if last is None:
        result = "nothing posted yet"
    elif last.state == "sent":
        result = f"posted {last.digest_id} for {last.slot}"
    elif last.state == "pending":
        result = f"posting {last.digest_id} for {last.slot}"
    else:
        result = f"{last.state} {last.slot}: {last.error or 'unknown reason'}"
    text = f"{spec.id}: {spec.describe()} — next {upcoming}; last: {result}"
    if status.flagged:
        text += f" — FLAGGED: {status.flagged}"
    return Line(text)


async def _schedule(ctx: Context, request: Request, caller: Caller) -> Reply:
    if ctx.scheduler is None:
        raise UserError(SCHEDULES_UNAVAILABLE)
    try:
        return await _manage(ctx.scheduler, request, caller)
    except ScheduleError as exc:
        raise UserError(str(exc)) from None


async def _manage(scheduler: Schedules, request: Request, caller: Caller) -> Reply:
    words = list(request.args)
    action = (request.text("action") or (words.pop(0) if words else "list")).lower()
    if action == "list":
        lines = tuple(status_line(s) for s in await scheduler.statuses(caller.platform))
        if not lines:
            return Reply(title="Schedules", note="No schedules. " + SCHEDULE_HELP)
        return Reply(title="Schedules", sections=(Section(None, lines),))
    if action == "add":
        cron = request.text("cron") or " ".join(words)
        if not cron:
            raise ScheduleError(f"say when: {SCHEDULE_HELP}")
        raw_parts = request.text("parts") or "summary"
        parts = tuple(p.strip() for p in raw_parts.split(",") if p.strip())
        post = request.text("post") or "latest"
        if post not in ("latest", "new"):
            raise ScheduleError(f"post '{post}' — use latest or new")
        spec = ScheduleSpec(
            platform=caller.platform,
            channel=caller.channel,
            cron=cron,
            timezone=request.text("timezone") or "UTC",
            post="new" if post == "new" else "latest",
            parts=parts,
            origin="chat",
            created_by=caller.user,
        )
        await scheduler.add(spec)
        statuses = await scheduler.statuses(caller.platform)
        line = next(status_line(s) for s in statuses if s.spec.id == spec.id)
        return Reply(title="Schedule added", sections=(Section(None, (line,)),))
    if action in ("remove", "test"):
        target = request.text("schedule") or (words[0] if words else "")
        if not target:
            raise ScheduleError(f"/schedule {action} needs an id — /schedule list shows them")
        if action == "remove":
            removed = await scheduler.remove(target)
            return Reply(title="Schedule removed", note=f"{target}: {removed.describe()}")
        rows = await scheduler.test(target)
        return Reply(
            title="Test post queued",
            note=f"{rows[0].digest_id} to {rows[0].channel} now; /schedule list shows how it went",
        )
    raise ScheduleError(f"no /schedule {action} — {SCHEDULE_HELP}")


COMMAND = Command(
    CommandSpec(
        "schedule",
        "Admins: post digests here on a schedule",
        (
            OptionSpec("action", "list (default), add, remove or test", "text", choices=ACTIONS),
            OptionSpec(
                "cron", "add: when, as crontab with weekday names, e.g. 0 8 * * mon-fri", "text"
            ),
            OptionSpec(
                "timezone", "add: an IANA timezone such as Europe/Kyiv (default UTC)", "text"
            ),
            OptionSpec(
                "post",
                "add: latest (the newest digest) or new (digests not yet posted here)",
                "text",
                choices=("latest", "new"),
            ),
            OptionSpec("parts", "add: any of summary,figures,places,map (default summary)", "text"),
            OptionSpec("schedule", "remove/test: the schedule id from /schedule list", "text"),
        ),
        '/schedule add cron:"0 8 * * mon-fri" timezone:Europe/Kyiv',
        who="admin",
        refusal="only server admins may manage schedules here",
    ),
    run_async=_schedule,
)
