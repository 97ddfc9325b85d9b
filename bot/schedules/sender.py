"""Which process sends for a token: one at a time, elected by the database.

Discord's limits (50 requests/s, 5 per 5 s in a channel) hold per token, however many processes
share it. Rather than book every request in a shared table (a round trip per request, and
processes whose timing drifts under load still bunch their requests into 429s), one process is
the token's *sender*: it holds a session-level PostgreSQL advisory lock and paces with the
in-memory ``Pacer`` exactly as a single process does. The others tick the schedules and write
the ledger rows, answer their shards' commands, and keep trying the lock. When the sender's
process dies, its database session ends and the lock is free; the process that takes it knows
the old sender is gone and frees its leases at once instead of waiting them out.

No consensus code of our own: the database decides who holds the lock. On SQLite (one process)
the only process is the sender.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from bot.schedules.store import Store

log = logging.getLogger(__name__)


class Election(Protocol):
    def take(self) -> bool:
        """Blocking and short: is this process the sender now (taking the role if it is free)?"""
        ...

    def resign(self) -> None:
        """A clean stop: another process may take over at once."""
        ...


class Alone:
    """One process on its database: always the sender."""

    def take(self) -> bool:
        return True

    def resign(self) -> None:
        pass


def lock_key(name: str) -> int:
    """The advisory lock's 64-bit key for the sender of ``name`` (stable across processes)."""
    digest = hashlib.blake2b(f"digest-bot sender {name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLock:
    """The sender is the process whose own connection holds ``pg_try_advisory_lock(key)``.

    The lock belongs to that connection's session, not to a transaction: it lasts until the
    connection closes, which the server notices when the process dies (its socket closes). A
    connection that broke (a database restart) lost the lock with it: ``take`` checks the
    connection each time and, if it is gone, tries again on a new one.
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.key = lock_key(name)
        self.name = name
        self._conn: Connection | None = None

    def take(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            except Exception as exc:  # the connection broke, and the lock went with it
                log.warning("lost the %s sender's lock (%s)", self.name, exc)
                self._drop()
        try:
            conn = self.engine.connect()
        except Exception:  # the database is away: not the sender until it is back
            return False
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            )
            conn.commit()
        except Exception:
            conn.invalidate()  # whatever state it is in, it goes nowhere near the pool
            conn.close()
            return False
        if not got:  # another process sends; this connection holds nothing
            conn.close()
            return False
        self._conn = conn
        log.info("this process is now the %s sender", self.name)
        return True

    def resign(self) -> None:
        self._drop()

    def _drop(self) -> None:
        """Close the connection for good (never back into the pool still holding the lock)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.invalidate()
            conn.close()


def election_for(store: Store, name: str) -> Election | None:
    """The advisory lock when other processes may share the database; None when this process
    is alone on it (a SQLite file), and so the sender."""
    return AdvisoryLock(store.engine, name) if store.shared else None
