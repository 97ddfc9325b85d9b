"""State that must survive restarts: schedules added in chat, the delivery ledger, progress marks.

SQLite file by default; any SQLAlchemy URL (PostgreSQL) when ``DATABASE_URL`` is set. Calls are
blocking and short: async callers run them with ``asyncio.to_thread``. The schema is migrated to
the newest version when a store opens (``bot.schedules.migrations``).

The ledger is what makes a post happen once: a row keyed (platform, channel, digest, slot) is
written *before* the send and marked *after* it, so a crash between the two leaves a ``pending``
row that the next start resumes (with the same nonce), and a ``sent`` row is never sent again.

Several processes may share one database. Writing a row does not make its writer the sender:
a sender first takes a *lease* on pending rows (``lease``: owner and expiry; ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, a conditional UPDATE everywhere), keeps it fresh while it holds them
(``renew``) and checks it right before each send (``holds``). A process that dies stops
renewing, so after ``LEASE`` its rows are free and another process takes them; its half-done
send is repeated with the same nonce. Leases compare the processes' clocks: keep them in step
(NTP), as any host running a scheduler does.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.schedules import migrations
from bot.schedules.engine import Database
from bot.schedules.spec import OLD_ID_HEX, Delivery, State

metadata = MetaData()

schedules = Table(
    "schedules",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("spec", Text, nullable=False),  # JSON of ScheduleSpec, so columns need no migration
    Column("created_at", DateTime(timezone=True), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("digest_id", String(80), primary_key=True),
    Column("slot", String(32), primary_key=True),  # UTC ISO time of the cron slot, or "test-…"
    Column("schedule_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("message_id", String(64)),
    Column("error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("lease_owner", String(64)),  # the process sending it, while lease_until is ahead
    Column("lease_until", DateTime(timezone=True)),
    Index("deliveries_by_state", "state", "platform"),
)

delivery_messages = Table(
    "delivery_messages",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("digest_id", String(80), primary_key=True),
    Column("slot", String(32), primary_key=True),
    Column("part", Integer, primary_key=True),  # a paged post is several messages: 0, 1, …
    Column("message_id", String(255), nullable=False),
)

edits = Table(
    "edits",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("digest_id", String(80), primary_key=True),
    Column("slot", String(32), primary_key=True),
    Column("version", String(32), primary_key=True),  # the correction's time, UTC ISO
    Column("state", String(16), nullable=False),  # pending | done | gone | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("lease_owner", String(64)),  # the process editing it, while lease_until is ahead
    Column("lease_until", DateTime(timezone=True)),
)

snapshots = Table(
    "digest_snapshots",
    metadata,
    Column("digest_id", String(80), primary_key=True),
    Column("data", Text, nullable=False),  # JSON of the digest as last seen live
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

publish_uses = Table(  # schedules.tables: the publish budget (Discord announcements)
    "publish_uses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(255), nullable=False, index=True),
    Column("at", Float, nullable=False),  # seconds since the epoch
)

publish_holds = Table(
    "publish_holds",
    metadata,
    Column("channel", String(255), primary_key=True),
    Column("until", Float, nullable=False),
)

digest_threads = Table(
    "digest_threads",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("digest_id", String(80), primary_key=True),
    Column("thread", String(255), nullable=False),
)

channel_kinds = Table(  # schedules.tables: what the process seeing a channel's server found
    "channel_kinds",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("kind", String(16), nullable=False),  # targets.Kind
    Column("guild", String(32)),  # its server, where the platform has them
    Column("seen_at", DateTime(timezone=True), nullable=False),
)


marks = Table(
    "marks",
    metadata,
    Column("schedule_id", String(64), primary_key=True),
    Column("last_slot", String(32), nullable=False),  # newest slot already handled
)

flags = Table(
    "flags",
    metadata,
    Column("schedule_id", String(64), primary_key=True),
    Column("error", Text, nullable=False),  # why its channel cannot be posted to
    Column("flagged_at", DateTime(timezone=True), nullable=False),
)

LEASE = timedelta(seconds=15)
"""How long a lease lasts unless renewed: a dead process's rows are taken over within this."""


