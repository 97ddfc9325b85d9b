"""config.yaml's schedule options (only, publish, thread, tags, mention), notify: and
discord_publish: typed, and every mistake one FILE:LINE line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.schedules.budget import BudgetLimits
from bot.schedules.filters import Only
from bot.schedules.options import PostOptions

CHANNEL = "1100000000000000200"
ROLE = "1100000000000000300"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, "utf-8")
    return path


def test_the_options_notify_and_the_publish_budget(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            f"""schedules:
  - platform: discord
    channel: "{CHANNEL}"
    cron: "0 8 * * mon-fri"
    only: {{tags: [ukraine], words: [air base]}}
    thread: true
    tags: [ukraine]
    mention: "role:{ROLE}"
notify:
  discord: "{CHANNEL}"
discord_publish: {{per_channel: 4, period: 30m}}
""",
        )
    )
    [spec] = config.schedules
    assert spec.options == PostOptions(
        only=Only(("ukraine",), ("air base",)),
        thread=True,
        tags=("ukraine",),
        mention=f"role:{ROLE}",
    )
    assert spec.where == f"{tmp_path / 'config.yaml'}:2: schedules[0]"
    assert config.notify == {"discord": CHANNEL}
    assert config.discord.publish == BudgetLimits(4, 1800.0)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            f'schedules:\n  - {{platform: discord, channel: "{CHANNEL}", cron: "0 8 * * *",'
            ' mention: "@everyone"}\n',
            ":2: schedules[0]: mention: '@everyone' — use role:ID",
        ),
        (
            'schedules:\n  - {platform: matrix, channel: "!r:x", cron: "0 8 * * *", tags: [a]}\n',
            ":2: schedules[0]: tags: are Discord forum tags",
        ),
        (
            f'schedules:\n  - {{platform: discord, channel: "{CHANNEL}", cron: "0 8 * * *",'
            " only: {tags: [Ukraine]}}\n",
            ":2: schedules[0]: only.tags: 'Ukraine' is not a tag",
        ),
        (
            f'schedules:\n  - {{platform: discord, channel: "{CHANNEL}", cron: "0 8 * * *",'
            " only: {tag: [x]}}\n",
            "schedules[0].only.tag: unknown key in schedules[0].only (known keys: tags, words)",
        ),
        ('notify:\n  discord: "#admins"\n', ":2: notify.discord: channel '#admins' is not"),
        ("discord_publish: {per_channel: 11}\n", "discord_publish.per_channel"),
        ("discord_publish: {period: soon}\n", "discord_publish.period: duration 'soon'"),
    ],
)
def test_mistakes_name_the_line_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert fragment in str(caught.value), str(caught.value)
    assert "\n" not in str(caught.value)
