"""The fake Discord itself: what it serves and what it refuses, checked with raw HTTP/WebSocket
clients and with the real discord.py client. If the fake were lenient, the bot's end-to-end
tests would prove nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakes.discord_limits import DiscordError
from tests.fakes.discord_server import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    FakeDiscord,
    RateLimits,
    running_fake,
    serve_client,
)
from tests.fakes.netguard import NonLoopbackConnection, is_loopback, loopback_only

pytestmark = pytest.mark.usefixtures("no_network")


class Rest:
    def __init__(self, fake: FakeDiscord, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session

    async def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        query: dict[str, str] | None = None,
    ) -> tuple[int, Any, Any]:
        headers = {"Authorization": f"Bot {token or self.fake.token}"}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = content_type
        async with self.session.request(
            method, self.fake.base_url + path, data=data, headers=headers, params=query
        ) as response:
            text = await response.text()
            parsed = json.loads(text) if text else None
            return response.status, parsed, response.headers


@pytest.fixture
async def rest(fake: FakeDiscord) -> AsyncIterator[Rest]:
    async with aiohttp.ClientSession() as session:
        yield Rest(fake, session)


@asynccontextmanager
async def raw_gateway(
    fake: FakeDiscord, *, token: str | None = None, query: str = "?v=10&encoding=json"
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.gateway_url + query) as ws,
    ):
        hello = await receive(ws)
        assert hello["op"] == 10
        assert hello["d"]["heartbeat_interval"] > 0
        if token != "":
            await ws.send_str(json.dumps({"op": 2, "d": {"token": token or fake.token}}))
        yield ws


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    result: dict[str, Any] = json.loads(message.data)
    return result


async def until_event(ws: aiohttp.ClientWebSocketResponse, event: str) -> dict[str, Any]:
    while True:
        frame = await receive(ws)
        if frame.get("t") == event:
            return frame


def channel(fake: FakeDiscord) -> int:
    return fake.channels[0].id


# -- plumbing -----------------------------------------------------------------------------------


async def test_json_responses_are_exactly_application_json(rest: Rest) -> None:
    status, body, headers = await rest("GET", "/users/@me")
    assert status == 200
    assert body["bot"] is True
    assert headers["Content-Type"] == "application/json"  # discord.py compares it literally


async def test_rest_needs_the_bot_token(rest: Rest) -> None:
    status, body, _ = await rest("GET", "/users/@me", token="wrong")
    assert (status, body) == (401, {"message": "401: Unauthorized", "code": 0})


async def test_unknown_routes_are_recorded(fake: FakeDiscord, rest: Rest) -> None:
    status, body, _ = await rest("GET", "/users/@me/guilds/1/member")
    assert (status, body["code"]) == (404, 0)
    assert [r.path for r in fake.unhandled] == ["/users/@me/guilds/1/member"]
    fake.unhandled.clear()  # seen and asserted: the fixture's own check is for the other tests


async def test_a_body_that_is_not_declared_json_is_refused(fake: FakeDiscord, rest: Rest) -> None:
    status, body, _ = await rest(
        "POST",
        f"/channels/{channel(fake)}/messages",
        raw=b'{"content": "hi"}',
        content_type="text/plain",
    )
    assert (status, body["code"]) == (400, 50109)


def test_the_network_guard_refuses_anything_but_loopback() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("discord.com")
    assert not is_loopback("10.0.0.1")
    with loopback_only() as refused:
        import socket

        with pytest.raises(NonLoopbackConnection):
            socket.getaddrinfo("discord.com", 443)
    assert refused == ["discord.com"]


# -- message limits -----------------------------------------------------------------------------


def embed(**fields: Any) -> dict[str, Any]:
    return {"title": "t", "description": "d"} | fields


TOO_BIG: list[tuple[str, dict[str, Any], list[str]]] = [
    ("content", {"content": "x" * 2001}, ["content"]),
    ("11 embeds", {"embeds": [embed() for _ in range(11)]}, ["embeds"]),
    ("title", {"embeds": [embed(title="x" * 257)]}, ["embeds", "0", "title"]),
    ("description", {"embeds": [embed(description="x" * 4097)]}, ["embeds", "0", "description"]),
    (
        "26 fields",
        {"embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]},
        ["embeds", "0", "fields"],
    ),
    (
        "field value",
        {"embeds": [embed(fields=[{"name": "n", "value": "x" * 1025}])]},
        ["embeds", "0", "fields", "0", "value"],
    ),
    (
        "field name",
        {"embeds": [embed(fields=[{"name": "x" * 257, "value": "v"}])]},
        ["embeds", "0", "fields", "0", "name"],
    ),
    (
        "footer",
        {"embeds": [embed(footer={"text": "x" * 2049})]},
        ["embeds", "0", "footer", "text"],
    ),
    (
        "6000 in total",
        {"embeds": [embed(description="x" * 4000), embed(description="y" * 2000)]},
        ["embeds"],
    ),
    (
        "6 action rows",
        {
            "components": [
                {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": f"b{n}"}]}
                for n in range(6)
            ]
        },
        ["components"],
    ),
    (
        "custom id",
        {
            "components": [
                {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "x" * 101}]}
            ]
        },
        ["components", "0", "components", "0", "custom_id"],
    ),
    (
        "allowed mentions",
        {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
        ["allowed_mentions"],
    ),
]


@pytest.mark.parametrize(("case", "payload", "path"), TOO_BIG, ids=[c[0] for c in TOO_BIG])
async def test_messages_over_discords_limits_are_refused(
    fake: FakeDiscord, rest: Rest, case: str, payload: dict[str, Any], path: list[str]
) -> None:
    status, body, _ = await rest("POST", f"/channels/{channel(fake)}/messages", payload)
    assert status == 400
    assert body["code"] == 50035
    assert body["message"] == "Invalid Form Body"
    node = body["errors"]
    for key in path:
        node = node[key]
    assert node["_errors"][0]["code"]
    assert fake.messages_in(channel(fake)) == []


async def test_messages_exactly_at_the_limits_are_accepted(fake: FakeDiscord, rest: Rest) -> None:
    biggest = {
        "content": "x" * 2000,
        "embeds": [
            {
                "title": "t" * 256,
                "description": "d" * 4096,
                "fields": [{"name": "n", "value": "v" * 1024}] * 1,
                "footer": {"text": "f" * 622},
            }
        ],
    }
    assert sum((256, 4096, 1, 1024, 622)) == 5999
    status, body, _ = await rest("POST", f"/channels/{channel(fake)}/messages", biggest)
    assert status == 200, body
    assert [m.id for m in fake.messages_in(channel(fake))] == [int(body["id"])]


async def test_an_empty_message_is_refused(fake: FakeDiscord, rest: Rest) -> None:
    status, body, _ = await rest("POST", f"/channels/{channel(fake)}/messages", {"content": ""})
    assert (status, body["code"]) == (400, 50006)


async def test_the_fake_sees_who_a_message_would_ping(fake: FakeDiscord, rest: Rest) -> None:
    staff = fake.role_id("staff")
    text = f"@everyone see <@&{staff}> and <@456>"
    await rest("POST", f"/channels/{channel(fake)}/messages", {"content": text})
    await rest(
        "POST",
        f"/channels/{channel(fake)}/messages",
        {"content": text, "allowed_mentions": {"parse": []}},
    )
    pinging, silent = fake.messages_in(channel(fake))
    assert pinging.pinged == {"everyone": True, "users": [456], "roles": [staff]}
    assert silent.pinged == {"everyone": False, "users": [], "roles": []}


async def test_unknown_channels_and_message_history(fake: FakeDiscord, rest: Rest) -> None:
    status, body, _ = await rest("POST", "/channels/42/messages", {"content": "x"})
    assert (status, body["code"]) == (404, 10003)
    for n in range(3):
        await rest("POST", f"/channels/{channel(fake)}/messages", {"content": f"m{n}"})
    status, body, _ = await rest("GET", f"/channels/{channel(fake)}/messages", query={"limit": "2"})
    assert [m["content"] for m in body] == ["m2", "m1"]


# -- rate limits --------------------------------------------------------------------------------


@pytest.mark.fake_discord(rate_limits=RateLimits(channel_messages=(5, 1.0)))
async def test_the_channel_bucket_and_a_429_in_discords_shape(
    fake: FakeDiscord, rest: Rest
) -> None:
    path = f"/channels/{channel(fake)}/messages"
    remaining = []
    for n in range(5):
        status, _, headers = await rest("POST", path, {"content": f"m{n}"})
        assert status == 200
        assert headers["X-RateLimit-Limit"] == "5"
        remaining.append(headers["X-RateLimit-Remaining"])
        assert float(headers["X-RateLimit-Reset-After"]) <= 1.0
        assert float(headers["X-RateLimit-Reset"]) > time.time()
        bucket = headers["X-RateLimit-Bucket"]
    assert remaining == ["4", "3", "2", "1", "0"]

    status, body, headers = await rest("POST", path, {"content": "one too many"})
    assert status == 429
    assert headers["Content-Type"] == "application/json"
    assert headers["Via"]
    assert headers["X-RateLimit-Scope"] == "user"
    assert headers["X-RateLimit-Bucket"] == bucket
    assert body["global"] is False
    assert 0 < body["retry_after"] <= 1.0
    assert fake.count_429 == 1
    assert fake.rate_limited[0].scope == "user"
    assert len(fake.messages_in(channel(fake))) == 5

    other = f"/channels/{fake.channels[1].id}/messages"
    assert (await rest("POST", other, {"content": "another channel"}))[0] == 200
    await asyncio.sleep(body["retry_after"] + 0.05)
    assert (await rest("POST", path, {"content": "after the reset"}))[0] == 200


@pytest.mark.fake_discord(rate_limits=RateLimits(global_per_second=3))
async def test_the_global_limit(fake: FakeDiscord, rest: Rest) -> None:
    statuses = [(await rest("GET", "/users/@me"))[0] for _ in range(3)]
    status, body, headers = await rest("GET", "/users/@me")
    assert statuses == [200, 200, 200]
    assert status == 429
    assert body["global"] is True
    assert headers["X-RateLimit-Global"] == "true"
    assert headers["X-RateLimit-Scope"] == "global"
    assert headers["Via"]
    assert fake.rate_limited[-1].scope == "global"


@pytest.mark.fake_discord(rate_limits=RateLimits(global_per_second=6, channel_messages=(5, 0.5)))
async def test_discord_py_waits_out_the_429s_and_delivers_everything(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none())
    async with client:
        await client.login(fake.token)
        target = client.get_partial_messageable(channel(fake))
        sent = await asyncio.gather(*(target.send(f"post {n}") for n in range(12)))
    assert len({m.id for m in sent}) == 12
    assert sorted(m.content for m in fake.messages_in(channel(fake))) == sorted(
        f"post {n}" for n in range(12)
    )
    assert fake.count_429 >= 1  # the global limit; discord.py pre-empts the channel bucket


@pytest.mark.fake_discord(nonce_window=0.3)
async def test_a_repeated_nonce_returns_the_first_message(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none())
    async with client:
        await client.login(fake.token)
        first_channel = client.get_partial_messageable(fake.channels[0].id)
        other_channel = client.get_partial_messageable(fake.channels[1].id)
        first = await first_channel.send("daily digest", nonce="slot-2024-09-02")
        again = await first_channel.send("daily digest", nonce="slot-2024-09-02")
        elsewhere = await other_channel.send("daily digest", nonce="slot-2024-09-02")
        await asyncio.sleep(0.35)
        later = await first_channel.send("daily digest", nonce="slot-2024-09-02")
    assert again.id == first.id
    assert elsewhere.id != first.id
    assert later.id != first.id
    assert len(fake.messages_in(fake.channels[0].id)) == 2
    assert len(fake.messages_in(fake.channels[1].id)) == 1


async def test_a_nonce_without_enforce_nonce_does_not_deduplicate(
    fake: FakeDiscord, rest: Rest
) -> None:
    for _ in range(2):
        await rest("POST", f"/channels/{channel(fake)}/messages", {"content": "x", "nonce": "n"})
    assert len(fake.messages_in(channel(fake))) == 2


# -- interactions -------------------------------------------------------------------------------


async def test_interaction_responses(fake: FakeDiscord, rest: Rest) -> None:
    async with raw_gateway(fake) as ws:
        await until_event(ws, "GUILD_CREATE")
        record = await fake.dispatch_interaction(APPLICATION_COMMAND, {"name": "x", "type": 1})
        frame = await until_event(ws, "INTERACTION_CREATE")
        assert frame["d"]["token"] == record.token
        assert frame["d"]["attachment_size_limit"] > 0
        callback = f"/interactions/{record.id}/{record.token}/callback"

        status, body, _ = await rest("POST", callback, {"type": 8, "data": {"choices": []}})
        assert status == 400
        assert body["code"] == 50035

        status, body, headers = await rest(
            "POST", callback, {"type": 4, "data": {"content": "hi"}}, query={"with_response": "1"}
        )
        assert status == 200
        assert headers["Content-Type"] == "application/json"
        assert body["interaction"]["id"] == str(record.id)
        message_id = body["interaction"]["response_message_id"]
        assert body["resource"]["message"]["id"] == message_id
        assert body["resource"]["message"]["content"] == "hi"

        status, body, _ = await rest("POST", callback, {"type": 4, "data": {"content": "again"}})
        assert (status, body["code"]) == (400, 40060)
        assert record.rejected[-1][1].code == 40060
        assert len(record.callbacks) == 1

        hook = f"/webhooks/{fake.application_id}/{record.token}"
        status, body, _ = await rest("POST", hook, {"content": "more"}, query={"wait": "true"})
        assert status == 200
        assert body["content"] == "more"
        status, body, _ = await rest("PATCH", f"{hook}/messages/@original", {"content": "edited"})
        assert status == 200
        assert body["content"] == "edited"
        assert body["edited_timestamp"]
        assert [m.content for m in fake.messages_in(channel(fake))] == ["edited", "more"]


@pytest.mark.fake_discord(interaction_deadline=0.2)
async def test_an_interaction_expires_after_the_deadline(fake: FakeDiscord, rest: Rest) -> None:
    async with raw_gateway(fake) as ws:
        await until_event(ws, "GUILD_CREATE")
        record = await fake.dispatch_interaction(APPLICATION_COMMAND, {"name": "x", "type": 1})
        hook = f"/webhooks/{fake.application_id}/{record.token}"
        status, body, _ = await rest("POST", hook, {"content": "too early"})
        assert (status, body["code"]) == (404, 10015)  # no followup before the response
        await asyncio.sleep(0.3)
        status, body, _ = await rest(
            "POST", f"/interactions/{record.id}/{record.token}/callback", {"type": 5}
        )
        assert (status, body["code"]) == (404, 10062)
        assert record.failed_to_respond


async def test_autocomplete_results_are_checked(fake: FakeDiscord, rest: Rest) -> None:
    async with raw_gateway(fake) as ws:
        await until_event(ws, "GUILD_CREATE")
        record = await fake.dispatch_interaction(AUTOCOMPLETE, {"name": "x", "type": 1})
        callback = f"/interactions/{record.id}/{record.token}/callback"
        too_many = [{"name": str(n), "value": str(n)} for n in range(26)]
        status, body, _ = await rest("POST", callback, {"type": 8, "data": {"choices": too_many}})
        assert status == 400
        assert "choices" in body["errors"]["data"]
        too_long = [{"name": "x" * 101, "value": "x"}]
        status, body, _ = await rest("POST", callback, {"type": 8, "data": {"choices": too_long}})
        assert status == 400
        fine = [{"name": "ok", "value": "ok"}]
        status, _, _ = await rest("POST", callback, {"type": 8, "data": {"choices": fine}})
        assert status == 204
        assert record.choices == fine


# -- commands -----------------------------------------------------------------------------------


def command(name: str, *options: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "description": f"/{name}", "type": 1, "options": list(options)}


async def test_bulk_overwrite_checks_commands(fake: FakeDiscord, rest: Rest) -> None:
    path = f"/applications/{fake.application_id}/commands"
    optional = {"name": "a", "description": "a", "type": 3}
    required = {"name": "b", "description": "b", "type": 3, "required": True}
    status, body, _ = await rest("PUT", path, [command("x", optional, required)])
    assert status == 400
    assert body["code"] == 50035
    status, body, _ = await rest("PUT", path, [command("Bad Name")])
    assert status == 400
    status, body, _ = await rest("PUT", path, [command("ok", required, optional)])
    assert status == 200
    assert body[0]["id"]
    assert body[0]["application_id"] == str(fake.application_id)
    status, listed, _ = await rest("GET", path)
    assert [c["name"] for c in listed] == ["ok"]


@pytest.mark.fake_discord(rate_limits=RateLimits(command_creates_per_day=3))
async def test_the_daily_command_create_limit(fake: FakeDiscord, rest: Rest) -> None:
    path = f"/applications/{fake.application_id}/guilds/{fake.guild_id}/commands"
    three = [command(n) for n in ("a", "b", "c")]
    assert (await rest("PUT", path, three))[0] == 200
    assert (await rest("PUT", path, three))[0] == 200  # overwriting the same names creates none
    status, body, _ = await rest("PUT", path, [*three, command("d")])
    assert (status, body["code"]) == (429, 30034)


# -- gateway ------------------------------------------------------------------------------------


async def test_gateway_serves_text_frames_even_when_compression_is_asked_for(
    fake: FakeDiscord,
) -> None:
    query = "?v=10&encoding=json&compress=zlib-stream"
    async with raw_gateway(fake, query=query) as ws:
        ready = await until_event(ws, "READY")
        assert ready["d"]["resume_gateway_url"] == fake.resume_gateway_url
        assert ready["d"]["guilds"] == [{"id": str(fake.guild_id), "unavailable": True}]
        created = await until_event(ws, "GUILD_CREATE")
        assert [c["name"] for c in created["d"]["channels"]] == [c.name for c in fake.channels]
        await ws.send_str(json.dumps({"op": 1, "d": created["s"]}))
        assert (await receive(ws))["op"] == 11
    assert fake.gateway_queries[0]["compress"] == "zlib-stream"


async def test_a_wrong_token_closes_the_gateway_with_4004(fake: FakeDiscord) -> None:
    async with raw_gateway(fake, token="wrong") as ws:
        message = await ws.receive(timeout=5)
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert message.data == 4004


async def test_resume_replays_what_the_client_missed(fake: FakeDiscord) -> None:
    async with raw_gateway(fake) as ws:
        ready = await until_event(ws, "READY")
        session, seen = ready["d"]["session_id"], ready["s"]
        await until_event(ws, "GUILD_CREATE")
    await fake.dispatch("TEST_EVENT", {"n": 1})  # nobody connected: kept for RESUME
    await fake.dispatch("TEST_EVENT", {"n": 2})
    async with raw_gateway(fake, token="", query="resume?v=10&encoding=json") as ws:
        await ws.send_str(
            json.dumps({"op": 6, "d": {"token": fake.token, "session_id": session, "seq": seen}})
        )
        frames = [await receive(ws) for _ in range(4)]
    assert [f["t"] for f in frames] == ["GUILD_CREATE", "TEST_EVENT", "TEST_EVENT", "RESUMED"]
    assert [f["s"] for f in frames] == sorted(f["s"] for f in frames)
    assert fake.resume_count == 1
    assert fake.identify_count == 1


async def test_resume_of_an_unknown_session_is_invalidated(fake: FakeDiscord) -> None:
    async with raw_gateway(fake, token="") as ws:
        await ws.send_str(
            json.dumps({"op": 6, "d": {"token": fake.token, "session_id": "nope", "seq": 1}})
        )
        assert await receive(ws) == {"op": 9, "d": False}


async def test_a_real_client_reconnects_and_resumes(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.05)
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    client.on_resumed = on_resumed  # type: ignore[attr-defined]
    async with serve_client(fake, client):
        await fake.force_reconnect()
        await asyncio.wait_for(resumed.wait(), 5)
        assert client.get_guild(fake.guild_id) is not None
    assert fake.identify_count == 1
    assert fake.resume_count == 1


async def test_invalid_or_inconsistent_shards_are_refused(fake: FakeDiscord) -> None:
    async def identify(ws: aiohttp.ClientWebSocketResponse, shard: list[int]) -> None:
        await ws.send_str(json.dumps({"op": 2, "d": {"token": fake.token, "shard": shard}}))

    for shard in ([2, 2], [-1, 2], [0]):
        async with raw_gateway(fake, token="") as ws:
            await identify(ws, shard)
            closed = await ws.receive(timeout=5)
            assert closed.type is aiohttp.WSMsgType.CLOSE, shard
            assert closed.data == 4010, shard
    async with raw_gateway(fake, token="") as first:
        await identify(first, [0, 2])
        ready = await until_event(first, "READY")
        assert ready["d"]["shard"] == [0, 2]
        async with raw_gateway(fake, token="") as second:
            await identify(second, [1, 3])  # the other live shard says there are 2
            closed = await second.receive(timeout=5)
            assert closed.type is aiohttp.WSMsgType.CLOSE
            assert closed.data == 4011
    assert fake.identified_shards == [(0, 2)]


@pytest.mark.fake_discord(shard_count=2)
async def test_shards_of_several_processes_each_get_their_share(fake: FakeDiscord) -> None:
    def shard(shard_id: int) -> discord.AutoShardedClient:
        return discord.AutoShardedClient(
            intents=discord.Intents.none(),
            shard_ids=[shard_id],
            shard_count=2,
            guild_ready_timeout=0.05,
        )

    async with serve_client(fake, shard(0)) as zero, serve_client(fake, shard(1)) as one:
        assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
        assert fake.connected_shards == [0, 1]
        owner = fake.guild_shard(2)
        clients = {0: zero, 1: one}
        assert clients[owner].get_guild(fake.guild_id) is not None
        assert clients[1 - owner].get_guild(fake.guild_id) is None  # the guild is one shard's
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            fake.base_url + "/gateway/bot", headers={"Authorization": f"Bot {fake.token}"}
        ) as response,
    ):
        assert (await response.json())["shards"] == 2


async def test_the_fake_listens_on_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeDiscord(host="0.0.0.0")
    async with running_fake() as fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
        assert fake.base_url == discord.http.Route.BASE
    assert discord.http.Route.BASE == "https://discord.com/api/v10"


def test_discord_error_shape() -> None:
    error = DiscordError(400, 40060, "Interaction has already been acknowledged.")
    assert error.body() == {"message": "Interaction has already been acknowledged.", "code": 40060}
