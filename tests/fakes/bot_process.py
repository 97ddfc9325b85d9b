"""``python -m tests.fakes.bot_process BASE GATEWAY ARGS…``: the real ``python -m bot`` pointed
at a fake Discord — the only two attributes the Discord tests change — for process-level tests
(a SIGKILL mid-fan-out and a restart). ``run_shards`` starts one such process per shard."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import discord
import yarl

from bot.__main__ import main


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


if __name__ == "__main__":
    base, gateway, *args = sys.argv[1:]
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    sys.exit(main(args))
