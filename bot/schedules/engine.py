"""The one way the bot opens its database: SQLAlchemy's engine with SQLite's settings, closed
without leaving a connection open behind it. Used by the store (ledger, schedules, state
tables) and the desk's accounts, which share ``DATABASE_URL``."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from bot.schedules import migrations


class Database:
    """An engine whose connections still out at ``close`` are closed when they come back.

    At shutdown a cancelled task can leave its database call running in a worker thread. The
    connection it hands back afterwards goes to the disposed pool, which would keep it open
    until the garbage collector found it (a PostgreSQL session left open, and a
    ``ResourceWarning``). The pool's records of checked-out connections say which ones those
    are; a record belongs to one pool, so the engine's next pool (a store used again after
    ``close``) is not affected.
    """

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._out: set[Any] = set()
        self._orphans: set[Any] = set()
        self._lock = threading.Lock()  # the pool's events come from worker threads
        event.listen(self.engine, "checkout", self._checked_out)
        event.listen(self.engine, "checkin", self._checked_in)

    def close(self) -> None:
        with self._lock:
            self._orphans |= self._out
        self.engine.dispose()

    def _checked_out(self, _dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        with self._lock:
            self._out.add(record)

    def _checked_in(self, dbapi_connection: Any, record: Any) -> None:
        with self._lock:
            self._out.discard(record)
            orphan = record in self._orphans
            self._orphans.discard(record)
        if orphan and dbapi_connection is not None:  # None: invalidated, nothing left open
            dbapi_connection.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # first: switching to WAL may wait for a lock
    cursor.execute(f"PRAGMA busy_timeout={migrations.BUSY_WAIT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")  # a SIGKILL loses no committed row
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
