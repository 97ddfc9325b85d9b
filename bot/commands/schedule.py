"""/schedule list|add|remove|test: admins manage the posts a channel gets on a schedule.

It reads and changes schedules through the ``Schedules`` protocol (the scheduler implements it),
so this package never imports the scheduler, the store or a platform: only the schedule values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.commands.base import Caller, Command, CommandSpec, Context, OptionSpec, Request, UserError
from bot.reply import Line, Reply, Section
from bot.schedules.filters import FilterError, Only
from bot.schedules.options import OptionError, PostOptions
from bot.schedules.spec import Delivery, ScheduleError, ScheduleSpec, Status
from bot.schedules.targets import problems

SCHEDULES_UNAVAILABLE = "schedules run only in a running bot: `python -m bot run` or `console`"
SCHEDULE_HELP = (
    '/schedule list | /schedule add cron:"0 8 * * mon-fri" timezone:Europe/Kyiv '
    "[channel:…] [post:latest|new] [parts:summary,figures,places,map] [only_tags:…] "
    "[only_words:…] [tags:…] [thread:yes] [publish:no] [mention:role:ID] | "
    "/schedule remove ID | /schedule test ID"
)
ACTIONS = ("list", "add", "remove", "test")


class Schedules(Protocol):
    """What /schedule needs of the scheduler."""

    async def add(self, spec: ScheduleSpec) -> ScheduleSpec: ...

    async def remove(self, schedule_id: str) -> ScheduleSpec: ...

    async def test(self, schedule_id: str) -> list[Delivery]: ...

    async def statuses(self, platform: str | None = None) -> Sequence[Status]: ...

    def ids(self, platform: str | None = None) -> list[str]:
        """Schedule ids (for autocomplete)."""
        ...


def status_line(status: Status) -> Line:
    spec = status.spec
    upcoming = status.next_run.strftime("%a %d %b %H:%M %Z") if status.next_run else "never"
    last = status.last
    if last is None:
        result = "nothing posted yet"
    elif last.state == "sent":
        result = f"posted {last.digest_id} for {last.slot}"
        if last.error:  # what did not happen as configured: unpublished, no thread
            result += f" ({last.error})"
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
    except (ScheduleError, OptionError, FilterError) as exc:
        raise UserError(str(exc)) from None


def _list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _options(request: Request) -> PostOptions:
    mention = request.text("mention")
    if mention and mention.isdigit():
        mention = f"role:{mention}"
    return PostOptions(
        only=Only.parse(request.text("only_tags"), request.text("only_words")),
        publish=request.flag("publish") if "publish" in request.options else True,
        thread=request.flag("thread"),
        tags=_list(request.text("tags")),
        mention=mention or None,
    )


async def _add(scheduler: Schedules, request: Request, caller: Caller, words: list[str]) -> Reply:
    cron = request.text("cron") or " ".join(words)
    if not cron:
        raise ScheduleError(f"say when: {SCHEDULE_HELP}")
    parts = _list(request.text("parts") or "summary")
    post = request.text("post") or "latest"
    if post not in ("latest", "new"):
        raise ScheduleError(f"post '{post}' — use latest or new")
    spec = ScheduleSpec(
        platform=caller.platform,
        channel=request.text("channel") or caller.channel,
        cron=cron,
        timezone=request.text("timezone") or "UTC",
        post="new" if post == "new" else "latest",
        parts=parts,
        origin="chat",
        created_by=caller.user,
        options=_options(request),
    )
    if caller.inspect is not None:  # the server's view: forum tags, roles, permissions
        found = problems(
            spec.options, await caller.inspect(spec.channel, spec.options), spec.channel
        )
        if found:
            raise UserError(" · ".join(found))
    await scheduler.add(spec)
    statuses = await scheduler.statuses(caller.platform)
    line = next(status_line(s) for s in statuses if s.spec.id == spec.id)
    return Reply(title="Schedule added", sections=(Section(None, (line,)),))


async def _manage(scheduler: Schedules, request: Request, caller: Caller) -> Reply:
    words = list(request.args)
    action = (request.text("action") or (words.pop(0) if words else "list")).lower()
    if action == "list":
        lines = tuple(status_line(s) for s in await scheduler.statuses(caller.platform))
        if not lines:
            return Reply(title="Schedules", note="No schedules. " + SCHEDULE_HELP)
        return Reply(title="Schedules", sections=(Section(None, lines),))
    if action == "add":
        return await _add(scheduler, request, caller, words)
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


SCHEDULE_ID = OptionSpec("schedule", "the schedule's id (/schedule list shows them)", "schedule")
ADD_OPTIONS = (
    OptionSpec(
        "cron", "when, as crontab with weekday names, e.g. 0 8 * * mon-fri", "text", required=True
    ),
    OptionSpec("channel", "where to post (default: here)", "channel"),
    OptionSpec("timezone", "an IANA timezone such as Europe/Kyiv (default UTC)", "timezone"),
    OptionSpec(
        "post",
        "latest (the newest digest) or new (digests not yet posted here)",
        "text",
        choices=("latest", "new"),
    ),
    OptionSpec("parts", "any of summary,figures,places,map (default summary)", "text"),
    OptionSpec("only_tags", "only digests with one of these tags, e.g. ukraine,russia", "text"),
    OptionSpec("only_words", "only digests containing one of these words, e.g. drone", "text"),
    OptionSpec("tags", "forum channels: the forum tags for each digest's post", "forumtags"),
    OptionSpec("thread", "open a discussion thread on each post", "bool"),
    OptionSpec("publish", "announcement channels: publish each post (default yes)", "bool"),
    OptionSpec("mention", "a role to ping with each post (Matrix: room)", "role"),
)
COMMAND = Command(
    CommandSpec(
        "schedule",
        "Admins: post digests here on a schedule",
        (),
        '/schedule add cron:"0 8 * * mon-fri" timezone:Europe/Kyiv',
        who="admin",
        refusal="only server admins may manage schedules here",
        subcommands=(
            CommandSpec("add", "Post digests on a schedule", ADD_OPTIONS, who="admin"),
            CommandSpec("list", "Each schedule, its next run and its last result", who="admin"),
            CommandSpec("test", "Post a schedule's digest now", (SCHEDULE_ID,), who="admin"),
            CommandSpec("remove", "Stop a schedule", (SCHEDULE_ID,), who="admin"),
        ),
    ),
    run_async=_schedule,
)
