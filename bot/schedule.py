"""Schedules: cron slots (APScheduler 3) → ledger rows → paced deliveries.

Time comes from an injected clock so tests can walk through days without sleeping. APScheduler
only wakes us at each slot; *which* slots are due is decided here from the persisted mark
(the time up to which every slot was handled), which is also how downtime is caught up:
slots missed by less than ``catch_up`` are posted late, older ones are skipped with a log line.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.answers import Request, answer
from bot.budget import budget_for
from bot.delivery import Deliverer, Limits, Poster
from bot.digest.library import Library
from bot.reply import Line, Reply, Section
from bot.store import Delivery, Store

log = logging.getLogger(__name__)

Platform = Literal["discord", "matrix", "console"]
Part = Literal["summary", "figures", "places"]
PostWhat = Literal["latest", "new"]
PLATFORMS: tuple[str, ...] = get_args(Platform)
PARTS: tuple[str, ...] = get_args(Part)
NEW_PER_SLOT = 10
"""At most this many not-yet-posted digests go out in one slot (the rest wait for the next)."""


class ScheduleError(ValueError):
    """A schedule that cannot run: one line saying what is wrong and what would work."""


_CHANNEL_RULES: Mapping[str, tuple[re.Pattern[str], str]] = {
    "discord": (re.compile(r"^\d{15,21}$"), "a Discord channel id (digits)"),
    # Room versions up to 11 have ids like !abc:example.org; version 12 (Synapse's default
    # since 1.135) drops the server part.
    "matrix": (re.compile(r"^![^\s:]+(:\S+)?$"), "a Matrix room id like !abc:example.org"),
    "console": (re.compile(r"^[\w#.-]{1,64}$"), "a name like news"),
}


def check_channel(platform: str, channel: str) -> None:
    rule = _CHANNEL_RULES.get(platform)
    if rule is None:
        raise ScheduleError(f"unknown platform '{platform}' — use {', '.join(PLATFORMS)}")
    if not rule[0].match(channel):
        raise ScheduleError(f"channel '{channel}' is not {rule[1]}")


def trigger(cron: str, timezone: str) -> CronTrigger:
    """Crontab syntax with weekday *names*: APScheduler 3 counts 0 as Monday, crontab as Sunday."""
    fields = cron.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"cron '{cron}' needs 5 fields: minute hour day month weekday (e.g. '0 8 * * mon-fri')"
        )
    if re.search(r"\d", fields[4]):
        raise ScheduleError(
            f"weekday '{fields[4]}' must use names (mon-fri, sat,sun): numbers mean different "
            "days in crontab and in APScheduler"
        )
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown timezone '{timezone}' — use an IANA name like Europe/Kyiv or UTC"
        ) from None
    try:
        return CronTrigger.from_crontab(cron, timezone=zone)
    except ValueError as exc:
        raise ScheduleError(f"bad cron '{cron}': {exc}") from None


@dataclass(frozen=True)
class ScheduleSpec:
    platform: str
    channel: str
    cron: str
    timezone: str = "UTC"
    post: PostWhat = "latest"
    parts: tuple[str, ...] = ("summary",)
    origin: Literal["config", "chat"] = "config"
    created_by: str | None = None

    def __post_init__(self) -> None:
        check_channel(self.platform, self.channel)
        trigger(self.cron, self.timezone)
        if self.post not in ("latest", "new"):
            raise ScheduleError(f"post '{self.post}' — use latest or new")
        if not self.parts:
            raise ScheduleError(f"parts must name at least one of {', '.join(PARTS)}")
        for part in self.parts:
            if part not in PARTS:
                raise ScheduleError(f"part '{part}' — use {', '.join(PARTS)}")

    @property
    def id(self) -> str:
        """Stable across restarts: the same schedule always has the same id."""
        key = f"{self.platform}|{self.channel}|{self.cron}|{self.timezone}|{self.post}|"
        key += ",".join(self.parts)
        return "s" + hashlib.sha256(key.encode()).hexdigest()[:7]

    @property
    def trigger(self) -> CronTrigger:
        return trigger(self.cron, self.timezone)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["parts"] = list(self.parts)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScheduleSpec:
        return cls(**{**data, "parts": tuple(data.get("parts", ("summary",)))})

    def describe(self) -> str:
        return (
            f"{self.post} digest ({', '.join(self.parts)}) to {self.platform}:{self.channel} "
            f"at '{self.cron}' {self.timezone}"
        )


def slots(cron: CronTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """Fire times in (after, until]."""
    current = cron.get_next_fire_time(None, after + timedelta(seconds=1))
    while current is not None and current <= until:
        yield current
        current = cron.get_next_fire_time(current, current + timedelta(seconds=1))


def slot_key(slot: datetime) -> str:
    return slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def compose(library: Library, digest_id: str, parts: Sequence[str]) -> Reply | None:
    """The scheduled post: the same Reply as /summary, plus the other parts asked for."""
    if library.get(digest_id) is None:
        return None
    commands = {"summary": "summary", "figures": "figures", "places": "where"}
    replies = [answer(library, Request(commands[p], options={"digest": digest_id})) for p in parts]
    good = [r for r in replies if r.error is None]
    if not good:
        return None
    if len(good) == 1:
        return good[0]
    headings = {"summary": "Summary", "figures": "Figures", "places": "Places"}
    sections = tuple(
        Section(headings[part] if not s.heading else f"{headings[part]}: {s.heading}", s.lines)
        for part, reply in zip(parts, replies, strict=True)
        if reply.error is None
        for s in reply.sections
    )
    return Reply(title=good[0].title, sections=sections, url=good[0].url)


@dataclass
class Status:
    spec: ScheduleSpec
    next_run: datetime | None = None
    last: Delivery | None = None
    flagged: str | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Scheduler:
    """Owns the schedules (config + chat), the APScheduler jobs and the catch-up logic."""

    library: Library
    store: Store
    deliverers: dict[str, Deliverer] = field(default_factory=dict)
    catch_up: timedelta = timedelta(hours=1)
    clock: Callable[[], datetime] = utcnow
    specs: dict[str, ScheduleSpec] = field(default_factory=dict)
    flagged: dict[str, str] = field(default_factory=dict)
    _aps: AsyncIOScheduler | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # -- set-up -------------------------------------------------------------------------------
    async def load(self, configured: Sequence[ScheduleSpec]) -> None:
        for spec in configured:
            self.specs[spec.id] = spec
        for schedule_id, data in await asyncio.to_thread(self.store.load_schedules):
            try:
                spec = ScheduleSpec.from_json(data)
            except (ScheduleError, TypeError) as exc:
                log.error("stored schedule %s is invalid and was not loaded: %s", schedule_id, exc)
                continue
            self.specs[spec.id] = spec

    async def start(self, *, run_jobs: bool = True) -> None:
        """Resume unfinished posts, catch up on missed slots, then wait for the next ones.

        The deliverers lease unfinished rows themselves (also rows a dead process held)."""
        for deliverer in self.deliverers.values():
            deliverer.start()
        for row in await asyncio.to_thread(self.store.unfinished):
            if row.platform not in self.deliverers:
                log.warning("pending post %s waits: platform %s not running", row.key, row.platform)
        for schedule_id in list(self.specs):
            await self.tick(schedule_id)
        if run_jobs:
            self._aps = AsyncIOScheduler(timezone=UTC)
            for spec in self.specs.values():
                self._add_job(spec)
            self._aps.start()

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        for deliverer in self.deliverers.values():
            await deliverer.stop()

    def _add_job(self, spec: ScheduleSpec) -> None:
        if self._aps is None:
            return
        self._aps.add_job(
            self.tick,
            spec.trigger,
            args=[spec.id],
            id=spec.id,
            replace_existing=True,
            misfire_grace_time=None,  # lateness is judged by tick() against catch_up
            coalesce=True,
        )

    # -- the slots ----------------------------------------------------------------------------
    async def tick(self, schedule_id: str) -> None:
        async with self._lock:
            spec = self.specs.get(schedule_id)
            if spec is None or spec.platform not in self.deliverers:
                return  # its platform is not running: its slots wait for a run that has it
            now = self.clock()
            mark = await asyncio.to_thread(self.store.last_slot, schedule_id)
            if mark is None:  # a new schedule starts now; it owes nothing from before
                await asyncio.to_thread(self.store.set_last_slot, schedule_id, now.isoformat())
                return
            after = datetime.fromisoformat(mark)
            for slot in slots(spec.trigger, after, now):
                late = now - slot
                if late > self.catch_up:
                    log.warning(
                        "schedule %s skipped the %s slot: missed by %s, beyond catch_up %s",
                        schedule_id,
                        slot_key(slot),
                        str(late).split(".")[0],
                        self.catch_up,
                    )
                    row = Delivery(
                        spec.platform, spec.channel, "", slot_key(slot), schedule_id, "skipped"
                    )
                    claimed = await asyncio.to_thread(self.store.claim, row)
                    if claimed.state == "skipped":
                        await asyncio.to_thread(
                            self.store.mark,
                            row.key,
                            "skipped",
                            error=f"missed by {str(late).split('.')[0]} (bot was down)",
                        )
                    continue
                await self.deliver(spec, slot_key(slot))
            await asyncio.to_thread(self.store.set_last_slot, schedule_id, now.isoformat())

    def _digests_for(self, spec: ScheduleSpec, posted: set[str]) -> list[str]:
        if spec.post == "latest":
            newest = self.library.newest()
            return [newest.id] if newest else []
        fresh = [d.id for d in reversed(self.library.all()) if d.id not in posted]
        return fresh[:NEW_PER_SLOT]

    async def deliver(self, spec: ScheduleSpec, slot: str) -> list[Delivery]:
        """Write a ledger row per digest for this slot, then hand the unsent ones to a sender."""
        deliverer = self.deliverers.get(spec.platform)
        if deliverer is None:
            log.warning("schedule %s: platform %s is not running", spec.id, spec.platform)
            return []
        posted = await asyncio.to_thread(self.store.posted_digests, spec.platform, spec.channel)
        queued: list[Delivery] = []
        for digest_id in self._digests_for(spec, posted):
            row = Delivery(spec.platform, spec.channel, digest_id, slot, spec.id, "pending")
            claimed = await asyncio.to_thread(self.store.claim, row)
            if claimed is not row:
                continue  # this slot's post already exists: sent, failed, or another process's
            queued.append(claimed)
        if queued:
            deliverer.wake()  # whichever process leases the rows first sends them
        if not queued and spec.post == "latest" and self.library.newest() is None:
            log.warning("schedule %s: no digest loaded, nothing posted for %s", spec.id, slot)
        return queued

    # -- management (/schedule) ---------------------------------------------------------------
    async def add(self, spec: ScheduleSpec) -> ScheduleSpec:
        if spec.id in self.specs:
            raise ScheduleError(f"that schedule exists already as {spec.id}")
        await asyncio.to_thread(self.store.save_schedule, spec.id, spec.to_json())
        self.specs[spec.id] = spec
        await asyncio.to_thread(self.store.set_last_slot, spec.id, self.clock().isoformat())
        self._add_job(spec)
        return spec

    async def remove(self, schedule_id: str) -> ScheduleSpec:
        spec = self.specs.get(schedule_id)
        if spec is None:
            raise ScheduleError(f"no schedule '{schedule_id}' — /schedule list shows the ids")
        if spec.origin == "config":
            raise ScheduleError(f"{schedule_id} comes from config.yaml: remove it there")
        await asyncio.to_thread(self.store.remove_schedule, schedule_id)
        del self.specs[schedule_id]
        if self._aps is not None and self._aps.get_job(schedule_id) is not None:
            self._aps.remove_job(schedule_id)
        return spec

    async def test(self, schedule_id: str) -> list[Delivery]:
        spec = self.specs.get(schedule_id)
        if spec is None:
            raise ScheduleError(f"no schedule '{schedule_id}' — /schedule list shows the ids")
        slot = "test-" + self.clock().strftime("%Y%m%dT%H%M%S")
        newest = self.library.newest()
        if newest is None:
            raise ScheduleError("no digest is loaded, so there is nothing to post")
        row = Delivery(spec.platform, spec.channel, newest.id, slot, spec.id, "pending")
        deliverer = self.deliverers.get(spec.platform)
        if deliverer is None:
            raise ScheduleError(f"platform {spec.platform} is not running here")
        claimed = await asyncio.to_thread(self.store.claim, row)
        deliverer.wake()
        return [claimed]

    async def statuses(self, platform: str | None = None) -> list[Status]:
        out = []
        now = self.clock()
        for spec in sorted(self.specs.values(), key=lambda s: s.id):
            if platform is not None and spec.platform != platform:
                continue
            last = await asyncio.to_thread(self.store.latest, spec.id)
            upcoming = spec.trigger.get_next_fire_time(None, now)
            out.append(Status(spec, upcoming, last, self.flagged.get(spec.id)))
        return out

    async def flag(self, delivery: Delivery, error: str) -> None:
        self.flagged[delivery.schedule_id] = error

    def build(self, delivery: Delivery) -> Reply | None:
        spec = self.specs.get(delivery.schedule_id)
        parts = spec.parts if spec is not None else ("summary",)
        return compose(self.library, delivery.digest_id, parts)

    def attach(
        self,
        platform: str,
        poster: Poster,
        limits: Limits | None = None,
        ready: Callable[[], Awaitable[object]] | None = None,
    ) -> Deliverer:
        """Register a running platform; its posts go through one paced sender (per token, with
        the other processes on a shared database), from when ``ready()`` returns."""
        budget = budget_for(self.store, platform, limits or Limits())
        deliverer = Deliverer(
            platform, poster, self.store, self.build, budget=budget, on_gone=self.flag, ready=ready
        )
        self.deliverers[platform] = deliverer
        return deliverer


def parse_duration(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*", str(text))
    if not match:
        raise ScheduleError(f"duration '{text}' — use a number with s, m, h or d, like 1h")
    value = float(match.group(1))
    unit = match.group(2) or "s"
    return timedelta(seconds=value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])


# -- /schedule -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Where a /schedule came from and whether its author may manage schedules there."""

    platform: str
    channel: str
    user: str
    is_admin: bool


