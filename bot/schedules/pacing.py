"""The send budget: how fast posts may go out so that none meets a 429.

Discord allows a bot token 50 requests/s in all and 5 messages per 5 s in one channel — per
*token*, however many processes share it. One process sends for a token at a time (the others
wait for the role: ``bot.schedules.sender``), so the budget is the sender's, in memory: the
pure :func:`reserve` decides when a request may go and :class:`Pacer` keeps its state.

A request *reserves* its send time and sleeps until then outside any lock, so a busy channel
waiting out its window holds up nobody else. It may reserve at most ``AHEAD`` seconds ahead: a
process that stalls (a busy CPU, a long garbage collection) while holding reservations far in
the future would send them all at once when it wakes, and a burst like that is a 429. One
request at a time waits for the timetable (the others queue behind it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.schedules.spec import Limits

AHEAD = 0.05
"""Seconds ahead of now a send time may be reserved (about two slots at 48/s)."""


@dataclass(frozen=True)
class Grant:
    """The outcome of one reservation: go after ``wait`` s, or ask again after ``wait`` s
    (``channel_full`` says whether the channel's window or the global timetable refused)."""

    granted: bool
    wait: float
    next_global: float
    stamps: tuple[float, ...]
    channel_full: bool = False


def reserve(
    next_global: float,
    stamps: Sequence[float],
    now: float,
    limits: Limits,
    ahead: float = AHEAD,
) -> Grant:
    """When may one request to a channel go? Pure: the callers keep the state.

    ``next_global`` is the global timetable's next free time; ``stamps`` the channel's
    reserved send times (ascending). Granted times never decrease, so checking the channel's
    window that ends at the granted time is enough. A request that is refused — its channel
    is full, or the next free time is more than ``ahead`` away — changes nothing and is told
    when to ask again.
    """
    interval = 1.0 / limits.per_second
    at = max(now, next_global)
    # t + period > at, not t > at - period: the retry time below must pass this test exactly.
    recent = tuple(t for t in stamps if t + limits.channel_period > at)
    if len(recent) >= limits.channel_count:
        again = recent[-limits.channel_count] + limits.channel_period
        return Grant(False, max(0.0, again - now), next_global, recent, channel_full=True)
    if at - now > ahead:
        return Grant(False, at - now - ahead, next_global, tuple(stamps))
    # Keep to the timetable: a sleep that overran by a millisecond must not push every later
    # request back (that drift alone costs ~5 % over a long fan-out); only after an idle spell
    # does the timetable restart from now.
    base = next_global if next_global >= now - interval else now
    return Grant(True, at - now, base + interval, (*recent, at))


class Budget(Protocol):
    async def acquire(self, channel: str) -> None:
        """Return when a request to ``channel`` may be sent."""
        ...

    async def penalise(self, seconds: float) -> None:
        """A 429 came anyway: hold every sender back for ``retry_after``."""
        ...


class Pacer:
    """The token's budget, in memory: one request at a time waits for the timetable; a
    request whose channel is full waits apart, holding up nobody."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._next_global = 0.0
        self._channels: dict[str, tuple[float, ...]] = {}
        self._turn = asyncio.Lock()

    def _reserve(self, channel: str) -> Grant:
        grant = reserve(
            self._next_global, self._channels.get(channel, ()), self.clock(), self.limits
        )
        self._channels[channel] = grant.stamps
        if grant.granted:
            self._next_global = grant.next_global
        return grant

    async def acquire(self, channel: str) -> None:
        while True:
            async with self._turn:
                grant = self._reserve(channel)
                while not grant.granted and not grant.channel_full:
                    await asyncio.sleep(grant.wait)  # the timetable: the others queue here
                    grant = self._reserve(channel)
            if grant.wait > 0:
                await asyncio.sleep(grant.wait)
            if grant.granted:
                return

    async def penalise(self, seconds: float) -> None:
        self._next_global = max(self._next_global, self.clock() + seconds)
