"""Fakes of the outside services the bot talks to, for tests and benchmarks.

``discord_server.FakeDiscord`` is a Discord REST API and gateway on 127.0.0.1 that the real,
unmodified discord.py client connects to (only ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` are pointed at it).
"""
