"""config.yaml → Config, in process: defaults, paths relative to the file, every section, and
one ``FILE:LINE: key: problem`` line for each kind of mistake (the CLI tests show it on stderr)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import DEFAULT_PATH, ConfigError, Secrets, config_path, load_config
from bot.schedules.spec import Limits, ScheduleSpec

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "conf" / "bot.yaml"
    path.parent.mkdir(exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    return path


def test_no_file_gives_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(tmp_path / "absent.yaml", required=False, env={})
    assert config.path is None
    assert config.digests == tmp_path / "digests"
    assert config.reload_seconds == 2.0
    assert config.catch_up == timedelta(hours=1)
    assert config.database_url == f"sqlite:///{tmp_path / 'state.sqlite3'}"
    assert config.schedules == ()
    assert config.discord.pacing == Limits()


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.yaml", env={})


def test_the_repository_config_loads(tmp_path: Path) -> None:
    config = load_config(ROOT / "config.yaml", env={})
    assert config.digests.relative_to(ROOT) == Path("digests")


def test_every_section_and_paths_relative_to_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "digests: ../news\n"
        "cache: cache\n"
        "catch_up: 30m\n"
        "database: db/state.sqlite3\n"
        "discord_pacing: {per_second: 20, channel_count: 3, channel_period: 2}\n"
        "matrix: {allowed_rooms: [':example.org'], msgtype: m.text, store: keys}\n"
        "schedules:\n"
        "  - {platform: console, channel: news, cron: '0 8 * * mon-fri',"
        " timezone: Europe/Kyiv, parts: [summary, places, map]}\n",
    )
    config = load_config(path, env={})
    base = path.parent
    assert config.digests == (base / "../news").resolve()
    assert config.cache == base / "cache"
    assert config.catch_up == timedelta(minutes=30)
    assert config.database_url == f"sqlite:///{base / 'db' / 'state.sqlite3'}"
    assert config.discord.pacing == Limits(20.0, 3, 2.0)
    assert config.matrix.allowed_rooms == (":example.org",)
    assert config.matrix.msgtype == "m.text"
    assert config.matrix.store == base / "keys"
    assert config.schedules == (
        ScheduleSpec(
            "console", "news", "0 8 * * mon-fri", "Europe/Kyiv", parts=("summary", "places", "map")
        ),
    )


def test_database_url_from_the_environment_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "database: x.sqlite3\n")
    url = "postgresql+psycopg://bot@localhost/digests"
    assert load_config(path, env={"DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("reload_seconds: 1\nlog_level: LOUD\n", ":2: log_level:"),
        ("matrix:\n  rooms: []\n", ":2: matrix.rooms: unknown key"),
        ("schedules:\n  - {platform: console, channel: news, cron: '* * *'}\n", ":2: schedules[0]"),
        (
            "schedules:\n  - {platform: console, channel: news, cron: '0 8 * * mon',"
            " parts: [map]}\n",
            "part 'map' goes with summary, figures or places",
        ),
        ("catch_up: 1 week\n", ":1: catch_up: duration '1 week'"),
        ("- a list\n", ":1: the config is a mapping"),
        ("matrix_password: x\n", ":1: matrix_password: secrets are read from the environment"),
    ],
)
def test_mistakes_are_one_line_naming_file_line_and_key(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert problem in message
    assert "\n" not in message


def test_a_file_that_is_not_utf8_or_too_big_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":2: config file is not UTF-8 \(byte 16\)"):
        load_config(write(tmp_path, b"log_level: INFO\n\xff\n"), env={})
    with pytest.raises(ConfigError, match="the limit is 262,144"):
        load_config(write(tmp_path, "#" * 300_000), env={})


def test_config_path_prefers_the_option_then_the_environment() -> None:
    assert config_path("a.yaml", {"BOT_CONFIG": "b.yaml"}) == (Path("a.yaml"), True)
    assert config_path(None, {"BOT_CONFIG": "b.yaml"}) == (Path("b.yaml"), True)
    assert config_path(None, {}) == (DEFAULT_PATH, False)


def test_secrets_come_from_the_environment_and_never_print() -> None:
    secrets = Secrets.from_env({"DISCORD_TOKEN": "abc.def", "MATRIX_ACCESS_TOKEN": ""})
    assert secrets.discord_token == "abc.def"
    assert secrets.matrix_access_token is None
    assert "abc" not in repr(secrets)
    assert "set" in repr(secrets)


def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    return str(caught.value).split(": ", 1)[1]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "matrix:\n  allowed_room: []\n",
            "matrix.allowed_room: unknown key in matrix "
            "(known keys: allowed_rooms, msgtype, encryption, store)",
        ),
        (
            "discord_pacing:\n  per_sec: 3\n",
            "discord_pacing.per_sec: unknown key in discord_pacing "
            "(known keys: per_second, channel_count, channel_period)",
        ),
        (
            "schedules:\n  - {platform: console, channel: news, cron: '0 8 * * mon', tz: UTC}\n",
            "schedules[0].tz: unknown key in schedules[0] "
            "(known keys: platform, channel, cron, timezone, post, parts, only, publish, thread, "
            "tags, mention)",
        ),
        ("digest: x\n", "digest: unknown key (known keys: digests, reload_seconds, "),
    ],
)
def test_a_typo_lists_the_keys_of_its_own_section(tmp_path: Path, text: str, said: str) -> None:
    assert config_error(tmp_path, text).startswith(said)


@pytest.mark.parametrize(
    ("cron", "said"),
    [
        ("0 25 * * mon", "the hour field '25' is not valid — hour is 0-23"),
        ("61 8 * * mon", "the minute field '61' is not valid — minute is 0-59"),
        ("0 8 32 * mon", "the day-of-month field '32' is not valid — day-of-month is 1-31"),
        ("0 8 * 13 mon", "the month field '13' is not valid — month is 1-12 or jan-dec"),
        ("0 8 * * moon", "the weekday field 'moon' is not valid — weekday is mon-sun by name"),
    ],
)
def test_a_bad_cron_field_says_which_its_range_and_an_example(
    tmp_path: Path, cron: str, said: str
) -> None:
    text = f"schedules:\n  - {{platform: console, channel: news, cron: '{cron}'}}\n"
    message = config_error(tmp_path, text)
    assert message.startswith(f"schedules[0]: cron '{cron}': {said}"), message
    assert "e.g. " in message
    assert "Error validating" not in message
