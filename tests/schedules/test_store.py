"""The store on its own: the ledger's claim, marks and resumes, flags, schedules, marks."""

from __future__ import annotations

import gc
import threading
import warnings
from collections.abc import Iterator

import pytest

from bot.schedules.spec import Delivery
from bot.schedules.store import Store
from tests.postgres.harness import Postgres


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


def row(channel: str = "news", slot: str = "2024-08-09T05:00Z", schedule: str = "s1") -> Delivery:
    return Delivery("console", channel, "kursk", slot, schedule, "pending")


def test_a_claim_says_whether_it_made_the_row(store: Store) -> None:
    first, created = store.claim(row())
    assert created
    assert first == row()
    store.mark(first.key, "sent", message_id="m1", attempted=True)
    again, created_again = store.claim(row())
    assert not created_again
    assert again.state == "sent"
    assert again.message_id == "m1"
    assert again.attempts == 1


def test_pending_rows_are_resumed_and_finished_ones_are_not(store: Store) -> None:
    store.claim(row("a"))
    store.claim(row("b"))
    store.mark(row("b").key, "sent", message_id="m", attempted=True)
    assert [r.channel for r in store.unfinished()] == ["a"]
    assert store.posted_digests("console", "a") == {"kursk"}  # pending counts: never posted twice
    store.mark(row("a").key, "failed", error="boom", attempted=True)
    assert store.unfinished() == []
    assert store.posted_digests("console", "a") == set()


def test_a_flag_survives_a_restart_and_a_sent_post_clears_it(db_url: str) -> None:
    url = db_url
    store = Store(url)
    store.flag("s1", "cannot post to news: 404 Unknown Channel")
    store.flag("s1", "cannot post to news: 403 Missing Access")  # the newest reason wins
    store.close()
    reopened = Store(url)
    assert reopened.flagged() == {"s1": "cannot post to news: 403 Missing Access"}
    claimed, _ = reopened.claim(row(schedule="s1"))
    reopened.mark(claimed.key, "failed", error="transient")
    assert "s1" in reopened.flagged()
    reopened.mark(claimed.key, "sent", message_id="m")
    assert reopened.flagged() == {}
    reopened.close()


def test_removing_a_schedule_removes_its_mark_and_flag(store: Store) -> None:
    store.save_schedule("s1", {"platform": "console"})
    store.set_last_slot("s1", "2024-08-09T05:00:00+00:00")
    store.flag("s1", "gone")
    assert store.load_schedules() == [("s1", {"platform": "console"})]
    assert store.remove_schedule("s1")
    assert store.load_schedules() == []
    assert store.last_slot("s1") is None
    assert store.flagged() == {}
    assert not store.remove_schedule("s1")


def test_the_nonce_is_deterministic_and_fits_discord(store: Store) -> None:
    assert row().nonce == row().nonce
    assert row().nonce != row("other").nonce
    assert len(row().nonce) <= 25


def test_claim_many_creates_only_rows_that_do_not_exist(store: Store) -> None:
    first, _ = store.claim(row("news"))
    store.mark(first.key, "sent", message_id="m1", attempted=True)
    rows = [row("news"), row("sport"), row("sport"), row("world")]
    created = store.claim_many(rows)
    assert sorted(r.channel for r in created) == ["sport", "world"]  # one each, news untouched
    assert store.get(row("news").key) == store.get(first.key)
    news = store.get(row("news").key)
    assert news is not None
    assert news.state == "sent"
    assert news.message_id == "m1"
    assert store.claim_many(rows) == []  # a second writer (another process) creates nothing
    assert store.posted_by_channel("console", ["news", "sport", "elsewhere"]) == {
        "news": {"kursk"},
        "sport": {"kursk"},
    }


def test_marks_of_many_schedules_are_read_and_moved_together(store: Store) -> None:
    ids = [f"s{i}" for i in range(1200)]  # more than one statement's chunk
    store.set_last_slot("s7", "2024-08-01T00:00:00+00:00")
    assert store.last_slots(ids) == {"s7": "2024-08-01T00:00:00+00:00"}
    store.set_last_slots(ids, "2024-08-09T05:00:00+00:00")
    marks = store.last_slots(ids)
    assert len(marks) == 1200
    assert set(marks.values()) == {"2024-08-09T05:00:00+00:00"}


def test_a_connection_still_in_use_at_close_is_closed_when_it_comes_back(
    postgres: Postgres,
) -> None:
    """A task cancelled at shutdown leaves its database call running in a worker thread; the
    store is closed meanwhile. The connection that thread hands back after the close must be
    closed, not parked in the old pool until the garbage collector finds it open."""
    store = Store(postgres.create_database())
    holding, release = threading.Event(), threading.Event()

    def slow_call() -> None:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            holding.set()
            release.wait(5)

    worker = threading.Thread(target=slow_call)
    worker.start()
    assert holding.wait(5)
    store.close()
    release.set()
    worker.join(5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
