"""Discord's global limit held at the HTTP layer (``bot.platforms.discord.ratelimit``): every
request the client makes counts from its send until a period after its answer, so requests that
bunch on the way still arrive under the limit. Through discord.py against the fake Discord,
which answers a 51st request within a second with a global 429."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest
from yarl import URL

from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.platforms.discord.client import DiscordAdapter
from bot.platforms.discord.ratelimit import counted
from tests.fakes.discord_server import FakeDiscord, serve_client

CHANNELS = tuple(f"c{i}" for i in range(70))


async def burst(fake: FakeDiscord, client: discord.Client) -> None:
    """One message in each of 70 channels, all at once (more than the 50 a second allows)."""
    async with serve_client(fake, client):
        targets = [client.get_partial_messageable(c.id) for c in fake.channels]
        await asyncio.gather(*(t.send("digest") for t in targets))
    assert all(len(fake.messages_in(c.id)) == 1 for c in fake.channels)


@pytest.mark.fake_discord(channels=CHANNELS)
async def test_the_adapters_client_sends_a_burst_without_a_429(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    adapter = DiscordAdapter(Commands(Library(tmp_path)), fake.token)
    await burst(fake, adapter.client)
    assert fake.count_429 == 0
    sent = sorted(r.at for r in fake.requests_to("POST /channels/{channel_id}/messages"))
    assert sent[-1] - sent[0] >= 1.0  # 70 requests: the last 20 waited for the second to pass


@pytest.mark.fake_discord(channels=CHANNELS)
async def test_the_same_burst_without_the_guard_meets_429s(fake: FakeDiscord) -> None:
    """The control: a plain discord.py client runs into the global limit (and retries)."""
    await burst(fake, discord.Client(intents=discord.Intents.none()))
    assert fake.count_429 > 0


def test_interaction_answers_and_other_hosts_are_not_held(fake: FakeDiscord) -> None:
    base = str(discord.http.Route.BASE)
    assert counted(URL(f"{base}/channels/1/messages"))
    assert counted(URL(f"{base}/users/@me"))
    assert not counted(URL(f"{base}/interactions/1/tok/callback"))
    assert not counted(URL(f"{base}/webhooks/1/tok"))
    assert not counted(URL("ws://127.0.0.1:1/gateway"))
