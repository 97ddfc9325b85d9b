"""The publish budget and schedule health: pure state over an injected clock, persisted so a
restart neither forgets the budget nor announces a flag twice."""

from __future__ import annotations

from pathlib import Path

from bot.schedules.budget import BudgetLimits, PublishBudget
from bot.schedules.health import Health, HealthState
from bot.schedules.store import Store
from bot.schedules.tables import StateTables


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_budget_is_per_channel_and_slides() -> None:
    clock = Clock()
    budget = PublishBudget(BudgetLimits(per_channel=3, period=3600), clock)
    taken = [budget.take("news") for _ in range(3)]
    assert all(t is not None for t in taken)
    assert budget.take("news") is None
    assert budget.remaining("news") == 0
    assert budget.take("other") is not None  # its own budget
    assert budget.free_at("news") == clock.now + 3600
    clock.now += 3600.5
    assert budget.remaining("news") == 3


def test_a_refund_gives_the_publish_back() -> None:
    budget = PublishBudget(BudgetLimits(per_channel=1, period=60), Clock())
    at = budget.take("news")
    assert at is not None
    assert budget.remaining("news") == 0
    budget.refund("news", at)
    assert budget.remaining("news") == 1


def test_a_429_holds_the_channel() -> None:
    clock = Clock()
    budget = PublishBudget(BudgetLimits(per_channel=10, period=3600), clock)
    budget.take("news")
    until = budget.hold("news", 1200.0)
    assert until == clock.now + 1200
    assert budget.remaining("news") == 0
    assert budget.take("news") is None
    assert budget.free_at("news") == until
    clock.now = until + 1
    assert budget.remaining("news") == 9


def test_usage_survives_a_restart(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    tables = StateTables(store.engine)
    clock = Clock()
    budget = PublishBudget(BudgetLimits(per_channel=2, period=3600), clock)
    for _ in range(2):
        at = budget.take("news")
        assert at is not None
        tables.record_publish("news", at)
    tables.record_publish("news", clock.now - 7200)  # expired: pruned on load
    tables.hold_publishing("alerts", clock.now + 600)
    store.close()

    store = Store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    tables = StateTables(store.engine)
    clock.now += 60
    again = PublishBudget(BudgetLimits(per_channel=2, period=3600), clock)
    uses, holds = tables.publishing(since=clock.now - 3600)
    again.restore(uses, holds)
    assert again.remaining("news") == 0
    assert again.remaining("alerts") == 0
    assert len(uses) == 2
    tables.forget_publish("news", uses[0][1])
    assert len(tables.publishing(since=clock.now - 3600)[0]) == 1
    store.close()


def test_one_notice_when_flagged_and_one_when_recovered() -> None:
    health = Health(failures_to_flag=3)
    notices = [health.failed("s1", "500 from Discord", permanent=False)[1] for _ in range(5)]
    assert [n is not None for n in notices] == [False, False, True, False, False]
    flagged = notices[2]
    assert flagged is not None
    assert flagged.kind == "flagged"
    assert "3 posts in a row" in flagged.reason
    assert health.flagged("s1")
    _, recovered = health.succeeded("s1")
    assert recovered is not None
    assert recovered.kind == "recovered"
    assert health.succeeded("s1")[1] is None
    assert health.flagged("s1") is None


def test_a_missing_channel_flags_at_once() -> None:
    health = Health(failures_to_flag=3)
    state, notice = health.failed("s2", "403 Missing Permissions", permanent=True)
    assert notice is not None
    assert notice.reason == "403 Missing Permissions"
    assert state == HealthState("s2", 1, "403 Missing Permissions")
    assert health.failed("s2", "403 Missing Permissions", permanent=True)[1] is None
    text = notice.text("latest digest to discord:1")
    assert "s2" in text
    assert "/schedule remove s2" in text


def test_a_restored_flag_is_not_announced_again() -> None:
    health = Health()
    health.restore([HealthState("s3", 0, "404 Unknown Channel")])
    assert health.failed("s3", "404 Unknown Channel", permanent=True)[1] is None
    _, recovered = health.succeeded("s3")
    assert recovered is not None
    assert recovered.kind == "recovered"


def test_a_digests_thread_is_remembered(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    tables = StateTables(store.engine)
    assert tables.thread_of("discord", "1", "d") is None
    tables.set_thread("discord", "1", "d", "99")
    tables.set_thread("discord", "1", "d", "100")
    assert tables.thread_of("discord", "1", "d") == "100"
    assert tables.thread_of("discord", "2", "d") is None
    store.close()


def test_reloading_the_usage_replaces_it() -> None:
    """A process reloads the budget at start and again when it becomes the sender: the second
    load must not count the first's uses twice, nor keep what the store no longer holds."""
    clock = Clock()
    budget = PublishBudget(BudgetLimits(per_channel=3, period=3600), clock)
    uses = [("news", clock.now - 60)]
    budget.restore(uses, [])
    budget.restore(uses, [])
    assert budget.remaining("news") == 2
    budget.restore(
        [("news", clock.now - 30), ("news", clock.now - 20)], [("alerts", clock.now + 9)]
    )
    assert budget.remaining("news") == 1
    assert budget.remaining("alerts") == 0