SCHEDULE_HELP = (
    '/schedule list | /schedule add cron:"0 8 * * mon-fri" timezone:Europe/Kyiv '
    "[post:latest|new] [parts:summary,figures,places] | /schedule remove ID | /schedule test ID"
)


def _status_line(status: Status) -> Line:
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


async def schedule_command(scheduler: Scheduler, request: Request, caller: Caller) -> Reply:
    """/schedule list|add|remove|test; admins only (Manage Server, power ≥ 50, console)."""
    words = list(request.args)
    action = (words.pop(0) if words else request.options.get("action", "list")).lower()
    if not caller.is_admin:
        return Reply.failure("only server admins may manage schedules here")
    try:
        if action == "list":
            statuses = await scheduler.statuses(caller.platform)
            lines = tuple(_status_line(s) for s in statuses)
            if not lines:
                return Reply(title="Schedules", note="No schedules. " + SCHEDULE_HELP)
            return Reply(title="Schedules", sections=(Section(None, lines),))
        if action == "add":
            options = dict(request.options)
            options.pop("action", None)
            unknown = set(options) - {"cron", "timezone", "post", "parts", "channel"}
            if unknown:
                raise ScheduleError(f"unknown option '{sorted(unknown)[0]}:' — {SCHEDULE_HELP}")
            cron = options.get("cron") or " ".join(words)
            if not cron:
                raise ScheduleError(f"say when: {SCHEDULE_HELP}")
            parts = tuple(p.strip() for p in options.get("parts", "summary").split(",") if p)
            post = options.get("post", "latest")
            if post not in ("latest", "new"):
                raise ScheduleError(f"post '{post}' — use latest or new")
            spec = ScheduleSpec(
                platform=caller.platform,
                channel=options.get("channel", caller.channel),
                cron=cron,
                timezone=options.get("timezone", "UTC"),
                post="new" if post == "new" else "latest",
                parts=parts,
                origin="chat",
                created_by=caller.user,
            )
            await scheduler.add(spec)
            status = await scheduler.statuses(caller.platform)
            line = next(_status_line(s) for s in status if s.spec.id == spec.id)
            return Reply(title="Schedule added", sections=(Section(None, (line,)),))
        if action in ("remove", "test"):
            target = request.options.get("id") or (words[0] if words else "")
            if not target:
                raise ScheduleError(f"/schedule {action} needs an id — /schedule list shows them")
            if action == "remove":
                spec = await scheduler.remove(target)
                return Reply(title="Schedule removed", note=f"{target}: {spec.describe()}")
            rows = await scheduler.test(target)
            return Reply(
                title="Test post queued",
                note=f"{rows[0].digest_id} to {rows[0].channel} now; "
                "/schedule list shows how it went",
            )
        raise ScheduleError(f"no /schedule {action} — {SCHEDULE_HELP}")
    except ScheduleError as exc:
        return Reply.failure(str(exc))
