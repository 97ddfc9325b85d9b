"""The CLI driven as a user would: real processes, real stdin/stdout, exit codes."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ARTICLE, KURSK, ROOT, WriteDigest, base_digest, dump


@pytest.fixture(autouse=True)
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every CLI test runs in a newsroom of its own: ``./config.yaml`` and ``./digests`` holding
    the tests' Kursk digest only, never the repository's ``digests/``."""
    here = tmp_path / "site"
    shutil.copytree(KURSK.parent, here / "digests")
    (here / "config.yaml").write_text("digests: digests\nreload_seconds: 0\n", "utf-8")
    monkeypatch.chdir(here)
    return here


def bot(
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISCORD_TOKEN", "BOT_CONFIG", "MATRIX_ACCESS_TOKEN")
    }
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=60,
    )


def test_ask_prints_the_answer_with_sources() -> None:
    done = bot("ask", "/figures 945 quotes:yes")
    assert done.returncode == 0, done.stderr
    assert (
        "• Claimed by Russia's defence ministry: Ukrainian soldiers lost, up to 945 soldiers"
        in (done.stdout)
    )
    assert "— Russia's defence ministry, via The Telegraph, 9 Aug 2024" in done.stdout
    assert '"Ukraine had lost up to 945 soldiers and 102 pieces of equipment"' in done.stdout


def test_ask_user_error_goes_to_stderr_with_exit_2() -> None:
    done = bot("ask", "/where", "Kursck")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == "error: no place 'Kursck' — did you mean Kursk region?"


