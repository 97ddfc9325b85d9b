"""Interaction round trip through the real discord.py client and the fake Discord.

    .venv/bin/python -m bench discord_roundtrip [--count 1000] [--warmup 50]

For each interaction: the fake sends INTERACTION_CREATE on the gateway, the bot parses it, runs
the command (answers + rendering) and POSTs its callback; the time from the dispatch to the
fake receiving that callback is the round trip. Commands cycle through /summary, /figures,
/where, /sources, /digests and /help on the repository's digests. Everything runs on
127.0.0.1 in one process (the fake shares the event loop, so its time is included).
``--maps`` attaches the /where map PNGs (drawn during warm-up, then cached).
Target: p99 ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.app import App, DiscordRun, sync_discord
from bot.commands.base import MapSource
from bot.digest.library import Library
from bot.maps import MapMaker
from tests.fakes.discord_server import RateLimits, running_fake
from tests.fakes.netguard import loopback_only
from tests.helpers import config_for

ROOT = Path(__file__).resolve().parents[1]
TARGET_P99_MS = 30.0
COMMANDS: list[tuple[str, dict[str, str | int | bool]]] = [
    ("summary", {"points": 3}),
    ("figures", {"query": "soldiers"}),
    ("where", {"place": "Korenevo"}),
    ("summary", {"quotes": True}),
    ("digests", {}),
    ("help", {"command": "where"}),
    ("figures", {}),
    ("where", {}),
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


async def measure(
    count: int, warmup: int, digests: Path, maps: MapSource | None, state: Path
) -> list[float]:
    library = Library(digests)
    library.refresh()
    if not library.all():
        raise SystemExit(f"no digests in {digests}")
    # The fake's rate limits stay on; interaction callbacks are exempt, as on Discord.
    async with running_fake(rate_limits=RateLimits()) as fake:
        await sync_discord(library, fake.token, fake.guild_id)
        run = DiscordRun(fake.token, {"guild_id": fake.guild_id, "guild_ready_timeout": 0.05})
        config = config_for(digests, state)
        async with App(config, library, discord=run, maps=maps, use_maps=False) as app:
            await app.discord.ready()
            latencies: list[float] = []
            for n in range(warmup + count):
                command, options = COMMANDS[n % len(COMMANDS)]
                record = await fake.interact(command, options)
                if record.latency is None or record.rejected:
                    raise SystemExit(f"/{command} was not answered cleanly: {record.rejected}")
                if n >= warmup:
                    latencies.append(record.latency * 1000)
        if fake.unhandled or fake.count_429:
            raise SystemExit(f"unexpected: {fake.unhandled=} {fake.count_429=}")
    return latencies


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench discord_roundtrip")
    parser.add_argument("--count", type=int, default=1000, help="measured interactions")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured interactions first")
    parser.add_argument("--digests", type=Path, default=ROOT / "digests")
    parser.add_argument(
        "--maps",
        action="store_true",
        help="attach /where maps (drawn once during warm-up, then cached in a temporary folder)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache, loopback_only():
        maps = MapMaker(Path(cache)) if args.maps else None
        latencies = asyncio.run(measure(args.count, args.warmup, args.digests, maps, Path(cache)))
    elapsed = time.perf_counter() - started
    p50, p90, p99 = (percentile(latencies, f) for f in (0.50, 0.90, 0.99))
    what = "with /where maps" if args.maps else "without maps"
    print(f"discord round trip (dispatch → callback), {len(latencies)} interactions, {what}")
    print(f"  p50  {p50:7.2f} ms")
    print(f"  p90  {p90:7.2f} ms")
    print(f"  p99  {p99:7.2f} ms   (target ≤ {TARGET_P99_MS:.0f} ms: ", end="")
    print("met)" if p99 <= TARGET_P99_MS else "MISSED)")
    print(f"  mean {statistics.fmean(latencies):7.2f} ms   max {max(latencies):7.2f} ms")
    print(f"  total {elapsed:.1f} s including start-up, python {sys.version.split()[0]}")
