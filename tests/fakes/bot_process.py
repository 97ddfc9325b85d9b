"""``python -m tests.fakes.bot_process BASE GATEWAY ARGS…``: the real ``python -m bot`` pointed
at a fake Discord — the only two attributes the Discord tests change — for process-level tests
(a SIGKILL mid-fan-out and a restart). ``run_shards`` starts one such process per shard,
``stop_all`` ends them; ``slot_due_now`` writes the config and marks of a slot due at start."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import discord
import yarl

from bot.__main__ import main
from bot.schedules.spec import ScheduleSpec
from bot.schedules.store import Store


async def run_shards(
    base_url: str,
    gateway_url: str,
    config: Path,
    count: int,
    *,
    env: Mapping[str, str],
    cwd: Path,
    logs: Sequence[IO[Any]],
) -> list[asyncio.subprocess.Process]:
    """``digest-bot run --shard-count COUNT --shard-ids I`` for each shard I, each writing its
    stderr to ``logs[I]`` (the children hold their own copies of the files)."""
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fakes.bot_process",
            base_url,
            gateway_url,
            "run",
            "--config",
            str(config),
            "--shard-count",
            str(count),
            "--shard-ids",
            str(index),
            env=dict(env),
            cwd=cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=logs[index],
        )
        for index in range(count)
    ]


async def stop_all(procs: Sequence[asyncio.subprocess.Process]) -> None:
    """SIGTERM each process still running, then wait for all of them."""
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
    for proc in procs:
        await proc.wait()


def slot_due_now(url: str, library: Path, channels: Sequence[int], folder: Path) -> Path:
    """A config.yaml with one schedule per Discord channel at this minute's slot, whose marks
    say it is due: every process's start-up catches the slot up. Paced at 6/s, so a fan-out
    lasts long enough to be interrupted. Returns the config's path."""
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    cron = f"{slot.minute} {slot.hour} * * *"
    specs = [ScheduleSpec("discord", str(channel), cron, "UTC") for channel in channels]
    store = Store(url)
    try:
        store.set_last_slots([s.id for s in specs], (slot - timedelta(seconds=1)).isoformat())
    finally:
        store.close()
    lines = [
        f"digests: {library}",
        "reload_seconds: 0",
        "discord_pacing: {per_second: 6}",
        "schedules:",
        *(f"  - {{platform: discord, channel: '{s.channel}', cron: '{cron}'}}" for s in specs),
    ]
    config = folder / "config.yaml"
    config.write_text("\n".join(lines) + "\n", "utf-8")
    return config


if __name__ == "__main__":
    base, gateway, *args = sys.argv[1:]
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    sys.exit(main(args))
