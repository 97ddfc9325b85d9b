"""config.yaml → a typed, frozen ``Config`` (a section per platform). Secrets never live here:
only in the environment.

Paths in the file are relative to the file itself, so the bot behaves the same whatever the
working directory. A bad file is one ``ConfigError`` line naming the key, never a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.digest.yamlsafe import YamlProblem, parse
from bot.schedules.budget import BudgetLimits
from bot.schedules.filters import FilterError, Only
from bot.schedules.options import PostOptions
from bot.schedules.spec import Limits, ScheduleError, ScheduleSpec, check_channel, parse_duration

DEFAULT_PATH = Path("config.yaml")
SECRET_WORDS = ("token", "password", "secret")
MAX_CONFIG_BYTES = 256 * 1024


class ConfigError(Exception):
    """One line: which file, which key, what is wrong."""


class _Only(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    tags: list[str] = []
    words: list[str] = []


class _Schedule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    platform: Literal["discord", "matrix", "console"]
    channel: str
    cron: str
    timezone: str = "UTC"
    post: Literal["latest", "new"] = "latest"
    parts: list[Literal["summary", "figures", "places", "map"]] = ["summary"]
    only: _Only | None = None
    publish: bool = True
    thread: bool = False
    tags: list[str] = []
    mention: str | None = None


class _Notify(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    discord: str | None = None
    matrix: str | None = None
    console: str | None = None


class _Publish(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    per_channel: int = Field(default=10, ge=0, le=10)
    period: str | int = "1h"


class _Pacing(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    per_second: float = Field(default=50.0, gt=0, le=50)
    channel_count: int = Field(default=5, ge=1)
    channel_period: float = Field(default=5.0, gt=0)


class _Matrix(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    allowed_rooms: list[str] = []
    msgtype: Literal["m.notice", "m.text"] = "m.notice"
    encryption: bool = False
    store: str = "matrix-store"


class DeskConfig(BaseModel):
    """The editors' web desk (``python -m bot desk``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    secure_cookie: bool = False


class _Feed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    url: str
    publisher: str = Field(min_length=1)
    every: str | int = "15m"


