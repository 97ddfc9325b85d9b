"""The deliverer and its pacer on their own: one post out, paced, retried by exactly one layer,
and every outcome marked in the ledger."""

from __future__ import annotations

import asyncio

import pytest

from bot.reply import Line, Reply, Section
from bot.schedules.delivery import ChannelGone, Deliverer, GaveUp, Limits, Pacer, RateLimited
from bot.schedules.options import AS_CONFIGURED, Placement, Posted
from bot.schedules.spec import Delivery
from bot.schedules.store import Store

REPLY = Reply("Title", sections=(Section(None, (Line("an item"),)),))


class Poster:
    """Fails with the queued exceptions first, then sends."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.sent: list[tuple[str, str]] = []

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((channel, nonce))
        return Posted(f"m{self.calls}")


async def built(row: Delivery) -> tuple[Reply, Placement]:
    return REPLY, AS_CONFIGURED


async def deliver(db_url: str, poster: Poster) -> tuple[Store, Delivery]:
    store = Store(db_url)
    row, _ = store.claim(Delivery("console", "news", "kursk", "slot", "s1", "pending"))
    deliverer = Deliverer(
        "console", poster, store, built, limits=Limits(1000, 100, 1), backoff=0.001
    )
    deliverer.start()  # it leases the pending row from the ledger
    await asyncio.wait_for(deliverer.join(), 10)
    await deliverer.stop()
    return store, row


def state(store: Store, row: Delivery) -> Delivery:
    found = store.get(row.key)
    assert found is not None
    return found


async def test_a_post_is_sent_with_its_nonce_and_marked(db_url: str) -> None:
    poster = Poster()
    store, row = await deliver(db_url, poster)
    assert poster.sent == [("news", row.nonce)]
    done = state(store, row)
    assert (done.state, done.message_id, done.attempts) == ("sent", "m1", 1)
    store.close()


async def test_a_429_is_honoured_then_retried(db_url: str) -> None:
    poster = Poster(RateLimited(0.01), RateLimited(0.01))
    store, row = await deliver(db_url, poster)
    assert poster.calls == 3
    assert state(store, row).state == "sent"
    store.close()


async def test_a_poster_that_gave_up_is_not_retried_again(db_url: str) -> None:
    """Matrix waits out its own 429s: past its bound, one more layer of retries would only
    multiply them."""
    poster = Poster(GaveUp("M_LIMIT_EXCEEDED 12 times"), RuntimeError("must not be reached"))
    store, row = await deliver(db_url, poster)
    assert poster.calls == 1
    failed = state(store, row)
    assert failed.state == "failed"
    assert failed.error == "GaveUp: M_LIMIT_EXCEEDED 12 times"
    store.close()


async def test_a_gone_channel_is_flagged_in_the_store_and_not_retried(db_url: str) -> None:
    poster = Poster(ChannelGone("404 Unknown Channel"), RuntimeError("must not be reached"))
    store, row = await deliver(db_url, poster)
    assert poster.calls == 1
    assert state(store, row).state == "failed"
    assert store.flagged() == {"s1": "cannot post to news: 404 Unknown Channel"}
    store.close()


async def test_transient_failures_are_retried_a_bounded_number_of_times(db_url: str) -> None:
    poster = Poster(*[ConnectionResetError("dropped")] * 5)
    store, row = await deliver(db_url, poster)
    assert poster.calls == 5
    failed = state(store, row)
    assert failed.state == "failed"
    assert failed.error == "ConnectionResetError: dropped"
    assert failed.attempts == 1
    store.close()


async def test_pacer_keeps_every_window_under_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr("bot.schedules.delivery.asyncio.sleep", fake_sleep)
    pacer = Pacer(Limits(per_second=50, channel_count=5, channel_period=5), clock=lambda: now[0])
    stamps: list[tuple[str, float]] = []
    for i in range(200):
        channel = "busy" if i % 10 == 0 else f"c{i}"
        await pacer.acquire(channel)
        stamps.append((channel, now[0]))
    times = [t for _, t in stamps]
    for t in times:
        assert sum(1 for u in times if t <= u < t + 1) <= 50
    busy = [t for c, t in stamps if c == "busy"]
    for t in busy:
        assert sum(1 for u in busy if t <= u < t + 5) <= 5
    # Paced, not throttled: 200 requests at 50/s take about 4 s (plus the busy channel's waits).
    assert times[-1] < 200 / 50 + 5 * 4
