"""``python -m tests.fakes.bot_process BASE GATEWAY ARGS…``: the real ``python -m bot`` pointed
at a fake Discord — the only two attributes the Discord tests change — for process-level tests
(a SIGKILL mid-fan-out and a restart)."""

from __future__ import annotations

import sys

import discord
import yarl

from bot.__main__ import main

if __name__ == "__main__":
    base, gateway, *args = sys.argv[1:]
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    sys.exit(main(args))
