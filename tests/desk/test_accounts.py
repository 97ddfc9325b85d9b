"""Desk accounts and the sign-in throttle."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.desk.accounts import AccountError, Accounts, Throttle
from tests.desk.harness import FAST_HASHER, PASSWORD


def test_passwords_are_stored_as_argon2_hashes_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    accounts = Accounts(url, hasher=FAST_HASHER)
    accounts.add("ed", "editor", PASSWORD)
    with accounts.engine.begin() as conn:
        stored = conn.execute(text("select password_hash from desk_users")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert accounts.verify("ed", PASSWORD) is not None
    assert accounts.verify("ed", PASSWORD + "x") is None
    assert accounts.verify("nobody", PASSWORD) is None
    with pytest.raises(AccountError, match="exists already"):
        accounts.add("ed", "admin", PASSWORD)
    with pytest.raises(AccountError, match="at least 10 characters"):
        accounts.add("short", "editor", "abc")
    with pytest.raises(AccountError, match="role 'boss'"):
        accounts.add("al", "boss", PASSWORD)
    with pytest.raises(AccountError, match="user name"):
        accounts.add("../x", "editor", PASSWORD)
    assert accounts.remove("ed")
    assert not accounts.remove("ed")
    accounts.close()


def test_throttle_doubles_the_wait_after_three_failures() -> None:
    now = [0.0]
    throttle = Throttle(free=3, base=1.0, cap=8.0, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait("name:ed") == 0
        throttle.failed("name:ed", "addr:1")
    assert throttle.wait("name:ed") == 1.0
    assert throttle.wait("addr:1") == 1.0  # the address is slowed down too
    assert throttle.wait("name:al") == 0
    now[0] = 1.0
    throttle.failed("name:ed")
    assert throttle.wait("name:ed") == 2.0
    for _ in range(10):
        throttle.failed("name:ed")
    assert throttle.wait("name:ed") == 8.0  # capped
    throttle.succeeded("name:ed")
    assert throttle.wait("name:ed") == 0
