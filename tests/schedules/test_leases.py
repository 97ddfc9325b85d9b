"""Leases on ledger rows: two stores on one database (as two processes would be), an injected
clock; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.reply import Line, Reply, Section
from bot.schedules.delivery import Deliverer, EditJob, Limits
from bot.schedules.options import AS_CONFIGURED, Placement, Posted
from bot.schedules.spec import Delivery
from bot.schedules.store import LEASE, Store

T0 = datetime(2024, 8, 9, 5, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rows(store: Store, count: int, slot: str = "2024-08-09T05:00Z") -> list[Delivery]:
    made = [Delivery("discord", f"c{i}", "d", slot, "s1", "pending") for i in range(count)]
    for row in made:
        store.claim(row)
    return made


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def two(db_url: str, clock: Clock) -> Iterator[tuple[Store, Store]]:
    a = Store(db_url, owner="a", clock=clock)
    b = Store(db_url, owner="b", clock=clock)
    yield a, b
    a.close()
    b.close()


def test_a_row_is_leased_by_one_store(two: tuple[Store, Store]) -> None:
    a, b = two
    made = rows(a, 6)
    first = a.lease("discord", 4)
    second = b.lease("discord", 4)
    assert len(first) == 4
    assert len(second) == 2
    assert {r.key for r in first}.isdisjoint({r.key for r in second})
    assert {r.key for r in first + second} == {r.key for r in made}
    assert a.lease("discord", 4) == []
    assert b.lease("discord", 4) == []
    assert all(a.holds(r.key) for r in first)
    assert not any(b.holds(r.key) for r in first)
    assert a.lease("matrix", 4) == []  # other platforms' rows are not touched


def test_a_dead_holders_rows_are_taken_over_after_the_lease(
    two: tuple[Store, Store], clock: Clock
) -> None:
    a, b = two
    rows(a, 3)
    held = a.lease("discord", 10)
    assert len(held) == 3
    assert timedelta(seconds=30) >= LEASE
    clock.now += LEASE - timedelta(seconds=1)
    assert b.lease("discord", 10) == []  # a is only slow, not yet presumed dead
    assert b.waiting("discord") == 0
    assert a.waiting("discord") == 3
    clock.now += timedelta(seconds=2)
    taken = b.lease("discord", 10)
    assert {r.key for r in taken} == {r.key for r in held}
    assert [r.nonce for r in taken] == [r.nonce for r in held]  # the re-send is recognised
    assert not a.holds(held[0].key)  # a woke up: it must not send what b took
    assert b.holds(held[0].key)


def test_renewing_keeps_the_rows_and_release_hands_them_back(
    two: tuple[Store, Store], clock: Clock
) -> None:
    a, b = two
    rows(a, 2)
    a.lease("discord", 10)
    for _ in range(4):  # a lives: it renews every third of the lease
        clock.now += LEASE / 3
        assert a.renew() == 2
        assert b.lease("discord", 10) == []
    a.mark(("discord", "c0", "d", "2024-08-09T05:00Z"), "sent", message_id="m1")
    assert a.renew() == 1  # a sent row is no longer held
    a.release()  # a clean stop: b need not wait
    assert [r.channel for r in b.lease("discord", 10)] == ["c1"]


def test_racing_stores_lease_every_row_exactly_once(db_url: str) -> None:
    stores = [Store(db_url, owner=f"p{i}") for i in range(4)]
    rows(stores[0], 200)
    leased: list[list[Delivery]] = [[] for _ in stores]
    start = threading.Barrier(len(stores))

    def take(index: int) -> None:
        start.wait()
        while got := stores[index].lease("discord", 7):
            leased[index].extend(got)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    keys = [r.key for got in leased for r in got]
    assert len(keys) == 200
    assert len(set(keys)) == 200
    for store in stores:
        store.close()


class Hanging:
    """A poster whose send reaches the platform but whose answer never comes back."""

    def __init__(self) -> None:
        self.nonces: list[str] = []
        self.reached = asyncio.Event()

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        self.nonces.append(nonce)
        self.reached.set()
        if len(self.nonces) == 1:
            await asyncio.Event().wait()  # the process hangs here and is then killed
        return Posted(f"m-{nonce}")


async def one_line(_: Delivery) -> tuple[Reply, Placement]:
    return Reply(title="t", sections=(Section(None, (Line("x", source="s"),)),)), AS_CONFIGURED


async def test_a_taken_over_row_is_re_sent_with_the_same_nonce(db_url: str) -> None:
    clock = Clock()
    a = Store(db_url, owner="a", clock=clock)
    b = Store(db_url, owner="b", clock=clock)
    [row] = rows(a, 1)
    poster = Hanging()
    fast = Limits(per_second=1000, channel_count=100)
    first = Deliverer("discord", poster, a, one_line, limits=fast, workers=1, poll=0.01)
    first.start()
    await asyncio.wait_for(poster.reached.wait(), 10)
    for task in first._tasks:  # SIGKILL: no release, no renewal, no mark
        task.cancel()
    await asyncio.gather(*first._tasks, return_exceptions=True)
    clock.now += LEASE + timedelta(seconds=1)
    second = Deliverer("discord", poster, b, one_line, limits=fast, workers=1, poll=0.01)
    second.start()
    await asyncio.wait_for(second.join(), 10)
    await second.stop()
    assert poster.nonces == [row.nonce, row.nonce]
    done = b.get(row.key)
    assert done is not None
    assert done.state == "sent"
    assert done.message_id == f"m-{row.nonce}"
    a.close()
    b.close()


def sent_row(store: Store, channel: str = "c0") -> Delivery:
    row = Delivery("discord", channel, "d", "2024-08-09T05:00Z", "s1", "pending")
    store.claim(row)
    store.mark(row.key, "sent", message_id="m1", message_ids=["m1"], attempted=True)
    return row


def test_an_edit_is_claimed_and_held_by_one_store(two: tuple[Store, Store], clock: Clock) -> None:
    """Two processes noticing one correction: one claims the edit; the other cannot lease or
    hold it until the claimer's lease runs out (it died), then only the other holds it."""
    a, b = two
    row = sent_row(a)
    assert a.claim_edit(row.key, "2024-08-09T06:00:00Z")
    assert not b.claim_edit(row.key, "2024-08-09T06:00:00Z")
    assert b.lease_edits() == []
    assert a.holds_edit(row.key, "2024-08-09T06:00:00Z")
    assert not b.holds_edit(row.key, "2024-08-09T06:00:00Z")
    clock.now += LEASE + timedelta(seconds=1)  # a stopped renewing
    [(taken, version)] = b.lease_edits()
    assert (taken.key, version) == (row.key, "2024-08-09T06:00:00Z")
    assert a.lease_edits() == []
    assert not a.holds_edit(row.key, version)
    assert b.holds_edit(row.key, version)
    b.mark_edit(row.key, version, "done")
    assert not b.holds_edit(row.key, version)  # done: nobody edits it again
    clock.now += 2 * LEASE
    assert a.lease_edits() == []
    assert b.lease_edits() == []


