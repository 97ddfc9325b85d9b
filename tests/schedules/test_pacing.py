"""The send budget: the pure reservation rule and the in-memory Pacer (the sender's)."""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.schedules.pacing import AHEAD, Pacer, Window, WindowState, reserve
from bot.schedules.spec import Limits

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


# -- the window guard: counted from send until a period after the answer ------------------------


def through_window(delays: Sequence[tuple[float, float]], limit: int, period: float) -> list[float]:
    """Requests sent as soon as ``WindowState`` lets them, one after another; each takes ``up``
    seconds to reach the server and ``back`` for its answer to return. Their arrival times."""
    state = WindowState(limit, period)
    answers: list[float] = []
    now, arrivals = 0.0, []
    for up, back in delays:
        while True:
            while answers and answers[0] <= now:
                state.close(heapq.heappop(answers))
            wait = state.admit(now)
            if wait == 0:
                break
            next_answer = answers[0] if answers else math.inf
            now = next_answer if math.isinf(wait) else min(now + wait, next_answer)
        arrivals.append(now + up)
        heapq.heappush(answers, now + up + back)
    return arrivals


def most_in_a_window(arrivals: Sequence[float], period: float) -> int:
    """The most arrivals in any stretch (t - period, t] (the fake Discord's count). Two arrivals
    exactly one period apart are apart: 1e-9 absorbs the float rounding of that tie."""
    times = sorted(arrivals)
    most, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - period + 1e-9:
            start += 1
        most = max(most, end - start + 1)
    return most


delay = st.floats(min_value=0.0, max_value=0.4, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(delay, delay), min_size=60, max_size=400))
def test_no_second_of_arrivals_exceeds_the_limit_however_requests_are_held_up(
    delays: list[tuple[float, float]],
) -> None:
    arrivals = through_window(delays, limit=50, period=1.0)
    assert len(arrivals) == len(delays)
    assert most_in_a_window(arrivals, 1.0) <= 50


def test_the_timetable_alone_bursts_when_requests_are_held_up() -> None:
    """Why the guard exists: requests leaving evenly at 48/s, of which a few were held up 60 ms
    on the way (a busy event loop), arrive 51 in one second. The guard keeps them at 50."""
    spaced = [i / 48 for i in range(200)]
    held = [t + (0.06 if 96 <= i < 99 else 0.0) for i, t in enumerate(spaced)]
    assert most_in_a_window(held, 1.0) > 50
    up = [(0.06 if 96 <= i < 99 else 0.0, 0.001) for i in range(200)]
    assert most_in_a_window(through_window(up, 50, 1.0), 1.0) <= 50


def test_the_guard_costs_only_the_round_trip() -> None:
    """1,000 requests with a 10 ms round trip: 50 per (1 s + 10 ms), not fewer."""
    arrivals = through_window([(0.005, 0.005)] * 1000, limit=50, period=1.0)
    rate = len(arrivals) / (arrivals[-1] - arrivals[0] + 1.01)
    assert 50 / 1.02 < rate <= 50 / 1.0


def test_a_full_window_waits_for_an_answer_or_for_time() -> None:
    state = WindowState(limit=2, period=1.0)
    assert state.admit(0.0) == 0
    assert state.admit(0.0) == 0
    assert state.admit(0.1) == math.inf  # both in flight: only an answer changes anything
    state.close(0.3)
    assert state.admit(0.4) == pytest.approx(0.9)  # counted until 0.3 + 1.0
    assert state.admit(1.3) == 0


async def test_window_lets_requests_through_in_order_and_holds_the_rest() -> None:
    window = Window(limit=2, period=0.2)
    await window.enter()
    await window.enter()
    third = asyncio.ensure_future(window.enter())
    await asyncio.sleep(0.05)
    assert not third.done()  # both still in flight
    window.leave()
    await asyncio.sleep(0.05)
    assert not third.done()  # answered, but counted for the period
    await asyncio.wait_for(third, 1)
    window.leave()
    window.leave()
    assert window.state.open == 0
