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
    bare = re.findall(r"(?<![/\w])(?<!worker: )python3? -m (?:bot|bench)\b.*", README)
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
    else:
        assert done.returncode == 0, output
