"""Every command the README prints works as printed, after the one set-up command, in a clone's
folder: each is parsed from the README and run in a newsroom of the test's own (its config.yaml,
digests, and the set-up's .venv)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import available
from tests.helpers import ARTICLE, KURSK, ROOT

README = (ROOT / "README.md").read_text("utf-8")
RUNNABLE = (".venv/bin/", "make ")
# Lines that show a syntax (`[PATH…]`, `ARTICLE …`) rather than a command are not run.
TEMPLATE = re.compile(r"…|\[[A-Z-]")


def readme_commands(text: str) -> list[str]:
    """Command lines in the README's code blocks and inline code, in reading order."""
    found: list[tuple[int, str]] = []
    for block in re.finditer(r"```[a-z]*\n(.*?)```", text, re.DOTALL):
        lines = block.group(1).replace("\\\n", " ").splitlines()
        for line in lines:
            command = re.sub(r"\s+#\s.*$", "", line.strip())
            if command.startswith(RUNNABLE):
                found.append((block.start(), re.sub(r"\s+", " ", command)))
    outside = re.sub(r"```.*?```", lambda m: " " * len(m.group(0)), text, flags=re.DOTALL)
    for span in re.finditer(r"`([^`\n]+)`", outside):
        if span.group(1).startswith(RUNNABLE):
            found.append((span.start(), span.group(1)))
    return [c for _, c in sorted(found) if c not in RUNNABLE and not TEMPLATE.search(c)]


COMMANDS = readme_commands(README)


def test_the_readme_is_read() -> None:
    """The parser finds the commands a newcomer types (so the test below tests something)."""
    assert "make run" in COMMANDS
    assert '.venv/bin/digest-bot ask "/figures 945"' in COMMANDS
    assert any(
        c.startswith(".venv/bin/digest-bot draft digests/articles/new.txt") for c in COMMANDS
    )
    assert not [c for c in COMMANDS if "python -m bot" in c]


def test_no_bare_python_command_in_the_readme() -> None:
    """`python -m bot` fails after `make run` (the venv is not activated): none may be printed."""
    # The Procfile's `python -m bot` runs on a host, where the buildpack's Python has the project.
    bare = re.findall(
        r"(?<![/\w])(?<!worker: )(?<!worker\d: )python3? -m (?:bot|bench)\b.*", README
    )
    assert bare == []


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone's folder after `make run`: the repository's Makefile, config.yaml, scripts, bench,
    the tests' digests, and a .venv that is the set-up's own (its stamp up to date)."""
    site = tmp_path_factory.mktemp("clone")
    for name in ("Makefile", "pyproject.toml", "config.yaml", "requirements.txt"):
        shutil.copy2(ROOT / name, site / name)
    for folder in ("scripts", "bench"):
        shutil.copytree(ROOT / folder, site / folder)
    shutil.copytree(KURSK.parent, site / "digests")
    (site / "digests" / "articles" / "new.txt").write_text(ARTICLE, "utf-8")
    venv = site / ".venv"
    venv.mkdir()
    for entry in Path(sys.prefix).iterdir():
        if entry.name != ".installed":
            (venv / entry.name).symlink_to(entry)
    (venv / ".installed").touch()  # newer than pyproject.toml: make installs nothing
    return site


def expected_failure(command: str) -> bool:
    """Commands that need a platform token: without one they must refuse with exit 2."""
    return " sync" in command or command in ("make run", ".venv/bin/digest-bot")


# `make test` and `make lint` are this suite and its lint: running them here would recurse.
# The list keeps the README's order: `check digests/new.draft.yaml` checks what `draft` wrote.
@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in ("make test", "make lint")])
def test_readme_command_works_as_printed(clone: Path, command: str) -> None:
    if command.startswith(".venv/bin/python -m bench "):
        assert command.split()[3] in available()  # benchmarks are not run in tests
        return
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "MATRIX_", "BOT_", "VIRTUAL_ENV", "PYTHON", "MAKE"))
    }
    done = subprocess.run(
        ["/bin/sh", "-c", command.replace("SERVER_ID", "123456789012345678")],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert "No module named" not in output
    assert "not found" not in output
    if expected_failure(command):
        assert done.returncode == 2, output
        assert "DISCORD_TOKEN" in output
    elif " desk-user add " in command:  # no terminal and nothing on stdin: no password
        assert done.returncode == 2, output
        assert "password" in output
    else:
        assert done.returncode == 0, output


@pytest.mark.parametrize("how", ["ctrl-c key", "SIGINT"])
def test_ctrl_c_in_make_run_exits_quietly(clone: Path, tmp_path: Path, how: str) -> None:
    """Ctrl-C at the console's prompt is a key (the editor reads it); while the bot reads a pipe
    or serves a platform it is SIGINT to make and the bot alike. Either way: no
    "make: *** Error 130", no traceback."""
    import pty
    import select
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "MATRIX_"))}
    env["TERM"] = "xterm"
    fifo = tmp_path / "stdin"
    command = ["make", "run"]
    if how == "SIGINT":  # the plain console on a pipe: Ctrl-C can only arrive as a signal
        os.mkfifo(fifo)
        command = ["sh", "-c", f"exec make run ARGS=console < {fifo}"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: `make run` on a terminal, in the clone
        os.chdir(clone)
        os.execvpe(command[0], command, env)
    seen = b""

    def read(until: bytes | None, timeout: float) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while time.monotonic() < end and (until is None or until not in seen):
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                if b"\x1b[6n" in chunk:
                    os.write(fd, b"\x1b[1;1R")
                seen += chunk

    writer = None
    try:
        if how == "SIGINT":
            writer = open(fifo, "w")  # noqa: SIM115 — held open so the console keeps reading
            writer.write("/digests\n")
            writer.flush()
            read(b"kursk-incursion-2024-08-09", 60)
            os.killpg(pid, signal.SIGINT)  # the terminal's foreground group: make and the bot
        else:
            read(b"digest-bot>", 60)
            os.write(fd, b"\x03")
        assert b"kursk-incursion" in seen or b"digest-bot>" in seen, seen
        read(None, 10)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
        if writer is not None:
            writer.close()
    text = seen.decode(errors="replace")
    assert "make: ***" not in text
    assert "Traceback" not in text
    if how == "ctrl-c key":
        assert os.WIFEXITED(status)
        assert os.WEXITSTATUS(status) == 0
