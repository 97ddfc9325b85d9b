"""Desk accounts and the sign-in throttle; ``desk-user`` and ``desk`` as real processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.desk.accounts import AccountError, Accounts, Throttle
from tests.desk.harness import FAST_HASHER, PASSWORD
from tests.test_cli import bot


def test_passwords_are_stored_as_argon2_hashes_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    accounts = Accounts(url, hasher=FAST_HASHER)
    accounts.add("ed", "editor", PASSWORD)
    with accounts.engine.begin() as conn:
        stored = conn.execute(text("select password_hash from desk_users")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
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
    assert accounts.remove("ed") and not accounts.remove("ed")
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


def test_desk_user_cli_adds_lists_and_removes(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("database: db.sqlite3\n", "utf-8")
    config = ["--config", str(tmp_path / "config.yaml")]
    done = bot("desk-user", *config, "add", "ada", "--role", "admin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "added ada (admin)"
    again = bot("desk-user", *config, "add", "ada", "--role", "editor", stdin=PASSWORD + "\n")
    assert again.returncode == 2 and "exists already" in again.stderr
    listed = bot("desk-user", *config, "list")
    assert re.fullmatch(r"ada\tadmin\t\d{4}-\d\d-\d\d\n", listed.stdout)
    assert PASSWORD not in listed.stdout + listed.stderr
    assert bot("desk-user", *config, "remove", "ada").returncode == 0
    assert bot("desk-user", *config, "remove", "ada").returncode == 2
    assert bot("desk-user", *config, "list").stdout == ""
    key = bot("desk-user", "key").stdout.strip()
    assert len(key) == 44 and key.endswith("=")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_python_m_bot_desk_serves_on_loopback(tmp_path: Path) -> None:
    port = _free_port()
    (tmp_path / "digests").mkdir()
    (tmp_path / "config.yaml").write_text(
        f"database: db.sqlite3\ndigests: digests\ndesk:\n  port: {port}\n", "utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k != "DESK_SECRET"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "desk", "--config", str(tmp_path / "config.yaml")],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as answer:
                    page = answer.read().decode()
                    headers = answer.headers
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the desk did not start"
                time.sleep(0.2)
        assert "Sign in" in page
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
    assert "DESK_SECRET is not set" in err
    assert "no desk accounts yet" in err
    assert f"serving on http://127.0.0.1:{port}/" in err


def test_a_bad_desk_secret_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("database: db.sqlite3\n", "utf-8")
    done = bot("desk", "--config", str(tmp_path / "config.yaml"), env={"DESK_SECRET": "hunter2"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: DESK_SECRET is not a Fernet key")
    assert "hunter2" not in done.stderr