def test_console_repl_over_real_stdin() -> None:
    done = bot("console", stdin="/digests\n\n/where Korenevo\n/bogus\n/quit\n/summary\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "kursk-incursion-2024-08-09" in out
    assert "Korenevo (Kursk oblast, Russia)" in out
    assert "error: no command '/bogus'" in out
    assert "Vladimir Putin rushed" not in out  # /quit stopped it before /summary


def test_console_on_a_pipe_answers() -> None:
    done = bot("console", stdin="/summary 1\n")
    assert done.returncode == 0, done.stderr
    assert "1 of" in done.stdout
    assert "— The Telegraph, 9 Aug 2024" in done.stdout


@pytest.mark.parametrize("args", [(), ("run",)])
def test_run_without_a_token_or_a_terminal_fails_naming_the_variables(args: tuple[str]) -> None:
    """A host's worker with no token must not exit 0 (a silent restart loop)."""
    done = bot(*args, stdin="/summary 1\n")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "DISCORD_TOKEN" in lines[0]
    assert "MATRIX_ACCESS_TOKEN" in lines[0]
    assert done.stdout == ""


@pytest.mark.parametrize("args", [(), ("console",)])
def test_closed_stdin_is_one_line_not_a_traceback(args: tuple[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "BOT_CONFIG")}
    env["PYTHONPATH"] = str(ROOT)
    # `digest-bot <&-`: the child starts with file descriptor 0 closed.
    done = subprocess.run(
        ["/bin/sh", "-c", f'exec "{sys.executable}" -m bot {" ".join(args)} <&-'],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_check_default_folder_passes() -> None:
    done = bot("check")
    assert done.returncode == 0, done.stderr
    assert "1 digest valid, 0 problems" in done.stdout


def test_check_reports_file_line_field(write_digest: WriteDigest, tmp_path: Path) -> None:
    data = base_digest()
    data["figures"][0]["value"] = 41
    bad = write_digest(data, name="bad.yaml")
    good = write_digest(name="good.yaml")
    done = bot("check", str(bad), str(good))
    assert done.returncode == 1
    assert f"{bad}:" in done.stderr
    assert ": figures[0].value: 41 does not appear" in done.stderr
    assert "1 digest valid, 1 problem" in done.stdout
    assert "Traceback" not in done.stderr


def test_check_of_a_folder_checks_its_drafts_too(write_digest: WriteDigest, tmp_path: Path) -> None:
    data = base_digest()
    data["figures"][0]["value"] = 41
    write_digest(data, name="new.draft.yaml")
    done = bot("check", str(tmp_path))
    assert done.returncode == 1
    assert "new.draft.yaml:" in done.stderr
    assert "41 does not appear" in done.stderr


def test_draft_of_the_kursk_article_passes_check(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    article = tmp_path / "articles" / "kursk.txt"
    article.write_text((KURSK.parent / "articles" / "kursk-2024-08-09.txt").read_text(), "utf-8")
    out = tmp_path / "kursk.draft.yaml"
    done = bot(
        "draft",
        str(article),
        "--publisher",
        "The Telegraph",
        "--published",
        "2024-08-09",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    checked = bot("check", str(out))
    assert checked.returncode == 0, checked.stderr
    assert "text: articles/kursk.txt" in out.read_text()


def test_check_shows_warnings_but_passes(write_digest: WriteDigest) -> None:
    data = base_digest()
    data["sources"]["mayor"] = {"name": "The mayor", "kind": "official"}
    done = bot("check", str(write_digest(data)))
    assert done.returncode == 0, done.stderr
    assert "sources.mayor: warning: no item uses this source" in done.stderr
    assert done.stdout.strip() == "1 digest valid, 0 problems, 1 warning"


def test_ask_reaches_schedule_list_and_help(site: Path) -> None:
    (site / "config.yaml").write_text(
        "digests: digests\nschedules:\n"
        "  - {platform: console, channel: news, cron: '0 8 * * mon-fri', timezone: Europe/Kyiv}\n"
        "  - {platform: discord, channel: '1100000000000000200', cron: '30 9 * * sat'}\n",
        "utf-8",
    )
    listed = bot("ask", "/schedule list")
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if line.startswith("• ")]
    assert len(lines) == 2, listed.stdout  # the shell sees every platform's schedules
    assert any("news" in line and "next" in line for line in lines)
    assert bot("ask", "/schedule").stdout == listed.stdout
    added = bot("ask", "/schedule add cron:'0 8 * * mon'")
    assert added.returncode == 2
    assert "here only /schedule list" in added.stderr
    helped = bot("ask", "/help schedule")
    assert helped.returncode == 0, helped.stderr
    assert "/schedule add cron: channel: timezone:" in helped.stdout


def test_check_missing_path() -> None:
    done = bot("check", "no/such.yaml")
    assert done.returncode == 1
    assert "no such file or folder" in done.stderr


def test_config_paths_are_relative_to_the_config(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    (folder / "articles").mkdir(parents=True)
    (folder / "articles" / "storm.txt").write_text(ARTICLE, "utf-8")
    (folder / "storm.yaml").write_text(dump(base_digest()), "utf-8")
    config = tmp_path / "conf" / "bot.yaml"
    config.parent.mkdir()
    config.write_text("digests: ../elsewhere\n", "utf-8")
    done = bot("ask", "/digests", "--config", str(config), cwd=ROOT / "bot")
    assert done.returncode == 0, done.stderr
    assert "storm-2024-01-08" in done.stdout
    via_env = bot("ask", "/digests", env={"BOT_CONFIG": str(config)}, cwd=tmp_path)
    assert "storm-2024-01-08" in via_env.stdout


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("reload_seconds: -1\n", ":1: reload_seconds: Input should be greater than or equal to 0"),
        ("digest: x\n", ":1: digest: unknown key"),
        ("discord_token: abc\n", "secrets are read from the environment"),
        ("log_level: LOUD\n", ":1: log_level:"),
        ("digests: [unclosed\n", "invalid YAML"),
        (
            "schedules:\n  - platform: console\n    channel: news\n    cron: '0 8 * * 1'\n",
            ":2: schedules[0]: weekday '1' must use names",
        ),
        (
            "schedules:\n  - {platform: discord, channel: general, cron: '0 8 * * mon'}\n",
            ":2: schedules[0]: channel 'general' is not a Discord channel id",
        ),
        ("catch_up: soon\n", ":1: catch_up: duration 'soon'"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, text: str, fragment: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text, "utf-8")
    done = bot("ask", "/digests", "--config", str(config))
    assert done.returncode == 2
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "abc" not in done.stderr


@pytest.mark.parametrize("args", [("ask", "/digests"), ("console",), ("run",)])
def test_a_missing_digests_folder_is_one_error_at_start(site: Path, args: tuple[str]) -> None:
    (site / "config.yaml").write_text("digests: no-such-folder\n", "utf-8")
    # With a token, `run` fails on the folder before it connects anywhere.
    done = bot(*args, stdin="/digests\n", env={"DISCORD_TOKEN": "x"} if "run" in args else None)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: config.yaml: digests: folder {site / 'no-such-folder'} not found"
    )
    assert done.stdout == ""


def test_missing_named_config() -> None:
    done = bot("check", "--config", "nowhere.yaml")
    assert done.returncode == 2
    assert "nowhere.yaml: no such config file" in done.stderr


@pytest.mark.parametrize("sub", ["run", "console", "ask", "check", "draft", "sync"])
def test_help_on_every_subcommand(sub: str) -> None:
    done = bot(sub, "--help")
    assert done.returncode == 0
    assert "--config" in done.stdout


def test_console_picks_up_digests_while_running(tmp_path: Path) -> None:
    import time

    folder = tmp_path / "digests"
    (folder / "articles").mkdir(parents=True)
    (folder / "articles" / "storm.txt").write_text(ARTICLE, "utf-8")
    config = tmp_path / "config.yaml"
    config.write_text("digests: digests\nreload_seconds: 0.05\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "BOT_CONFIG")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write("/summary\n")
    proc.stdin.flush()
    # The first answer comes before the digest is written (under load, start-up alone can
    # take longer than any fixed sleep).
    first = proc.stdout.readline()
    (folder / "storm.yaml").write_text(dump(base_digest()), "utf-8")
    time.sleep(1.0)
    (folder / "storm.yaml").write_text("schema: 1\nid: [broken\n", "utf-8")
    time.sleep(1.0)
    out, err = proc.communicate("/summary\n", timeout=30)
    out = first + out
    assert proc.returncode == 0, err
    assert "error: no digests are loaded yet" in first
    assert re.search(r"^\d\d:\d\d:\d\d \[digests\] added storm-2024-01-08$", out, re.MULTILINE)
    assert "storm.yaml:3: invalid YAML" in out
    assert "storm-2024-01-08: the file is broken; its last good version stays live" in out
    assert out.rstrip().endswith("— The Portwell Post, 8 Jan 2024")


def test_interactive_console_on_a_terminal(site: Path) -> None:
    """On a real terminal the REPL is a line editor: Tab completes commands and places, Up
    recalls the last line, a reload notice arriving at the prompt is printed above it and the
    prompt redrawn, and Ctrl-D leaves with exit 0."""
    import pty
    import select
    import time

    (site / "digests" / "articles" / "storm.txt").write_text(ARTICLE, "utf-8")
    (site / "config.yaml").write_text("digests: digests\nreload_seconds: 0.2\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "BOT_CONFIG")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm", COLUMNS="120", LINES="40")
    pid, fd = pty.fork()
    if pid == 0:  # the child: the bot on the terminal, in the test's site
        os.execve(sys.executable, [sys.executable, "-m", "bot", "console"], env)
    seen = b""
    PROMPT = b"digest-bot>"  # the editor draws the prompt's trailing space as a cursor move

    def read_until(marker: bytes, timeout: float = 20.0, count: int = 1) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while seen.count(marker) < count and time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if b"\x1b[6n" in chunk:  # the editor asks where the cursor is: answer as a terminal
                    os.write(fd, b"\x1b[1;1R")
                seen += chunk
        assert seen.count(marker) >= count, seen.decode(errors="replace")[-3000:]

    def settle(seconds: float = 0.5) -> None:
        """Let the editor take in a key (Tab's completion runs after the key arrives)."""
        with contextlib.suppress(AssertionError):
            read_until(b"\x00never\x00", seconds)

    try:
        read_until(PROMPT)
        assert b"the same commands as in chat" in seen
        for keys in (b"/whe", b"\t", b" Pokr", b"\t", b"\r"):  # Tab completes /where, Pokrovsk
            os.write(fd, keys)
            settle()
        answer = b"Pokrovsk (Donetsk oblast, Ukraine)"
        read_until(answer)
        # The prompt drawn after the answer: the editor reads keys again. (Counting prompts
        # is not enough: the first one is drawn again with the typed line on Enter, and a key
        # sent while the command runs is echoed by the terminal as ^[[A.)
        read_until(PROMPT, 5, count=seen[: seen.index(answer)].count(PROMPT) + 1)
        os.write(fd, b"\x1b[A\r")  # Up: the last line again
        read_until(answer, count=2)
        read_until(PROMPT, 5, count=seen[: seen.rindex(answer)].count(PROMPT) + 1)
        mark = len(seen)
        (site / "digests" / "storm.yaml").write_text(dump(base_digest()), "utf-8")
        notice = b"[digests] added storm-2024-01-08"
        read_until(notice)
        settle(2)
        assert PROMPT in seen[seen.index(notice, mark) :], seen[mark:]  # redrawn below it
        assert b"^[[A" not in seen
        assert b"no command '/'" not in seen
        os.write(fd, b"\x04")  # Ctrl-D
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert os.WEXITSTATUS(status) == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--shard-ids", "1"], "--shard-ids needs --shard-count"),
        (["--shard-count", "0"], "there must be at least one shard"),
        (["--shard-count", "4", "--shard-ids", "1,4"], "4 is not a shard of 0..3"),
        (["--shard-count", "4", "--shard-ids", "1,1"], "names a shard twice"),
        (["--shard-count", "4", "--shard-ids", "one"], "give shard numbers like 0,1"),
        (["--shard-count", "4"], "--shard-count is for Discord: set DISCORD_TOKEN"),
    ],
)
def test_bad_shard_options_are_one_clear_line(args: list[str], fragment: str) -> None:
    done = bot("run", *args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_shard_options_become_discord_py_options() -> None:
    from bot.__main__ import shard_options

    assert shard_options(None, None) == {}
    assert shard_options(4, None) == {"shard_count": 4}
    assert shard_options(4, "3,1") == {"shard_count": 4, "shard_ids": [1, 3]}
