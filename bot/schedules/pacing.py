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
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.schedules.spec import Limits

AHEAD = 0.05
"""Seconds ahead of now a send time may be reserved (about two slots at 50/s)."""


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


class WindowState:
    """The rule behind :class:`Window`, pure: the callers keep the time.

    A request is *open* from the moment it is sent until its answer arrives, and counts for one
    ``period`` after that. A request may go only while fewer than ``limit`` count. Why that is
    enough, however the requests are delayed on the way: take any ``period``-long stretch of
    the server's clock and the requests that arrived in it; let R be the one among them sent
    last, at ``s``. Each of the others was sent before ``s`` and arrived after ``s - period``
    (R arrived after ``s``, and the stretch is ``period`` long), so its answer came after
    ``s - period`` too: when R was sent, each of them was open or had been answered within one
    ``period``. So R saw them all counted, and the stretch holds at most ``limit`` requests.
    The only cost is throughput: ``limit / (period + round trip)`` instead of ``limit /
    period``.
    """

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.open = 0
        self.answered: deque[float] = deque()

    def admit(self, now: float) -> float:
        """0: the request may go now (it is counted open). Otherwise how long to wait before
        asking again; ``math.inf`` when only an answer (``close``) can change the count."""
        while self.answered and self.answered[0] + self.period <= now:
            self.answered.popleft()
        if self.open + len(self.answered) < self.limit:
            self.open += 1
            return 0.0
        if not self.answered:
            return math.inf
        return self.answered[0] + self.period - now

    def close(self, now: float) -> None:
        """The answer to an open request came (or it failed: if it reached the server, it did so
        before now)."""
        self.open -= 1
        self.answered.append(now)


class Window:
    """Discord's global limit held across every request a client makes (not only scheduled
    posts: lookups, publishing, thread creation), by the rule of :class:`WindowState`.

    ``enter`` before a request goes, ``leave`` when its answer (or failure) is in. Requests are
    let through in the order they asked. The default period is Discord's second plus 10 ms, a
    margin for two clocks that tick at slightly different rates.
    """

    def __init__(
        self, limit: int = 50, period: float = 1.01, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.state = WindowState(limit, period)
        self.clock = clock
        self._turn = asyncio.Lock()
        self._answer = asyncio.Event()

    async def enter(self) -> None:
        async with self._turn:
            while (wait := self.state.admit(self.clock())) > 0:
                self._answer.clear()
                if math.isinf(wait):
                    await self._answer.wait()
                else:
                    await asyncio.sleep(wait)

    def leave(self) -> None:
        self.state.close(self.clock())
        self._answer.set()
