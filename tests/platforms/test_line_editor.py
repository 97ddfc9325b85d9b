"""The console's line editor, driven through prompt_toolkit's own pipe input: what is typed
comes out as lines, and the arrows recall what earlier sessions typed."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.platforms.line_editor import edit, history
from tests.helpers import kursk_library

UP = "\x1b[A"
CTRL_D = "\x04"


@pytest.fixture
def commands(tmp_path: Path) -> Commands:
    library: Library = kursk_library(tmp_path / "verified")
    return Commands(library)


async def typed(commands: Commands, keys: str, history_file: Path | None) -> list[str]:
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text(keys)
        lines = []
        async with contextlib.aclosing(edit("> ", commands, history_file=history_file)) as session:
            async for line in session:
                lines.append(line)
        return lines


async def test_lines_come_out_stripped_without_comments(commands: Commands) -> None:
    keys = "  /digests  \r# a note\r\r/help\r" + CTRL_D
    assert await typed(commands, keys, None) == ["/digests", "/help"]


async def test_the_arrows_recall_an_earlier_sessions_lines(
    commands: Commands, tmp_path: Path
) -> None:
    kept = tmp_path / "cache" / "console-history"
    assert await typed(commands, "/sources\r" + CTRL_D, kept) == ["/sources"]
    assert kept.is_file()
    # A new session, the same file: up-arrow then Enter sends the last session's line again.
    assert await typed(commands, UP + "\r" + CTRL_D, kept) == ["/sources"]
    # Without the file the arrows have nothing to recall (the test above can fail).
    assert await typed(commands, UP + "\r" + CTRL_D, None) == []


def test_an_unwritable_history_file_is_a_warning_not_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be", "utf-8")
    with caplog.at_level(logging.WARNING):
        kept = history(blocker / "console-history")
    assert isinstance(kept, InMemoryHistory)
    assert "console history not kept" in caplog.text
    assert isinstance(history(tmp_path / "ok" / "console-history"), FileHistory)
