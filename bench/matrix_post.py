"""One post to N Matrix rooms under Synapse's default rc_message (0.2/s, burst 10).

    python -m bench matrix_post [--rooms 20]

Starts its own Synapse on 127.0.0.1 (tests/synapse; installs it into .venv-synapse the first
time), with every rate limit relaxed except rc_message. An admin sets up N rooms and joins the
bot to them through the admin API (so set-up costs the bot none of its message budget); then
the bot posts one Reply (the Kursk /summary) to all N rooms at once through ``MatrixBot.post``.

Prints the wall time against the floor the rate limit allows, 5 x (N - 10) s (the first 10 messages
are the burst; each later one needs 5 s), how many 429s were met and waited out, and, read back
from the server, how many rooms got nothing (lost) or more than one message (duplicates).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from bot.commands.base import parse
from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.platforms.matrix.bot import MatrixBot
from bot.platforms.matrix.settings import MatrixSettings
from tests.synapse.harness import MatrixUser, Synapse, ensure_synapse, start_synapse

ROOT = Path(__file__).resolve().parents[1]
PER_SECOND = 0.2
BURST = 10


def floor_seconds(rooms: int) -> float:
    return max(0, rooms - BURST) / PER_SECOND


async def run(server: Synapse, rooms: int, store: Path) -> None:
    account = server.register("digestbot")
    admin = MatrixUser(server, server.admin)
    room_ids = [await admin.create_room(name=f"bench {i}") for i in range(rooms)]
    for room in room_ids:
        server.force_join(room, account.user_id)
    library = Library(ROOT / "digests")
    library.refresh()
    reply = Commands(library).answer_now(parse("/summary"))
    assert reply.error is None, reply.error
    settings = MatrixSettings(
        homeserver=server.base_url,
        user_id=account.user_id,
        access_token=account.access_token,
        password=None,
        store_dir=store,
    )
    bot = MatrixBot(Commands(library), settings)
    await bot.start()
    try:
        start = time.perf_counter()
        results = await asyncio.gather(
            *(bot.post(room, reply) for room in room_ids), return_exceptions=True
        )
        wall = time.perf_counter() - start
    finally:
        await bot.close()
    errors = [r for r in results if isinstance(r, BaseException)]
    counts = [len(await admin.from_user(room, account.user_id)) for room in room_ids]
    await admin.close()
    lost = sum(1 for c in counts if c == 0)
    duplicates = sum(c - 1 for c in counts if c > 1)
    floor = floor_seconds(rooms)
    ratio = f"{wall / floor:.2f}" if floor else "n/a"
    print(f"rooms:           {rooms}")
    print(f"wall time:       {wall:.2f} s")
    print(f"floor:           {floor:.2f} s  (5 s x (N - 10), Synapse's default rc_message)")
    print(f"ratio:           {ratio}")
    print(f"429s waited out: {bot.stats.rate_limited} ({bot.stats.waited:.1f} s of waiting)")
    print(f"lost:            {lost}")
    print(f"duplicates:      {duplicates}")
    if errors:
        print(f"errors:          {len(errors)}: {errors[0]!r}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench matrix_post")
    parser.add_argument("--rooms", type=int, default=20, help="rooms to post to (default 20)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each 429")
    args = parser.parse_args(argv)
    if args.rooms < 1:
        parser.error("--rooms must be at least 1")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    ensure_synapse(log=print)
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as tmp:
        server = start_synapse(Path(tmp) / "synapse", rate_limited=True)
        print(f"synapse started in {server.started_in:.2f} s on {server.base_url}")
        try:
            asyncio.run(run(server, args.rooms, Path(tmp) / "store"))
        finally:
            server.stop()
