"""The feeds: and review: sections of config.yaml."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, Feed, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_documents_both_sections_with_defaults() -> None:
    config = load_config(ROOT / "config.yaml", env={})
    assert config.feeds == ()
    assert config.review.expire == timedelta(days=7)
    assert config.review.discord_channel is None
    assert config.review.matrix_room is None


def test_feeds_and_review_are_read(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "feeds:\n"
        "  - url: https://example.org/world/rss.xml\n"
        "    publisher: The Example Times\n"
        "    every: 15m\n"
        "review:\n"
        '  discord_channel: "1100000000000000300"\n'
        '  matrix_room: "!newsdesk:example.org"\n'
        "  expire: 2d\n",
        encoding="utf-8",
    )
    config = load_config(path, env={})
    assert config.feeds == (
        Feed("https://example.org/world/rss.xml", "The Example Times", timedelta(minutes=15)),
    )
    assert config.review.discord_channel == "1100000000000000300"
    assert config.review.expire == timedelta(days=2)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "feeds:\n  - url: https://e.org/rss\n    publisher: P\n    every: 1m\n",
            "config.yaml:4: feeds[0].every: poll at most every 5m",
        ),
        (
            "feeds:\n  - url: ftp://e.org/rss\n    publisher: P\n",
            "config.yaml:2: feeds[0].url: 'ftp://e.org/rss' must be an http(s) URL",
        ),
        ("feeds:\n  - url: https://e.org/rss\n", "feeds[0].publisher: Field required"),
        ("review:\n  expire: soon\n", "config.yaml:2: review.expire: duration 'soon'"),
        ("review:\n  room: x\n", "config.yaml:2: review.room: unknown key"),
    ],
)
def test_bad_sections_are_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)