def test_edit_leases_are_renewed_and_released(two: tuple[Store, Store], clock: Clock) -> None:
    a, b = two
    row = sent_row(a)
    assert a.claim_edit(row.key, "v1")
    clock.now += LEASE * 2 / 3
    assert a.renew() == 1
    clock.now += LEASE * 2 / 3  # past the first lease, within the renewed one
    assert b.lease_edits() == []
    a.release()  # a clean stop
    assert [(d.key, v) for d, v in b.lease_edits()] == [(row.key, "v1")]


class Editing:
    """A poster that records the edits it is asked to make."""

    def __init__(self) -> None:
        self.edits: list[tuple[str, tuple[str, ...]]] = []

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        return Posted("m1")

    async def edit(self, channel: str, message_ids: Sequence[str], reply: Reply) -> list[str]:
        self.edits.append((channel, tuple(message_ids)))
        return list(message_ids)


async def test_an_edit_another_process_holds_is_not_made_twice(
    two: tuple[Store, Store],
) -> None:
    """Both processes queue the same correction (one claimed it, the other found it pending at
    start): only the holder edits; the other's queued job sees the lease and drops it."""
    a, b = two
    row = sent_row(a)
    assert a.claim_edit(row.key, "v1")
    reply, _ = await one_line(row)
    poster_a, poster_b = Editing(), Editing()
    fast = Limits(per_second=1000, channel_count=100)
    first = Deliverer("discord", poster_a, a, one_line, limits=fast, workers=1)
    second = Deliverer("discord", poster_b, b, one_line, limits=fast, workers=1)
    stored = b.get(row.key)
    assert stored is not None
    await second.send_edit(EditJob(stored, "v1", reply))
    assert poster_b.edits == []
    await first.send_edit(EditJob(stored, "v1", reply))
    assert poster_a.edits == [("c0", ("m1",))]
    assert a.edit_states("d") == [(row.key, "v1", "done")]


class Gate:
    """A poster whose sends wait until the test opens the gate."""

    def __init__(self) -> None:
        self.waiting = 0
        self.open = asyncio.Event()

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        self.waiting += 1
        await self.open.wait()
        return Posted(f"m-{nonce}")


async def test_a_deliverer_holds_only_a_batch_of_rows_unsent(two: tuple[Store, Store]) -> None:
    """However many workers it has, a process leases at most ``batch`` rows ahead of its sends:
    the rest stay free for the other processes (and a killed one strands only a batch)."""
    a, b = two
    rows(a, 12)
    gate = Gate()
    fast = Limits(per_second=1000, channel_count=100)
    sender = Deliverer("discord", gate, a, one_line, limits=fast, workers=32, batch=4, poll=0.01)
    sender.start()
    for _ in range(500):
        if gate.waiting == 4:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # time to lease more, if it would
    assert gate.waiting == 4
    assert len(b.lease("discord", 100)) == 8
    gate.open.set()
    await asyncio.wait_for(sender.queue.join(), 10)
    await sender.stop()
    assert sum(1 for r in a.all_deliveries() if r.state == "sent") == 4