def _now() -> datetime:
    return datetime.now(UTC)


def process_owner() -> str:
    """A lease owner name unique to this store: host, pid and a random part."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Store:
    def __init__(
        self,
        url: str,
        *,
        owner: str | None = None,
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = url
        self.owner = owner or process_owner()
        self.lease_time = lease
        self.clock = clock or _now
        self._database = Database(url)
        self.engine: Engine = self._database.engine
        migrations.upgrade(self.engine)
        self._lock = threading.Lock()

    @property
    def shared(self) -> bool:
        """True when other processes can share this database (PostgreSQL), not a SQLite file."""
        return self.engine.dialect.name == "postgresql"

    def close(self) -> None:
        self._database.close()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._lock, self.engine.begin() as conn:
            yield conn

    # -- schedules added in chat --------------------------------------------------------------
    def save_schedule(self, schedule_id: str, spec: dict[str, Any]) -> None:
        with self._tx() as conn:
            conn.execute(delete(schedules).where(schedules.c.id == schedule_id))
            conn.execute(
                insert(schedules).values(
                    id=schedule_id, spec=json.dumps(spec), created_at=self.clock()
                )
            )

    def remove_schedule(self, schedule_id: str) -> bool:
        with self._tx() as conn:
            done = conn.execute(delete(schedules).where(schedules.c.id == schedule_id))
            conn.execute(delete(marks).where(marks.c.schedule_id == schedule_id))
            conn.execute(delete(flags).where(flags.c.schedule_id == schedule_id))
            return bool(done.rowcount)

    def load_schedules(self) -> list[tuple[str, dict[str, Any]]]:
        with self._tx() as conn:
            rows = conn.execute(select(schedules.c.id, schedules.c.spec).order_by(schedules.c.id))
            return [(row.id, json.loads(row.spec)) for row in rows]

    def old_ids(self) -> set[str]:
        """Schedule ids of an earlier release (shorter) that marks, flags or the chat schedules
        still use: none once :meth:`adopt` has run for them."""
        found: set[str] = set()
        with self._tx() as conn:
            for column in (schedules.c.id, marks.c.schedule_id, flags.c.schedule_id):
                query = select(column).where(func.length(column) == 1 + OLD_ID_HEX)
                found.update(conn.execute(query).scalars())
        return found

    def adopt(self, old: str, new: str) -> None:
        """A schedule's old id becomes its new one everywhere (its stored spec, progress mark,
        flag and ledger rows), so that an upgrade neither re-posts nor skips a slot. Several
        processes may run it at once: whichever comes second finds nothing left to move."""
        with self._tx() as conn:
            conn.execute(update(schedules).where(schedules.c.id == old).values(id=new))
            for table in (marks, flags):
                taken = select(table.c.schedule_id).where(table.c.schedule_id == new)
                if conn.execute(taken).first() is None:
                    conn.execute(
                        update(table).where(table.c.schedule_id == old).values(schedule_id=new)
                    )
                else:
                    conn.execute(delete(table).where(table.c.schedule_id == old))
            conn.execute(
                update(deliveries).where(deliveries.c.schedule_id == old).values(schedule_id=new)
            )

    # -- progress marks -----------------------------------------------------------------------
    def last_slot(self, schedule_id: str) -> str | None:
        return self.last_slots([schedule_id]).get(schedule_id)

    def set_last_slot(self, schedule_id: str, slot: str) -> None:
        with self._tx() as conn:
            _upsert(conn, marks, schedule_id=schedule_id, last_slot=slot)

    def last_slots(self, schedule_ids: Sequence[str]) -> dict[str, str]:
        """The marks of many schedules in a few queries (a slot shared by 10,000 schedules)."""
        found: dict[str, str] = {}
        with self._tx() as conn:
            for chunk in _chunks(schedule_ids):
                rows = conn.execute(
                    select(marks.c.schedule_id, marks.c.last_slot).where(
                        marks.c.schedule_id.in_(chunk)
                    )
                )
                found.update((row.schedule_id, row.last_slot) for row in rows)
        return found

    def set_last_slots(self, schedule_ids: Sequence[str], slot: str) -> None:
        """Move many schedules' marks to ``slot`` in one transaction."""
        if not schedule_ids:
            return
        with self._tx() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(marks)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[marks.c.schedule_id],
                    set_={"last_slot": statement.excluded.last_slot},
                ),
                [{"schedule_id": i, "last_slot": slot} for i in schedule_ids],
            )

    # -- flags: a channel the bot cannot post to ----------------------------------------------
    def flag(self, schedule_id: str, error: str) -> None:
        with self._tx() as conn:
            _upsert(conn, flags, schedule_id=schedule_id, error=error, flagged_at=self.clock())

    def flagged(self) -> dict[str, str]:
        with self._tx() as conn:
            rows = conn.execute(select(flags.c.schedule_id, flags.c.error))
            return {row.schedule_id: row.error for row in rows}

    # -- the ledger ---------------------------------------------------------------------------
    def claim(self, delivery: Delivery) -> tuple[Delivery, bool]:
        """Write the row before sending. Returns the row as stored (an existing one wins) and
        whether this call created it."""
        with self._tx() as conn:
            try:
                conn.execute(
                    insert(deliveries).values(
                        platform=delivery.platform,
                        channel=delivery.channel,
                        digest_id=delivery.digest_id,
                        slot=delivery.slot,
                        schedule_id=delivery.schedule_id,
                        state=delivery.state,
                        attempts=0,
                        updated_at=self.clock(),
                    )
                )
                return delivery, True
            except IntegrityError:
                pass
        found = self.get(delivery.key)
        assert found is not None
        return found, False

    def claim_many(self, rows: Sequence[Delivery]) -> list[Delivery]:
        """Write many rows before sending, in one transaction; the rows this call created (a row
        that exists already, written by another process or an earlier run, is left as it is).

        ``ON CONFLICT DO NOTHING``: several processes writing the same slot's rows at once
        neither fail nor wait on each other's keys one row at a time."""
        if not rows:
            return []
        now = self.clock()
        by_key = {row.key: row for row in rows}
        values = [
            {
                "platform": row.platform,
                "channel": row.channel,
                "digest_id": row.digest_id,
                "slot": row.slot,
                "schedule_id": row.schedule_id,
                "state": row.state,
                "attempts": 0,
                "error": row.error,
                "updated_at": now,
            }
            for row in by_key.values()
        ]
        with self._tx() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement = (
                dialect.insert(deliveries)
                .on_conflict_do_nothing()
                .returning(
                    deliveries.c.platform,
                    deliveries.c.channel,
                    deliveries.c.digest_id,
                    deliveries.c.slot,
                )
            )
            found = conn.execute(statement, values).all()  # one multi-row INSERT per 1,000
        return [by_key[(r.platform, r.channel, r.digest_id, r.slot)] for r in found]

    def get(self, key: tuple[str, str, str, str]) -> Delivery | None:
        with self._tx() as conn:
            row = conn.execute(select(deliveries).where(*_key(key))).first()
            return _delivery(row._mapping) if row else None

    def mark(
        self,
        key: tuple[str, str, str, str],
        state: State,
        *,
        message_id: str | None = None,
        error: str | None = None,
        attempted: bool = False,
        message_ids: Sequence[str] = (),
    ) -> None:
        """``message_ids``: every message the post became (kept per message, for edits)."""
        values: dict[str, Any] = {"state": state, "updated_at": self.clock(), "error": error}
        if message_id is not None:
            values["message_id"] = message_id
        if attempted:
            values["attempts"] = deliveries.c.attempts + 1
        with self._tx() as conn:
            conn.execute(update(deliveries).where(*_key(key)).values(**values))
            if message_ids:
                _set_messages(conn, key, message_ids)
            if state == "sent":  # the channel works (again): its schedule is not flagged
                owner = select(deliveries.c.schedule_id).where(*_key(key)).scalar_subquery()
                conn.execute(delete(flags).where(flags.c.schedule_id == owner))

    def set_messages(self, key: tuple[str, str, str, str], message_ids: Sequence[str]) -> None:
        """Every message a post became (a paged post is several), so an edit reaches all."""
        with self._tx() as conn:
            _set_messages(conn, key, message_ids)

    def messages(self, key: tuple[str, str, str, str]) -> list[str]:
        with self._tx() as conn:
            rows = conn.execute(
                select(delivery_messages.c.message_id)
                .where(*_key(key, delivery_messages))
                .order_by(delivery_messages.c.part)
            )
            return [row.message_id for row in rows]

    def sent(self, digest_id: str) -> list[Delivery]:
        """The posts of a digest that reached a channel: what a correction must edit."""
        with self._tx() as conn:
            rows = conn.execute(
                select(deliveries)
                .where(deliveries.c.digest_id == digest_id, deliveries.c.state == "sent")
                .order_by(deliveries.c.updated_at)
            )
            return [_delivery(row._mapping) for row in rows]

    # -- edits (corrections of posted messages) --------------------------------------------------
    def claim_edit(self, key: tuple[str, str, str, str], version: str) -> bool:
        """Write the edit's row before editing, leased to this store; False when it exists
        (done, or another process's / being resumed)."""
        platform, channel, digest_id, slot = key
        now = self.clock()
        with self._tx() as conn:
            try:
                conn.execute(
                    insert(edits).values(
                        platform=platform,
                        channel=channel,
                        digest_id=digest_id,
                        slot=slot,
                        version=version,
                        state="pending",
                        attempts=0,
                        updated_at=now,
                        lease_owner=self.owner,
                        lease_until=now + self.lease_time,
                    )
                )
                return True
            except IntegrityError:
                return False

    def lease_edits(
        self, platforms: Sequence[str] | None = None, limit: int = 100
    ) -> list[tuple[Delivery, str]]:
        """Pending edits nobody holds (a restart's, a dead process's, or handed to the sender),
        of ``platforms`` (all by default), leased to this store: two processes never both edit
        one post."""
        now = self.clock()
        free = or_(edits.c.lease_until.is_(None), edits.c.lease_until < now)
        where = [edits.c.state == "pending", free]
        if platforms is not None:
            where.append(edits.c.platform.in_(platforms))
        query = (
            select(deliveries, edits.c.version)
            .join(edits, _same_post(edits))
            .where(*where)
            .order_by(edits.c.updated_at)
            .limit(limit)
        )
        if self.shared:
            query = query.with_for_update(of=edits, skip_locked=True)
        taken: list[tuple[Delivery, str]] = []
        with self._tx() as conn:
            for row in conn.execute(query).all():
                found = _delivery(row._mapping)
                done = conn.execute(
                    update(edits)
                    .where(
                        *_key(found.key, edits),
                        edits.c.version == row.version,
                        edits.c.state == "pending",
                        free,
                    )
                    .values(lease_owner=self.owner, lease_until=now + self.lease_time)
                )
                if done.rowcount:
                    taken.append((found, row.version))
        return taken

    def holds_edit(self, key: tuple[str, str, str, str], version: str) -> bool:
        """Right before an edit: is it still pending and ours? Extends the lease if so."""
        with self._tx() as conn:
            done = conn.execute(
                update(edits)
                .where(
                    *_key(key, edits),
                    edits.c.version == version,
                    edits.c.state == "pending",
                    edits.c.lease_owner == self.owner,
                )
                .values(lease_until=self.clock() + self.lease_time)
            )
            return bool(done.rowcount)

    def mark_edit(
        self, key: tuple[str, str, str, str], version: str, state: str, error: str | None = None
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                update(edits)
                .where(*_key(key, edits), edits.c.version == version)
                .values(
                    state=state, error=error, updated_at=self.clock(), attempts=edits.c.attempts + 1
                )
            )

    def edit_states(self, digest_id: str) -> list[tuple[tuple[str, str, str, str], str, str]]:
        """(delivery key, version, state) of every edit of a digest's posts."""
        with self._tx() as conn:
            rows = conn.execute(select(edits).where(edits.c.digest_id == digest_id))
            return [
                ((r.platform, r.channel, r.digest_id, r.slot), r.version, r.state) for r in rows
            ]

    # -- what each live digest looked like (to diff a hand edit against) ------------------------
    def snapshot(self, digest_id: str) -> str | None:
        with self._tx() as conn:
            row = conn.execute(
                select(snapshots.c.data).where(snapshots.c.digest_id == digest_id)
            ).first()
            return row.data if row else None

    def save_snapshot(self, digest_id: str, data: str) -> None:
        with self._tx() as conn:
            _upsert(conn, snapshots, digest_id=digest_id, data=data, updated_at=self.clock())

    def unfinished(self, platform: str | None = None) -> list[Delivery]:
        """Rows a crash or a restart left pending: they are resumed, never dropped."""
        query = select(deliveries).where(deliveries.c.state == "pending")
        if platform is not None:
            query = query.where(deliveries.c.platform == platform)
        with self._tx() as conn:
            rows = conn.execute(query.order_by(deliveries.c.updated_at))
            return [_delivery(row._mapping) for row in rows]

    def posted_by_channel(self, platform: str, channels: Sequence[str]) -> dict[str, set[str]]:
        """``posted_digests`` of many channels in a few queries."""
        found: dict[str, set[str]] = {}
        with self._tx() as conn:
            for chunk in _chunks(sorted(set(channels))):
                rows = conn.execute(
                    select(deliveries.c.channel, deliveries.c.digest_id).where(
                        deliveries.c.platform == platform,
                        deliveries.c.channel.in_(chunk),
                        deliveries.c.state.in_(("sent", "pending")),
                    )
                )
                for row in rows:
                    found.setdefault(row.channel, set()).add(row.digest_id)
        return found

    def posted_digests(self, platform: str, channel: str) -> set[str]:
        """The digests sent or on their way to a channel (pending counts: never posted twice)."""
        return self.posted_by_channel(platform, [channel]).get(channel, set())

    def latest(self, schedule_id: str) -> Delivery | None:
        with self._tx() as conn:
            row = conn.execute(
                select(deliveries)
                .where(deliveries.c.schedule_id == schedule_id)
                .order_by(deliveries.c.updated_at.desc())
                .limit(1)
            ).first()
            return _delivery(row._mapping) if row else None

    def all_deliveries(self) -> list[Delivery]:
        with self._tx() as conn:
            rows = conn.execute(select(deliveries).order_by(deliveries.c.updated_at))
            return [_delivery(row._mapping) for row in rows]

    # -- leases: which process sends a pending row ------------------------------------------
    def _free(self, now: datetime) -> Any:
        return or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now)

    def lease(self, platform: str, limit: int) -> list[Delivery]:
        """Take up to ``limit`` pending rows nobody holds (oldest first) for this store.

        PostgreSQL skips rows another transaction is taking (``SKIP LOCKED``) instead of
        waiting for them; the conditional UPDATE is what makes a lease exclusive everywhere:
        of two stores racing for a row, one updates it and the other finds it taken.
        """
        now = self.clock()
        until = now + self.lease_time
        query = (
            select(deliveries)
            .where(
                deliveries.c.platform == platform,
                deliveries.c.state == "pending",
                self._free(now),
            )
            .order_by(deliveries.c.updated_at)
            .limit(limit)
        )
        if self.shared:
            query = query.with_for_update(skip_locked=True)
        taken: list[Delivery] = []
        with self._tx() as conn:
            for row in conn.execute(query).all():
                found = _delivery(row._mapping)
                done = conn.execute(
                    update(deliveries)
                    .where(*_key(found.key), deliveries.c.state == "pending", self._free(now))
                    .values(lease_owner=self.owner, lease_until=until)
                )
                if done.rowcount:
                    taken.append(found)
        return taken

    def holds(self, key: tuple[str, str, str, str]) -> bool:
        """Right before a send: is the row still pending and ours? Extends the lease if so."""
        with self._tx() as conn:
            done = conn.execute(
                update(deliveries)
                .where(
                    *_key(key),
                    deliveries.c.state == "pending",
                    deliveries.c.lease_owner == self.owner,
                )
                .values(lease_until=self.clock() + self.lease_time)
            )
            return bool(done.rowcount)

    def renew(self) -> int:
        """Extend the lease on every pending row (and edit) this store holds; how many."""
        held = 0
        with self._tx() as conn:
            for table in (deliveries, edits):
                done = conn.execute(
                    update(table)
                    .where(table.c.lease_owner == self.owner, table.c.state == "pending")
                    .values(lease_until=self.clock() + self.lease_time)
                )
                held += int(done.rowcount)
        return held

    def take_over(self, platform: str) -> int:
        """This store's process just became the platform's sender, so whoever held leases on its
        pending rows and edits (the old sender) is gone: free them all now, rather than wait
        out ``LEASE``. How many rows."""
        freed = []
        with self._tx() as conn:
            for table in (deliveries, edits):
                done = conn.execute(
                    update(table)
                    .where(
                        table.c.platform == platform,
                        table.c.state == "pending",
                        table.c.lease_owner.is_not(None),
                        table.c.lease_owner != self.owner,
                    )
                    .values(lease_owner=None, lease_until=None)
                )
                freed.append(int(done.rowcount))
        return freed[0]

    def release_edit(self, key: tuple[str, str, str, str], version: str) -> None:
        """Hand an edit this store claimed to whichever process sends for its platform."""
        with self._tx() as conn:
            conn.execute(
                update(edits)
                .where(
                    *_key(key, edits),
                    edits.c.version == version,
                    edits.c.lease_owner == self.owner,
                )
                .values(lease_owner=None, lease_until=None)
            )

    def release(self) -> None:
        """On a clean stop: hand back the rows not yet sent, so others need not wait."""
        with self._tx() as conn:
            for table in (deliveries, edits):
                conn.execute(
                    update(table)
                    .where(table.c.lease_owner == self.owner, table.c.state == "pending")
                    .values(lease_owner=None, lease_until=None)
                )

    def waiting(self, platform: str) -> int:
        """Pending rows this store holds or could take now (rows others hold are theirs)."""
        now = self.clock()
        with self._tx() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(deliveries)
                .where(
                    deliveries.c.platform == platform,
                    deliveries.c.state == "pending",
                    or_(self._free(now), deliveries.c.lease_owner == self.owner),
                )
            ).scalar_one()
            return int(count)


