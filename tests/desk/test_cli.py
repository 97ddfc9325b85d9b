"""``desk-user`` and ``desk`` as real processes; ``console`` serving the desk beside the REPL."""

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
from email.message import Message
from pathlib import Path

from tests.desk.harness import PASSWORD
from tests.test_cli import bot

ROOT = Path(__file__).resolve().parents[2]


def test_desk_user_cli_adds_lists_and_removes(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("database: db.sqlite3\n", "utf-8")
    config = ["--config", str(tmp_path / "config.yaml")]
    done = bot("desk-user", *config, "add", "ada", "--role", "admin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "added ada (admin)"
    again = bot("desk-user", *config, "add", "ada", "--role", "editor", stdin=PASSWORD + "\n")
    assert again.returncode == 2
    assert "exists already" in again.stderr
    listed = bot("desk-user", *config, "list")
    assert re.fullmatch(r"ada\tadmin\t\d{4}-\d\d-\d\d\n", listed.stdout)
    assert PASSWORD not in listed.stdout + listed.stderr
    assert bot("desk-user", *config, "remove", "ada").returncode == 0
    assert bot("desk-user", *config, "remove", "ada").returncode == 2
    assert bot("desk-user", *config, "list").stdout == ""
    key = bot("desk-user", "key").stdout.strip()
    assert len(key) == 44
    assert key.endswith("=")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(
    command: str, tmp_path: Path, *, ignore_sigint: bool = False
) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    (tmp_path / "digests").mkdir()
    (tmp_path / "config.yaml").write_text(
        f"database: db.sqlite3\ndigests: digests\ndesk:\n  port: {port}\n", "utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DESK_SECRET", "DISCORD_TOKEN")}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", command, "--config", str(tmp_path / "config.yaml")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_ignore_sigint if ignore_sigint else None,
    )
    return process, port


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _login_page(process: subprocess.Popen[str], port: int) -> tuple[str, Message]:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as answer:
                return answer.read().decode(), answer.headers
        except (urllib.error.URLError, ConnectionError):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the desk did not start"
            time.sleep(0.2)


def test_the_console_serves_the_desk_when_config_has_desk(tmp_path: Path) -> None:
    process, port = _start("console", tmp_path)
    try:
        page, _ = _login_page(process, port)
        assert "Sign in" in page
    finally:
        out, err = process.communicate("/digests\n", timeout=30)  # then EOF ends the REPL
    assert process.returncode == 0, err
    assert "No digests are loaded yet." in out
    assert f"serving on http://127.0.0.1:{port}/" in err


def test_python_m_bot_desk_serves_on_loopback(tmp_path: Path) -> None:
    # SIGINT ignored on the way in, as for a background job of a non-interactive shell
    process, port = _start("desk", tmp_path, ignore_sigint=True)
    try:
        page, headers = _login_page(process, port)
        assert "Sign in" in page
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        # a client that went quiet mid-request must not keep the desk from stopping
        stuck = socket.create_connection(("127.0.0.1", port))
        stuck.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    finally:
        started = time.monotonic()
        process.send_signal(signal.SIGINT)  # Ctrl-C, though it came in ignored
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"the desk did not stop: {process.communicate()}") from None
    assert process.returncode == 0, err
    assert "desk: stopped" in err
    assert time.monotonic() - started < 20
    stuck.close()
    assert "DESK_SECRET is not set" in err
    assert "no desk accounts yet" in err
    assert f"serving on http://127.0.0.1:{port}/" in err


def test_a_bad_desk_secret_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "digests").mkdir()  # a missing digests folder is an error of its own
    (tmp_path / "config.yaml").write_text("database: db.sqlite3\n", "utf-8")
    done = bot("desk", "--config", str(tmp_path / "config.yaml"), env={"DESK_SECRET": "hunter2"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: DESK_SECRET is not a Fernet key")
    assert "hunter2" not in done.stderr


def test_a_port_in_use_or_out_of_range_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "digests").mkdir()
    (tmp_path / "config.yaml").write_text("database: db.sqlite3\n", "utf-8")
    config = ["--config", str(tmp_path / "config.yaml")]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = bot("desk", *config, "--port", str(port))
    assert done.returncode == 2
    assert (
        done.stderr.strip().splitlines()[-1].startswith(f"error: cannot listen on 127.0.0.1:{port}")
    )
    assert "Traceback" not in done.stderr
    wrong = bot("desk", *config, "--port", "70000")
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == "error: --port 70000 is not a port (1-65535)"
