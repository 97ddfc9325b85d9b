"""The send budget: how fast posts may go out so that none meets a 429.

Discord allows a bot token 50 requests/s in all and 5 messages per 5 s in one channel — per
*token*, however many processes share it. One pure function, :func:`reserve`, decides when a
request may go; two budgets keep its state:

* :class:`Pacer` in memory, for one process (SQLite, the console, tests);
* :class:`SharedBudget` in the database every process shares (PostgreSQL): a row per token
  holds the global timetable and a row per channel its recent send times, each read and
  written under ``SELECT … FOR UPDATE`` and timed by the database's clock, so processes on
  hosts whose clocks differ still keep one budget. No consensus code of our own: the
  database's row locks serialise the reservations.

A request *reserves* its send time and sleeps until then outside any lock, so a busy channel
waiting out its window holds up nobody else. It may reserve at most ``AHEAD`` seconds ahead:
a process that stalls (a busy CPU, a long garbage collection) while holding reservations far
in the future would send them all at once when it wakes, next to everybody else's on-time
requests, and a burst like that is a 429. Within a process, one request at a time waits for
the timetable (the others queue behind it), so the database sees a handful of reservations
per slot, not one per waiting worker.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from bot.schedules.spec import Limits
from bot.schedules.store import Store, send_budget, send_budget_channels

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


class _Reserving:
    """``acquire`` over a ``_reserve``: one request of this process at a time waits for the
    timetable; a request whose channel is full waits apart, holding up nobody."""

    def __init__(self) -> None:
        self._turn = asyncio.Lock()

    async def _reserve(self, channel: str) -> Grant:
        raise NotImplementedError

    async def acquire(self, channel: str) -> None:
        while True:
            async with self._turn:
                grant = await self._reserve(channel)
                while not grant.granted and not grant.channel_full:
                    await asyncio.sleep(grant.wait)  # the timetable: the others queue here
                    grant = await self._reserve(channel)
            if grant.wait > 0:
                await asyncio.sleep(grant.wait)
            if grant.granted:
                return


class Pacer(_Reserving):
    """The budget of one process, in memory."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.limits = limits
        self.clock = clock
        self._next_global = 0.0
        self._channels: dict[str, tuple[float, ...]] = {}

    async def _reserve(self, channel: str) -> Grant:
        grant = reserve(
            self._next_global, self._channels.get(channel, ()), self.clock(), self.limits
        )
        self._channels[channel] = grant.stamps
        if grant.granted:
            self._next_global = grant.next_global
        return grant

    async def penalise(self, seconds: float) -> None:
        self._next_global = max(self._next_global, self.clock() + seconds)


class SharedBudget(_Reserving):
    """The budget of every process sharing one PostgreSQL database, for one token (``name``).

    Each reservation is one short transaction: lock the token's row, lock (or create) the
    channel's row, apply :func:`reserve`, write both back. ``clock`` (seconds) replaces the
    database's clock in tests.
    """

    def __init__(
        self,
        engine: Engine,
        name: str,
        limits: Limits,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.name = name
        self.limits = limits
        self.clock = clock

    def _now(self, conn: Connection) -> float:
        if self.clock is not None:
            return self.clock()
        return float(
            conn.execute(select(func.extract("epoch", func.clock_timestamp()))).scalar_one()
        )

    def _lock_timetable(self, conn: Connection) -> float:
        query = select(send_budget.c.next_at).where(send_budget.c.name == self.name)
        row = conn.execute(query.with_for_update()).first()
        if row is None:  # the token's first send: processes creating the row together all pass
            new = pg_insert(send_budget).values(name=self.name, next_at=0.0)
            conn.execute(new.on_conflict_do_nothing(index_elements=["name"]))
            row = conn.execute(query.with_for_update()).one()
        return float(row.next_at)

    def reserve(self, channel: str) -> Grant:
        """One reservation (blocking): the grant, already written when granted."""
        with self.engine.begin() as conn:
            next_global = self._lock_timetable(conn)  # every reservation queues on this lock
            where = (
                send_budget_channels.c.name == self.name,
                send_budget_channels.c.channel == channel,
            )
            found = conn.execute(select(send_budget_channels.c.stamps).where(*where)).first()
            stamps = tuple(json.loads(found.stamps)) if found is not None else ()
            grant = reserve(next_global, stamps, self._now(conn), self.limits)
            if grant.granted:
                conn.execute(
                    update(send_budget)
                    .where(send_budget.c.name == self.name)
                    .values(next_at=grant.next_global)
                )
                text = json.dumps(grant.stamps)
                if found is None:
                    conn.execute(
                        insert(send_budget_channels).values(
                            name=self.name, channel=channel, stamps=text
                        )
                    )
                else:
                    conn.execute(update(send_budget_channels).where(*where).values(stamps=text))
            return grant

    async def _reserve(self, channel: str) -> Grant:
        return await asyncio.to_thread(self.reserve, channel)

    def hold_back(self, seconds: float) -> None:
        with self.engine.begin() as conn:
            self._lock_timetable(conn)
            now = self._now(conn)
            conn.execute(
                update(send_budget)
                .where(send_budget.c.name == self.name)
                .values(next_at=func.greatest(send_budget.c.next_at, now + seconds))
            )

    async def penalise(self, seconds: float) -> None:
        await asyncio.to_thread(self.hold_back, seconds)


def budget_for(store: Store, name: str, limits: Limits) -> Budget:
    """The shared budget when other processes may share the database, else one in memory."""
    if store.shared:
        return SharedBudget(store.engine, name, limits)
    return Pacer(limits)