CHUNK = 500
"""Rows per statement of the batch methods (SQLite allows 32,766 parameters in one)."""


T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _upsert(conn: Connection, table: Table, **values: Any) -> None:
    """Insert the row or overwrite the one with its primary key, in one statement: a read (or
    delete) then an insert lets two processes both insert, and one fails on the key."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    keys = [c.name for c in table.primary_key.columns]
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: statement.excluded[name] for name in values if name not in keys},
        )
    )


def _key(key: tuple[str, str, str, str], table: Table = deliveries) -> Sequence[Any]:
    platform, channel, digest_id, slot = key
    return (
        table.c.platform == platform,
        table.c.channel == channel,
        table.c.digest_id == digest_id,
        table.c.slot == slot,
    )


def _same_post(table: Table) -> Any:
    """Join condition: ``table``'s rows of the same post (ledger key) as ``deliveries``."""
    return (
        (table.c.platform == deliveries.c.platform)
        & (table.c.channel == deliveries.c.channel)
        & (table.c.digest_id == deliveries.c.digest_id)
        & (table.c.slot == deliveries.c.slot)
    )


def _set_messages(
    conn: Connection, key: tuple[str, str, str, str], message_ids: Sequence[str]
) -> None:
    platform, channel, digest_id, slot = key
    conn.execute(delete(delivery_messages).where(*_key(key, delivery_messages)))
    for part, message_id in enumerate(message_ids):
        conn.execute(
            insert(delivery_messages).values(
                platform=platform,
                channel=channel,
                digest_id=digest_id,
                slot=slot,
                part=part,
                message_id=message_id,
            )
        )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        platform=row["platform"],
        channel=row["channel"],
        digest_id=row["digest_id"],
        slot=row["slot"],
        schedule_id=row["schedule_id"],
        state=row["state"],
        attempts=row["attempts"],
        message_id=row["message_id"],
        error=row["error"],
        updated_at=row["updated_at"],
    )
