"""How many posts a channel may still publish: Discord allows about 10 publishes (crossposts)
per announcement channel per hour, so the budget is counted here rather than learnt from 429s.

A pure object over an injected clock (seconds since the epoch: usage must mean the same after
a restart, so not a monotonic clock). It holds no I/O; :mod:`bot.schedules.tables` persists
each use and hold, and :meth:`PublishBudget.restore` reloads them at start.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class BudgetLimits:
    per_channel: int = 10
    period: float = 3600.0


class PublishBudget:
    """Publishes per channel in a sliding window, plus holds from 429s Discord sent anyway."""

    def __init__(
        self, limits: BudgetLimits | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.limits = limits or BudgetLimits()
        self.clock = clock
        self._uses: dict[str, deque[float]] = {}
        self._holds: dict[str, float] = {}

    def restore(
        self, uses: Iterable[tuple[str, float]], holds: Iterable[tuple[str, float]]
    ) -> None:
        """Replace the usage with the persisted one (any order; old entries are dropped): the
        store holds every process's uses, this one's included, so reloading twice (at start,
        and again on becoming the sender) counts nothing twice."""
        self._uses.clear()
        self._holds.clear()
        for channel, at in sorted(uses, key=lambda use: use[1]):
            self._uses.setdefault(channel, deque()).append(at)
        for channel, until in holds:
            self._holds[channel] = max(until, self._holds.get(channel, 0.0))

    def _window(self, channel: str, now: float) -> deque[float]:
        window = self._uses.setdefault(channel, deque())
        while window and window[0] <= now - self.limits.period:
            window.popleft()
        return window

    def remaining(self, channel: str) -> int:
        now = self.clock()
        if self._holds.get(channel, 0.0) > now:
            return 0
        return max(self.limits.per_channel - len(self._window(channel, now)), 0)

    def free_at(self, channel: str) -> float:
        """When the next publish may go (now, if one may go now)."""
        now = self.clock()
        window = self._window(channel, now)
        at = now
        if len(window) >= self.limits.per_channel:
            at = window[len(window) - self.limits.per_channel] + self.limits.period
        return max(at, self._holds.get(channel, 0.0))

    def take(self, channel: str) -> float | None:
        """Reserve one publish: its time (to persist), or None when the budget is spent."""
        if not self.remaining(channel):
            return None
        now = self.clock()
        self._uses.setdefault(channel, deque()).append(now)
        return now

    def refund(self, channel: str, at: float) -> None:
        """A reserved publish did not happen (the post failed first)."""
        window = self._uses.get(channel)
        if window is not None and at in window:
            window.remove(at)

    def hold(self, channel: str, seconds: float) -> float:
        """Discord answered a publish with 429: nothing more there for ``seconds``."""
        until = self.clock() + seconds
        self._holds[channel] = max(until, self._holds.get(channel, 0.0))
        return self._holds[channel]
