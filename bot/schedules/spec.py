"""Schedule values: what a schedule is, when it fires, and one post's ledger row. A leaf.

``config.py`` builds ``ScheduleSpec``s and ``Limits`` from config.yaml, and ``/schedule`` builds
them from chat, so nothing here imports the scheduler, the store or a platform.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.schedules.options import OptionError, PostOptions

Platform = Literal["discord", "matrix", "console"]
Part = Literal["summary", "figures", "places", "map"]
"""``map`` attaches the /where map to the post: a decision of the schedule, off by default."""
PostWhat = Literal["latest", "new"]
ID_HEX = 12
"""Hex digits of a schedule id after its ``s``."""
OLD_ID_HEX = 7
"""Hex digits of the ids of releases before this one."""

PLATFORMS: tuple[str, ...] = get_args(Platform)
PARTS: tuple[str, ...] = get_args(Part)


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


@functools.lru_cache(maxsize=4096)  # pure: 10,000 schedules of one cron parse it once
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
        for (name, what, allowed, example), value in zip(CRON_FIELDS, fields, strict=True):
            try:
                CronTrigger(**{name: value}, timezone=zone)
            except ValueError:
                raise ScheduleError(
                    f"cron '{cron}': the {what} field '{value}' is not valid — {what} is "
                    f"{allowed}, e.g. '{example}' in '0 8 * * mon-fri'"
                ) from None
        raise ScheduleError(f"bad cron '{cron}': {exc}") from None


CRON_FIELDS = (
    ("minute", "minute", "0-59 (or */15, 0,30)", "0"),
    ("hour", "hour", "0-23 (or 8-18, */2)", "8"),
    ("day", "day-of-month", "1-31 (or 1,15, *)", "*"),
    ("month", "month", "1-12 or jan-dec (or *)", "*"),
    ("day_of_week", "weekday", "mon-sun by name (mon-fri, sat,sun, *)", "mon-fri"),
)
"""The five crontab fields: APScheduler's name, the editor's name, what is allowed, an example."""


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
    options: PostOptions = field(default_factory=PostOptions)
    """The filter, publishing, threads, forum tags and ping (``bot.schedules.options``)."""
    where: str | None = field(default=None, compare=False)
    """Where a config.yaml schedule is written (``config.yaml:12: schedules[0]``), for errors."""

    def __post_init__(self) -> None:
        check_channel(self.platform, self.channel)
        try:
            self.options.check(self.platform)
        except OptionError as exc:
            raise ScheduleError(str(exc)) from None
        trigger(self.cron, self.timezone)
        if self.post not in ("latest", "new"):
            raise ScheduleError(f"post '{self.post}' — use latest or new")
        if not self.parts:
            raise ScheduleError(f"parts must name at least one of {', '.join(PARTS)}")
        for part in self.parts:
            if part not in PARTS:
                raise ScheduleError(f"part '{part}' — use {', '.join(PARTS)}")
        if set(self.parts) == {"map"}:
            raise ScheduleError("part 'map' goes with summary, figures or places, not alone")

    @functools.cached_property  # a frozen value: 10,000 schedules of one slot ask for it often
    def id(self) -> str:
        """Stable across restarts: the same schedule always has the same id. 48 bits: among
        20,000 schedules two share an id about once in a million (with 28 they often did, and
        one of them silently got no posts)."""
        key = f"{self.platform}|{self.channel}|{self.cron}|{self.timezone}|{self.post}|"
        key += ",".join(self.parts) + self.options.key()
        return "s" + hashlib.sha256(key.encode()).hexdigest()[:ID_HEX]

    @property
    def old_id(self) -> str:
        """Its id before ids grew to 48 bits (the start of the new one): what a database made
        by an earlier release keys its marks, flags and ledger rows by."""
        return self.id[: 1 + OLD_ID_HEX]

    @property
    def trigger(self) -> CronTrigger:
        return trigger(self.cron, self.timezone)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["parts"] = list(self.parts)
        data["options"] = self.options.to_json()
        data.pop("where")
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScheduleSpec:
        try:
            options = PostOptions.from_json(data.get("options"))
        except OptionError as exc:
            raise ScheduleError(str(exc)) from None
        return cls(
            **{
                **data,
                "parts": tuple(data.get("parts", ("summary",))),
                "options": options,
            }
        )

    def describe(self) -> str:
        text = (
            f"{self.post} digest ({', '.join(self.parts)}) to {self.platform}:{self.channel} "
            f"at '{self.cron}' {self.timezone}"
        )
        extra = self.options.describe()
        return f"{text}; {extra}" if extra else text


def slots(cron: CronTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """Fire times in (after, until]."""
    current = cron.get_next_fire_time(None, after + timedelta(seconds=1))
    while current is not None and current <= until:
        yield current
        current = cron.get_next_fire_time(current, current + timedelta(seconds=1))


def slot_key(slot: datetime) -> str:
    return slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_duration(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*", str(text))
    if not match:
        raise ScheduleError(f"duration '{text}' — use a number with s, m, h or d, like 1h")
    value = float(match.group(1))
    unit = match.group(2) or "s"
    return timedelta(seconds=value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])


@dataclass(frozen=True)
class Limits:
    per_second: float = 50.0
    """The timetable's rate: requests spaced evenly at up to Discord's 50/s. What keeps them
    under the limit as they *arrive* is Discord's HTTP guard (``pacing.Window``), which holds
    back a request that would make 51 in a second however the ones before it were delayed."""
    channel_count: int = 5
    channel_period: float = 5.0
    """Per-channel bucket: Discord allows 5 messages per 5 s in a channel."""


State = Literal["pending", "sent", "failed", "skipped"]


@dataclass(frozen=True)
class Delivery:
    platform: str
    channel: str
    digest_id: str
    slot: str
    schedule_id: str
    state: State
    attempts: int = 0
    message_id: str | None = None
    error: str | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.platform, self.channel, self.digest_id, self.slot)

    @property
    def nonce(self) -> str:
        """Deterministic per delivery: a re-sent create after a lost answer is recognised."""
        digest = hashlib.sha256("|".join(self.key).encode()).hexdigest()
        return digest[:25]  # Discord nonces are at most 25 characters


@dataclass(frozen=True)
class Status:
    """One schedule as ``/schedule list`` shows it."""

    spec: ScheduleSpec
    next_run: datetime | None = None
    last: Delivery | None = None
    flagged: str | None = None
    """Why its channel cannot be posted to (persisted: it survives restarts)."""
