"""What the publish budget, digest threads and channel kinds must remember across restarts (and
share between processes), in the same database as the ledger (its tables are the store's:
created and migrated with it; SQLAlchemy Core as in the store).

Blocking and short, like the store: async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Connection,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from bot.schedules.store import _upsert, channel_kinds, digest_threads, publish_holds, publish_uses


@dataclass(frozen=True)
class SeenChannel:
    """A channel's kind (``targets.Kind``) and server, as the process that sees it found them."""

    kind: str
    guild: str | None


class StateTables:
    def __init__(self, engine: Engine) -> None:
        """``engine``: a ``Store``'s, whose migrations made these tables."""
        self.engine = engine
        self._lock = threading.Lock()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._lock, self.engine.begin() as conn:
            yield conn

    # -- the publish budget ---------------------------------------------------------------------
    def record_publish(self, channel: str, at: float) -> None:
        with self._tx() as conn:
            conn.execute(insert(publish_uses).values(channel=channel, at=at))

    def forget_publish(self, channel: str, at: float) -> None:
        """Undo one ``record_publish`` (two publishes may share a timestamp)."""
        with self._tx() as conn:
            row = conn.execute(
                select(publish_uses.c.id)
                .where(publish_uses.c.channel == channel, publish_uses.c.at == at)
                .limit(1)
            ).first()
            if row is not None:
                conn.execute(delete(publish_uses).where(publish_uses.c.id == row.id))

    def hold_publishing(self, channel: str, until: float) -> None:
        with self._tx() as conn:
            done = conn.execute(
                update(publish_holds).where(publish_holds.c.channel == channel).values(until=until)
            )
            if not done.rowcount:
                conn.execute(insert(publish_holds).values(channel=channel, until=until))

    def publishing(self, since: float) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Uses and holds still relevant at ``since``; older rows are deleted."""
        with self._tx() as conn:
            conn.execute(delete(publish_uses).where(publish_uses.c.at <= since))
            conn.execute(delete(publish_holds).where(publish_holds.c.until <= since))
            uses = conn.execute(select(publish_uses.c.channel, publish_uses.c.at))
            holds = conn.execute(select(publish_holds.c.channel, publish_holds.c.until))
            return [(r.channel, r.at) for r in uses], [(r.channel, r.until) for r in holds]

    # -- a digest's thread in a channel (a forum post; a Matrix thread root) ---------------------
    def thread_of(self, platform: str, channel: str, digest_id: str) -> str | None:
        with self._tx() as conn:
            row = conn.execute(
                select(digest_threads.c.thread).where(
                    digest_threads.c.platform == platform,
                    digest_threads.c.channel == channel,
                    digest_threads.c.digest_id == digest_id,
                )
            ).first()
            return row.thread if row else None

    def set_thread(self, platform: str, channel: str, digest_id: str, thread: str) -> None:
        with self._tx() as conn:
            where = (
                digest_threads.c.platform == platform,
                digest_threads.c.channel == channel,
                digest_threads.c.digest_id == digest_id,
            )
            conn.execute(delete(digest_threads).where(*where))
            conn.execute(
                insert(digest_threads).values(
                    platform=platform, channel=channel, digest_id=digest_id, thread=thread
                )
            )

    # -- a channel's kind, seen by the process whose shard has its server ------------------------
    def remember_channel(self, platform: str, channel: str, seen: SeenChannel) -> None:
        with self._tx() as conn:
            _upsert(
                conn,
                channel_kinds,
                platform=platform,
                channel=channel,
                kind=seen.kind,
                guild=seen.guild,
                seen_at=datetime.now(UTC),
            )

    def seen_channel(self, platform: str, channel: str) -> SeenChannel | None:
        with self._tx() as conn:
            row = conn.execute(
                select(channel_kinds.c.kind, channel_kinds.c.guild).where(
                    channel_kinds.c.platform == platform, channel_kinds.c.channel == channel
                )
            ).first()
            return SeenChannel(row.kind, row.guild) if row else None
