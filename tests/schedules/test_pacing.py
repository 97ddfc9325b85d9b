"""The send budget: the pure reservation rule and the in-memory Pacer (the sender's)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.schedules.pacing import AHEAD, Pacer, reserve
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
