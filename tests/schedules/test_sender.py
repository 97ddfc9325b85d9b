"""Who sends for a token: one process at a time holds PostgreSQL's advisory lock; the one that
takes it after the sender died frees the dead one's leases at once (no wait for them to run
out), and re-sends its half-done posts with the same nonces."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.reply import Line, Reply, Section
from bot.schedules.delivery import Deliverer, Limits
from bot.schedules.options import AS_CONFIGURED, Placement, Posted
from bot.schedules.sender import AdvisoryLock, election_for
from bot.schedules.spec import Delivery
from bot.schedules.store import Store, deliveries
from tests.postgres.harness import Postgres

T0 = datetime(2024, 8, 9, 5, 0, tzinfo=UTC)
FAST = Limits(per_second=1000, channel_count=100)


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    """Several processes share a PostgreSQL database (a SQLite file serves one process)."""
    return postgres.create_database()


def test_one_process_alone_on_sqlite_is_the_sender(tmp_path: object) -> None:
    store = Store(f"sqlite:///{tmp_path}/state.sqlite3")
    assert election_for(store, "discord") is None  # a Deliverer without one always sends
    deliverer = Deliverer("discord", Recorder(), store, one_line)
    assert deliverer.sending
    store.close()


def test_one_sender_at_a_time_and_the_next_when_it_goes(pg_url: str) -> None:
    stores = [Store(pg_url) for _ in range(3)]
    a, b, c = (AdvisoryLock(s.engine, "discord") for s in stores)
    other = AdvisoryLock(stores[1].engine, "matrix")
    assert a.take()
    assert a.take()  # still
    assert not b.take()
    assert not c.take()
    assert other.take()  # another platform's token has its own sender
    a.resign()
    assert b.take()
    assert not a.take()
    assert not c.take()
    for lock in (a, b, c, other):
        lock.resign()
    for s in stores:
        s.close()


def test_a_sender_whose_session_ended_is_no_longer_the_sender(pg_url: str) -> None:
    """The server ends the session of a process that died (or whose connection broke): the lock
    goes with it, and the old holder finds out at its next look."""
    first, second = Store(pg_url), Store(pg_url)
    a, b = AdvisoryLock(first.engine, "discord"), AdvisoryLock(second.engine, "discord")
    assert a.take()
    with second.engine.begin() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
        )
    assert b.take()
    assert not a.take()
    b.resign()
    first.close()
    second.close()


class Recorder:
    """A poster that records each send; the first ``hang`` sends reach the platform but their
    answer never comes back (the process is killed there)."""

    def __init__(self, hang: int = 0) -> None:
        self.hang = hang
        self.nonces: list[str] = []
        self.hanging = 0

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        self.nonces.append(nonce)
        if self.hanging < self.hang:
            self.hanging += 1
            await asyncio.Event().wait()
        return Posted(f"m-{nonce}")


async def one_line(_: Delivery) -> tuple[Reply, Placement]:
    return Reply(title="t", sections=(Section(None, (Line("x", source="s"),)),)), AS_CONFIGURED


def held_by(store: Store, owner: str) -> set[tuple[str, str, str, str]]:
    """Pending rows ``owner`` holds a lease on."""
    with store.engine.connect() as conn:
        found = conn.execute(
            select(deliveries).where(
                deliveries.c.state == "pending", deliveries.c.lease_owner == owner
            )
        )
        return {(r.platform, r.channel, r.digest_id, r.slot) for r in found}


async def until(check: object, seconds: float = 10.0) -> None:
    assert callable(check)
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_only_the_sender_sends_and_the_next_takes_over_its_leases_at_once(
    pg_url: str,
) -> None:
    """Two processes: only the elected one leases and sends. It is killed with rows leased and
    sends in flight; the other takes the lock, frees those leases at once — the store's clock
    never moves, so they have not run out — and sends every row, the half-done ones again with
    the same nonce: each row one message."""
    clock = lambda: T0  # noqa: E731 - leases never run out by time in this test
    a, b = Store(pg_url, owner="a", clock=clock), Store(pg_url, owner="b", clock=clock)
    made = [
        Delivery("discord", f"c{i}", "d", "2024-08-09T05:00Z", "s1", "pending") for i in range(12)
    ]
    for row in made:
        a.claim(row)
    poster_a, poster_b = Recorder(hang=2), Recorder()
    first = Deliverer(
        "discord",
        poster_a,
        a,
        one_line,
        limits=FAST,
        batch=4,
        poll=0.05,
        election=AdvisoryLock(a.engine, "discord"),
    )
    first.start()
    await until(lambda: poster_a.hanging == 2 and len(poster_a.nonces) >= 4)
    second = Deliverer(
        "discord",
        poster_b,
        b,
        one_line,
        limits=FAST,
        batch=4,
        poll=0.05,
        election=AdvisoryLock(b.engine, "discord"),
    )
    second.start()
    await asyncio.sleep(0.3)
    assert first.sending
    assert not second.sending
    assert poster_b.nonces == []  # the other only waits
    # SIGKILL: the tasks stop where they are, nothing is released, the session ends.
    for task in first._tasks:
        task.cancel()
    await asyncio.gather(*first._tasks, return_exceptions=True)
    held = held_by(a, "a")
    assert held  # rows the dead sender had leased and not sent
    first.election.resign()  # what the server does when the process's connection closes
    await until(lambda: all(r.state == "sent" for r in b.all_deliveries()))
    await second.stop()
    assert second.sending is False
    sent = {r.key: r for r in b.all_deliveries()}
    assert {k: r.message_id for k, r in sent.items()} == {r.key: f"m-{r.nonce}" for r in made}
    assert set(poster_b.nonces) >= {sent[k].nonce for k in held}  # re-sent, same nonces
    assert len(poster_b.nonces) == len(set(poster_b.nonces))
    a.close()
    b.close()


def test_an_edit_is_handed_to_the_sender(pg_url: str) -> None:
    """A process that is not the sender claims a correction's edit (its watcher saw it first)
    and hands it over: free for the sender's next look, and only for that platform's sender."""
    a, b = Store(pg_url, owner="a"), Store(pg_url, owner="b")
    row = Delivery("discord", "c0", "d", "2024-08-09T05:00Z", "s1", "pending")
    a.claim(row)
    a.mark(row.key, "sent", message_id="m1", message_ids=["m1"], attempted=True)
    assert a.claim_edit(row.key, "v1")
    assert b.lease_edits(["discord"]) == []  # a holds it
    a.release_edit(row.key, "v1")
    assert b.lease_edits(["matrix"]) == []
    assert [(d.key, v) for d, v in b.lease_edits(["discord"])] == [(row.key, "v1")]
    assert b.holds_edit(row.key, "v1")
    assert not a.holds_edit(row.key, "v1")
    a.close()
    b.close()


class Turn:
    """An election the test decides."""

    def __init__(self) -> None:
        self.mine = False

    def take(self) -> bool:
        return self.mine

    def resign(self) -> None:
        self.mine = False


class Restoring(Recorder):
    """A poster with limits kept in the store (Discord's publish budget)."""

    def __init__(self) -> None:
        super().__init__()
        self.restored = 0

    async def restore(self) -> None:
        self.restored += 1


async def test_a_process_that_becomes_the_sender_reloads_what_the_last_one_spent(
    tmp_path: object,
) -> None:
    store = Store(f"sqlite:///{tmp_path}/state.sqlite3")
    poster, turn = Restoring(), Turn()
    deliverer = Deliverer("discord", poster, store, one_line, poll=0.02, election=turn)
    deliverer.start()
    await asyncio.sleep(0.1)
    assert poster.restored == 0  # not the sender: nothing to reload
    turn.mine = True
    await until(lambda: deliverer.sending)
    await asyncio.sleep(0.1)
    assert poster.restored == 1  # once, on becoming the sender, not at every look
    await deliverer.stop()
    store.close()
