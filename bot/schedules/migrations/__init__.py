"""Schema migrations (Alembic), run by the store at start-up: no ``alembic.ini`` needed.

Every schema change is a new file in ``versions/`` (``0001`` is the schema of the first
release). ``upgrade(engine)`` brings any database to the newest version in place:

* a database from before migrations (made by ``metadata.create_all``: tables but no
  ``alembic_version``) is stamped first — ``0003`` when it has the ``edits`` table (the release
  with corrections, publishing and threads), ``0002`` when it has ``flags``, else ``0001`` —
  then upgraded;
* processes starting together migrate one at a time: an advisory lock on PostgreSQL, an
  exclusive transaction on SQLite.

To write a migration, copy the newest file in ``versions/``, give it the next number as
``revision`` and the previous one as ``down_revision``, set ``HEAD`` below to it, and change
``bot.schedules.store`` to match; ``tests/schedules/test_migrations.py`` checks that they agree,
on SQLite and PostgreSQL. Alembic is imported only when a database is behind ``HEAD``: every
start pays one query, not Alembic's import.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, MetaData, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).resolve().parent
HEAD = "0005"
"""The newest revision in ``versions/``."""
LOCK_KEY = 0x6469676573  # "diges": any constant shared by every process of this bot


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (the newest by default), in one transaction."""
    if revision == "head" and current(engine) == HEAD:
        return
    from alembic import command

    with _one_at_a_time(engine) as conn:
        names = set(inspect(conn).get_table_names())
        if "deliveries" in names and "alembic_version" not in names:  # made by create_all
            command.stamp(config(conn), stamp_for(names))
        command.upgrade(config(conn), revision)


BUSY_WAIT_MS = 5_000
"""How long a SQLite statement waits for another connection's lock (milliseconds)."""
SCHEMA_WAIT_MS = 60_000
"""How long a SQLite start waits for another process's schema change (milliseconds)."""


def create_all(engine: Engine, metadata: MetaData) -> None:
    """Create the missing tables of a module that keeps its own (the pipeline's queue, the
    desk's accounts), one process at a time like a migration: two processes creating a table at
    once collide on PostgreSQL (a unique violation in its catalogue) and one of them dies."""
    with _one_at_a_time(engine) as conn:
        metadata.create_all(conn)


@contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[Connection]:
    """A transaction no other process of this bot runs schema changes beside."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        elif conn.dialect.name == "sqlite":
            # The others wait their turn: behind three processes' migrations on a loaded machine
            # that is longer than the store's usual busy_timeout (5 s), so wait up to a minute.
            conn.exec_driver_sql(f"PRAGMA busy_timeout={SCHEMA_WAIT_MS}")
            try:
                conn.exec_driver_sql("BEGIN EXCLUSIVE")
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
        yield conn


def stamp_for(names: set[str]) -> str:
    """The revision a ``create_all`` database with these tables was made at."""
    if "edits" in names:
        return "0003"
    return "0002" if "flags" in names else "0001"


def current(engine: Engine) -> str | None:
    """The database's revision (None before any migration)."""
    with engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None
