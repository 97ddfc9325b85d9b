"""Migrations: a new database and one made by an earlier release (``metadata.create_all``,
before there were migrations: the first, the one with flags, the one with edits and threads)
all end at the newest schema, which is what ``bot.schedules.store``
declares; on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    inspect,
)

from bot.pipeline.queue import Queue
from bot.schedules import migrations
from bot.schedules.spec import Delivery
from bot.schedules.store import Store, metadata

HEAD = migrations.HEAD


def test_head_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(migrations.config()).get_heads() == [HEAD]


# The first release's tables exactly as its store module declared them: what made its databases.
first_release = MetaData()
Table(
    "schedules",
    first_release,
    Column("id", String(64), primary_key=True),
    Column("spec", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
old_deliveries = Table(
    "deliveries",
    first_release,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("digest_id", String(80), primary_key=True),
    Column("slot", String(32), primary_key=True),
    Column("schedule_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("message_id", String(64)),
    Column("error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
old_marks = Table(
    "marks",
    first_release,
    Column("schedule_id", String(64), primary_key=True),
    Column("last_slot", String(32), nullable=False),
)


def differences(store: Store) -> list[object]:
    with store.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def test_a_new_database_gets_the_newest_schema(db_url: str) -> None:
    store = Store(db_url)
    assert migrations.current(store.engine) == HEAD
    assert differences(store) == []  # the migrations build what the store declares
    store.close()


# The release after it added ``flags``, still by ``create_all``.
with_flags = MetaData()
for table in first_release.tables.values():
    table.to_metadata(with_flags)
Table(
    "flags",
    with_flags,
    Column("schedule_id", String(64), primary_key=True),
    Column("error", Text, nullable=False),
    Column("flagged_at", DateTime(timezone=True), nullable=False),
)


# The release after that (pipeline and channels), still ``create_all``: every message of a post,
# edits, snapshots (the store's metadata) and the publish budget's and threads' tables (their own).
with_posts = MetaData()
for table in with_flags.tables.values():
    table.to_metadata(with_posts)
Table(
    "delivery_messages",
    with_posts,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("digest_id", String(80), primary_key=True),
    Column("slot", String(32), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("message_id", String(255), nullable=False),
)
old_edits = Table(
    "edits",
    with_posts,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("digest_id", String(80), primary_key=True),
    Column("slot", String(32), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Table(
    "digest_snapshots",
    with_posts,
    Column("digest_id", String(80), primary_key=True),
    Column("data", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Table(
    "publish_uses",
    with_posts,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(255), nullable=False, index=True),
    Column("at", Float, nullable=False),
)
Table(
    "publish_holds",
    with_posts,
    Column("channel", String(255), primary_key=True),
    Column("until", Float, nullable=False),
)
Table(
    "digest_threads",
    with_posts,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("digest_id", String(80), primary_key=True),
    Column("thread", String(255), nullable=False),
)


@pytest.mark.parametrize(
    "release", [first_release, with_flags, with_posts], ids=["first", "with-flags", "with-posts"]
)
def test_a_database_from_before_migrations_upgrades_in_place(
    db_url: str, release: MetaData
) -> None:
    engine = create_engine(db_url)
    release.create_all(engine)  # that release's start-up
    when = datetime(2024, 8, 9, 5, 0, 3, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(old_deliveries).values(
                platform="discord",
                channel="123456789012345678",
                digest_id="kursk",
                slot="2024-08-09T05:00Z",
                schedule_id="s1",
                state="pending",
                attempts=1,
                updated_at=when,
            )
        )
        conn.execute(insert(old_marks).values(schedule_id="s1", last_slot=when.isoformat()))
        if release is with_posts:  # a correction of a sent post that was not made yet
            conn.execute(
                insert(old_deliveries).values(
                    platform="discord",
                    channel="223456789012345678",
                    digest_id="kursk",
                    slot="2024-08-09T05:00Z",
                    schedule_id="s1",
                    state="sent",
                    attempts=1,
                    message_id="m1",
                    updated_at=when,
                )
            )
            conn.execute(
                insert(old_edits).values(
                    platform="discord",
                    channel="223456789012345678",
                    digest_id="kursk",
                    slot="2024-08-09T05:00Z",
                    version="2024-08-09T06:00:00Z",
                    state="pending",
                    attempts=0,
                    updated_at=when,
                )
            )
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    made_at = "0001" if release is first_release else "0002" if release is with_flags else "0003"
    assert migrations.stamp_for(names) == made_at
    engine.dispose()

    store = Store(db_url, owner="new")
    assert migrations.current(store.engine) == HEAD
    assert differences(store) == []
    assert store.last_slot("s1") == when.isoformat()
    [row] = [r for r in store.all_deliveries() if r.state == "pending"]
    assert (row.state, row.attempts) == ("pending", 1)
    assert [r.key for r in store.lease("discord", 5)] == [row.key]  # old rows are leasable
    if release is with_posts:  # and an old pending edit is leasable, by one store only
        [(edited, version)] = store.lease_edits()
        assert (edited.channel, version) == ("223456789012345678", "2024-08-09T06:00:00Z")
        assert store.holds_edit(edited.key, version)
        other = Store(db_url, owner="other")
        assert other.lease_edits() == []
        other.close()
    store.close()
    again = Store(db_url)  # opening an upgraded database again changes nothing
    assert migrations.current(again.engine) == HEAD
    assert again.get(row.key) == Delivery(**{**row.__dict__})
    again.close()


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            Store(db_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    store = Store(db_url)
    assert migrations.current(store.engine) == HEAD
    assert differences(store) == []
    store.close()


def test_processes_starting_together_make_the_other_tables_and_write_the_same_rows(
    db_url: str,
) -> None:
    """What every process does at start, at the same moment: the pipeline's own tables are
    created once (two CREATE TABLEs at once collide on PostgreSQL), and the same schedule's
    mark, flag and a digest's snapshot are written by all of them without a key violation."""
    together = threading.Barrier(4, timeout=30)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            together.wait()
            store = Store(db_url)
            together.wait()
            Queue(store.engine)
            together.wait()
            store.set_last_slot("s1", "2024-08-09T05:00:00+00:00")
            store.flag("s1", "channel gone")
            store.save_snapshot("d1", "title: x")
            store.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    store = Store(db_url)
    assert store.last_slot("s1") == "2024-08-09T05:00:00+00:00"
    assert store.flagged() == {"s1": "channel gone"}
    assert store.snapshot("d1") == "title: x"
    assert Queue(store.engine).find(["nothing"]) is None  # its tables are there
    store.close()
