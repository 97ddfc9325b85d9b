"""pytest fixtures for the store, schedule and delivery tests on SQLite *and* PostgreSQL.

``postgres``  one server for the whole session (tests.postgres.harness), stopped at the end;
``db_url``    a fresh empty database per test, once on SQLite and once on PostgreSQL
              (test ids ``[sqlite]`` and ``[postgresql]``).
When there is no PostgreSQL server to run, the ``[postgresql]`` tests are skipped with the
reason — except under ``CI=true``, where they fail instead (``.ci/run`` installs the server).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres.harness import Postgres, PostgresUnavailable, start_postgres

DIALECTS = ("sqlite", "postgresql")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        message = f"PostgreSQL is unavailable, so the PostgreSQL tests cannot run: {exc}"
        if in_ci():
            pytest.fail(message + "\n(CI=true: these tests must run, never skip)", pytrace=False)
        pytest.skip(message)
    yield server
    server.stop()


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLAlchemy URL of an empty database of this test's own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    server: Postgres = request.getfixturevalue("postgres")
    return server.create_database()
