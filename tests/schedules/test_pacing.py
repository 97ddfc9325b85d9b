"""The send budget: the pure reservation rule, the in-memory Pacer, and the budget shared by
several processes through PostgreSQL (two instances on one database, an injected clock)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.schedules.pacing import AHEAD, Pacer, SharedBudget, budget_for, reserve
from bot.schedules.spec import Limits
from bot.schedules.store import Store
from tests.postgres.harness import Postgres

DISCORD = Limits(per_second=50, channel_count=5, channel_period=5)


def check_windows(stamps: Sequence[tuple[str, float]], limits: Limits) -> None:
    """No 1 s window holds more than per_second sends, no channel window more than its count."""
    times = sorted(t for _, t in stamps)
    for t in times:
        assert sum(1 for u in times if t <= u < t + 1 - 1e-9) <= limits.per_second
    for channel in {c for c, _ in stamps}:
        mine = sorted(t for c, t in stamps if c == channel)
        for t in mine:
            inside = sum(1 for u in mine if t <= u < t + limits.channel_period - 1e-9)
            assert inside <= limits.channel_count


def run(channels: Sequence[str], limits: Limits) -> list[tuple[str, float]]:
    """Requests one after another, each caller sleeping exactly as told."""
    next_global, windows, now, sent = 0.0, {}, 0.0, []
    for channel in channels:
        while True:
            grant = reserve(next_global, windows.get(channel, ()), now, limits)
            windows[channel] = grant.stamps
            now += grant.wait
            if grant.granted:
                next_global = grant.next_global
                sent.append((channel, now))
                break
    return sent


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"] + [f"x{i}" for i in range(40)]), max_size=300))
def test_any_request_sequence_keeps_every_window(channels: list[str]) -> None:
    sent = run(channels, DISCORD)
    assert len(sent) == len(channels)
    check_windows(sent, DISCORD)


def test_paced_not_throttled() -> None:
    sent = run([f"c{i}" for i in range(500)], DISCORD)
    assert sent[-1][1] == pytest.approx(499 / 50)  # exactly the floor: one every 20 ms
    burst = run(["busy"] * 11, DISCORD)
    assert [round(t, 2) for _, t in burst] == [
        0,
        0.02,
        0.04,
        0.06,
        0.08,
        5,
        5.02,
        5.04,
        5.06,
        5.08,
        10,
    ]


def test_a_refused_request_changes_nothing_and_says_when_to_ask_again() -> None:
    full = (0.0, 1.0, 2.0, 3.0, 4.0)
    grant = reserve(4.02, full, 4.5, DISCORD)
    assert not grant.granted
    assert grant.wait == pytest.approx(0.5)
    assert grant.next_global == 4.02
    again = reserve(4.02, grant.stamps, 5.0, DISCORD)
    assert again.granted
    assert again.wait == 0
    assert again.stamps == (1.0, 2.0, 3.0, 4.0, 5.0)


def test_no_reservation_far_ahead() -> None:
    """A stalled process must not wake up holding slots that are long gone: it may reserve
    only AHEAD seconds ahead, and a refusal reserves nothing."""
    grant = reserve(10.0, (), 0.0, DISCORD)
    assert not grant.granted
    assert not grant.channel_full
    assert grant.wait == pytest.approx(10.0 - AHEAD)
    assert grant.next_global == 10.0
    near = reserve(10.0, (), 9.96, DISCORD)
    assert near.granted
    assert near.wait == pytest.approx(0.04)


async def test_a_busy_channel_holds_up_no_other() -> None:
    pacer = Pacer(Limits(per_second=1000, channel_count=1, channel_period=0.5))
    await pacer.acquire("busy")
    waiting = asyncio.ensure_future(pacer.acquire("busy"))  # must wait 0.5 s for its window
    await asyncio.sleep(0.01)
    await asyncio.wait_for(pacer.acquire("quiet"), 0.25)
    assert not waiting.done()
    await asyncio.wait_for(waiting, 2)


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    """The shared budget is PostgreSQL's (a SQLite file serves one process)."""
    return postgres.create_database()


def test_the_budget_is_shared_only_on_postgresql(db_url: str) -> None:
    store = Store(db_url)
    budget = budget_for(store, "discord", DISCORD)
    assert isinstance(budget, SharedBudget if db_url.startswith("postgresql") else Pacer)
    store.close()


def test_two_processes_share_one_budget(pg_url: str) -> None:
    store = Store(pg_url)
    now = [1000.0]
    a = SharedBudget(store.engine, "discord", DISCORD, clock=lambda: now[0])
    second = Store(pg_url)  # another process's
    b = SharedBudget(second.engine, "discord", DISCORD, clock=lambda: now[0])
    other = SharedBudget(store.engine, "matrix", DISCORD, clock=lambda: now[0])
    sent: list[tuple[str, float]] = []
    # a and b alternate, a third of the requests into one busy channel: together they must keep
    # Discord's limits, as if they were one sender.
    for i in range(120):
        budget = a if i % 2 else b
        channel = "busy" if i % 3 == 0 else f"c{i}"
        while True:
            grant = budget.reserve(channel)
            now[0] += grant.wait
            if grant.granted:
                sent.append((channel, now[0]))
                break
    check_windows(sent, DISCORD)
    quiet = [t for c, t in sent if c != "busy"]
    assert quiet[-1] - sent[0][1] < 40  # the busy channel's waits did not stall the rest
    assert other.reserve("c1").wait == 0  # another token has its own budget
    # A 429 seen by one process holds the other back too.
    a.hold_back(2.0)
    held = b.reserve("fresh")
    store.close()
    second.close()
    assert not held.granted
    assert held.wait >= 2.0 - AHEAD - 1e-6


async def test_shared_budget_paces_concurrent_senders_by_the_database_clock(pg_url: str) -> None:
    limits = Limits(per_second=100, channel_count=5, channel_period=5)
    stores = [Store(pg_url) for _ in range(3)]
    budgets = [SharedBudget(store.engine, "discord", limits) for store in stores]
    loop = asyncio.get_running_loop()
    stamps: list[tuple[str, float]] = []

    async def send(budget: SharedBudget, index: int) -> None:
        await budget.acquire(f"c{index}")
        stamps.append((f"c{index}", loop.time()))

    start = loop.time()
    await asyncio.gather(*(send(budgets[i % 3], i) for i in range(60)))
    elapsed = loop.time() - start
    for store in stores:
        store.close()
    check_windows(stamps, limits)
    assert 59 / 100 - 0.05 <= elapsed < 59 / 100 + 1.0  # paced to 100/s, not throttled