class _Review(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    discord_channel: str | None = None
    discord_role: str | None = None
    matrix_room: str | None = None
    expire: str | int = "7d"


class _File(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    digests: str = "digests"
    reload_seconds: float = Field(default=2.0, ge=0)
    cache: str = ".cache"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    database: str = "state.sqlite3"
    catch_up: str | int = "1h"
    schedules: list[_Schedule] = []
    discord_pacing: _Pacing = _Pacing()
    discord_publish: _Publish = _Publish()
    notify: _Notify = _Notify()
    matrix: _Matrix = _Matrix()
    desk: DeskConfig | None = None
    feeds: list[_Feed] = []
    review: _Review = _Review()


@dataclass(frozen=True)
class Feed:
    url: str
    publisher: str
    every: timedelta


@dataclass(frozen=True)
class Review:
    discord_channel: str | None = None
    matrix_room: str | None = None
    expire: timedelta = timedelta(days=7)
    """Unreviewed drafts expire after this (never auto-approved)."""
    discord_role: str | None = None
    """Members with this role may review besides those with Manage Messages in the channel."""


@dataclass(frozen=True)
class DiscordSection:
    pacing: Limits = field(default_factory=Limits)
    """How fast scheduled posts go out (``discord_pacing``)."""
    publish: BudgetLimits = field(default_factory=BudgetLimits)
    """Publishes per announcement channel (``discord_publish``; Discord allows about 10/h)."""


@dataclass(frozen=True)
class MatrixSection:
    allowed_rooms: tuple[str, ...] = ()
    msgtype: Literal["m.notice", "m.text"] = "m.notice"
    encryption: bool = False
    store: Path = Path("matrix-store")
    """Sync position, device, login and encryption keys: kept across restarts, not a cache."""


@dataclass(frozen=True)
class Config:
    path: Path | None
    """The file this came from (None: built-in defaults, no file)."""
    digests: Path
    reload_seconds: float
    cache: Path
    log_level: str
    database_url: str
    """SQLAlchemy URL: DATABASE_URL when set, else the SQLite file named by ``database``."""
    catch_up: timedelta
    schedules: tuple[ScheduleSpec, ...] = ()
    discord: DiscordSection = field(default_factory=DiscordSection)
    matrix: MatrixSection = field(default_factory=MatrixSection)
    desk: DeskConfig | None = None
    """Set when config.yaml has a ``desk:`` section."""
    notify: Mapping[str, str] = field(default_factory=dict)
    """platform → the admin channel or room that hears when a schedule fails and recovers."""
    feeds: tuple[Feed, ...] = ()
    review: Review = field(default_factory=Review)


@dataclass(frozen=True)
class Secrets:
    """Tokens, read from the environment only; ``repr`` never shows them."""

    discord_token: str | None = None
    matrix_access_token: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Secrets:
        env = dict(os.environ) if env is None else env
        return cls(
            discord_token=env.get("DISCORD_TOKEN") or None,
            matrix_access_token=env.get("MATRIX_ACCESS_TOKEN") or None,
        )

    def __repr__(self) -> str:
        shown = {k: "set" if v else "unset" for k, v in vars(self).items()}
        return f"Secrets({shown})"


def config_path(given: str | None, env: dict[str, str] | None = None) -> tuple[Path, bool]:
    """The config file to read and whether the user named it (then it must exist)."""
    env = dict(os.environ) if env is None else env
    if given:
        return Path(given), True
    if env.get("BOT_CONFIG"):
        return Path(env["BOT_CONFIG"]), True
    return DEFAULT_PATH, False


def load_config(path: Path, *, required: bool = True, env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ) if env is None else env
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: no such config file")
        return _resolve(None, Path.cwd(), _File(), env, _no_lines)
    try:
        parsed = parse(_read(path))
    except YamlProblem as exc:
        raise ConfigError(f"{path}:{exc.line}: {exc.message}") from None
    data = {} if parsed.data is None else parsed.data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config is a mapping of key: value")
    for key in data:
        if any(word in key.lower() for word in SECRET_WORDS):
            line = parsed.line_of((key,))
            raise ConfigError(
                f"{path}:{line}: {key}: secrets are read from the environment "
                "(DISCORD_TOKEN, MATRIX_ACCESS_TOKEN), never from config.yaml"
            )
    try:
        model = _File.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = tuple(error["loc"])
        message = str(error["msg"])
        if error["type"] == "extra_forbidden":
            section = _model_at(where)
            keys = ", ".join(section.model_fields) if section else ""
            inside = f" in {_dotted(where[:-1])}" if len(where) > 1 else ""
            message = f"unknown key{inside} (known keys: {keys})"
        raise ConfigError(f"{path}:{parsed.line_of(where)}: {_dotted(where)}: {message}") from None
    return _resolve(path, path.parent, model, env, parsed.line_of)


def _model_at(where: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The section (model) that holds the key at ``where``: a typo inside ``matrix:`` lists
    matrix's keys, not the top level's."""
    model: type[BaseModel] | None = _File
    for part in where[:-1]:
        if isinstance(part, int) or model is None:
            continue  # a list's item: the list's model is already in hand
        field = model.model_fields.get(part)
        if field is None:
            return None
        found = [field.annotation, *get_args(field.annotation)]
        model = next((m for m in found if isinstance(m, type) and issubclass(m, BaseModel)), None)
    return model


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path}:1: config file is {size:,} bytes; the limit is {MAX_CONFIG_BYTES:,}"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}:1: cannot read config file: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: config file is not UTF-8 (byte {exc.start})") from None


def _dotted(where: tuple[str | int, ...]) -> str:
    """('schedules', 0, 'cron') → 'schedules[0].cron', as the digest loader names fields."""
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _no_lines(_path: tuple[str | int, ...]) -> int:
    return 1


def _resolve(
    path: Path | None,
    base: Path,
    model: _File,
    env: dict[str, str],
    line_of: Callable[[tuple[str | int, ...]], int],
) -> Config:
    shown = path or Path("config.yaml")
    try:
        catch_up = parse_duration(str(model.catch_up))
    except ScheduleError as exc:
        raise ConfigError(f"{shown}:{line_of(('catch_up',))}: catch_up: {exc}") from None
    specs: list[ScheduleSpec] = []
    for index, item in enumerate(model.schedules):
        try:
            at = line_of(("schedules", index))
            only = item.only or _Only()
            options = PostOptions(
                only=Only(tuple(only.tags), tuple(only.words)),
                publish=item.publish,
                thread=item.thread,
                tags=tuple(item.tags),
                mention=item.mention,
            )
            specs.append(
                ScheduleSpec(
                    platform=item.platform,
                    channel=item.channel,
                    cron=item.cron,
                    timezone=item.timezone,
                    post=item.post,
                    parts=tuple(item.parts),
                    options=options,
                    where=f"{shown}:{at}: schedules[{index}]",
                )
            )
        except (ScheduleError, FilterError) as exc:
            raise ConfigError(f"{shown}:{at}: schedules[{index}]: {exc}") from None
    feeds: list[Feed] = []
    for index, feed in enumerate(model.feeds):
        if not re.fullmatch(r"https?://[^\s/]+\S*", feed.url):
            at = line_of(("feeds", index, "url"))
            message = f"{feed.url!r} must be an http(s) URL"
            raise ConfigError(f"{shown}:{at}: feeds[{index}].url: {message}")
        at = line_of(("feeds", index, "every"))
        try:
            every = parse_duration(str(feed.every))
        except ScheduleError as exc:
            raise ConfigError(f"{shown}:{at}: feeds[{index}].every: {exc}") from None
        if every < timedelta(minutes=5):
            message = "poll at most every 5m (publishers' servers are not ours to hammer)"
            raise ConfigError(f"{shown}:{at}: feeds[{index}].every: {message}")
        feeds.append(Feed(feed.url, feed.publisher.strip(), every))
    try:
        expire = parse_duration(str(model.review.expire))
    except ScheduleError as exc:
        raise ConfigError(
            f"{shown}:{line_of(('review', 'expire'))}: review.expire: {exc}"
        ) from None
    review = Review(
        model.review.discord_channel, model.review.matrix_room, expire, model.review.discord_role
    )
    url = env.get("DATABASE_URL") or f"sqlite:///{(base / model.database).resolve()}"
    pacing = model.discord_pacing
    notify = {k: v for k, v in model.notify.model_dump().items() if v}
    for platform, channel in notify.items():
        try:
            check_channel(platform, channel)
        except ScheduleError as exc:
            at = line_of(("notify", platform))
            raise ConfigError(f"{shown}:{at}: notify.{platform}: {exc}") from None
    try:
        period = parse_duration(str(model.discord_publish.period)).total_seconds()
    except ScheduleError as exc:
        at = line_of(("discord_publish", "period"))
        raise ConfigError(f"{shown}:{at}: discord_publish.period: {exc}") from None
    return Config(
        path=path,
        digests=(base / model.digests).resolve(),
        reload_seconds=model.reload_seconds,
        cache=(base / model.cache).resolve(),
        log_level=model.log_level,
        database_url=url,
        catch_up=catch_up,
        schedules=tuple(specs),
        discord=DiscordSection(
            Limits(pacing.per_second, pacing.channel_count, pacing.channel_period),
            BudgetLimits(model.discord_publish.per_channel, period),
        ),
        matrix=MatrixSection(
            allowed_rooms=tuple(model.matrix.allowed_rooms),
            msgtype=model.matrix.msgtype,
            encryption=model.matrix.encryption,
            store=(base / model.matrix.store).resolve(),
        ),
        desk=model.desk,
        notify=notify,
        feeds=tuple(feeds),
        review=review,
    )
