"""The console adapter in process: the registry's commands, answered off the event loop, and
its one error handler (a failure is one line; the REPL goes on)."""

from __future__ import annotations

import asyncio
import io
import logging
import threading

import pytest

from bot.commands.base import CONSOLE, Caller, Command, CommandSpec, Context, Request
from bot.commands.registry import Commands, register, unregister
from bot.digest.library import Library
from bot.platforms.console import FAILED, Console
from bot.reply import Reply
from tests.helpers import KURSK, throwaway_command


@pytest.fixture
def library() -> Library:
    library = Library(KURSK.parent)
    library.refresh()
    return library


def run_console(commands: Commands, typed: str) -> str:
    out = io.StringIO()
    console = Console(commands, stdin=io.StringIO(typed), stdout=out)
    asyncio.run(console.serve())
    return out.getvalue()


def test_a_command_added_in_bot_commands_appears_on_the_console(library: Library) -> None:
    with throwaway_command():
        out = run_console(Commands(library), "/echo hello\n/help\n")
    assert "echo: hello" in out
    assert "1 digests loaded; asked on console" in out
    assert "• /echo [word] — Say a word back" in out


def test_answers_are_computed_off_the_event_loop(library: Library) -> None:
    threads: list[str] = []

    def where_am_i(ctx: Context, request: Request, caller: Caller) -> Reply:
        threads.append(threading.current_thread().name)
        return Reply("here")

    register(Command(CommandSpec("whereami", "Which thread answers"), run=where_am_i))
    try:
        out = run_console(Commands(library), "/whereami\n")
    finally:
        unregister("whereami")
    assert "here" in out
    assert threads
    assert threads[0] != threading.main_thread().name  # a map render never blocks the loop


def test_a_failure_is_one_line_and_the_repl_goes_on(
    library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Commands):
        async def answer(self, request: Request, caller: Caller = CONSOLE) -> Reply:
            if request.command == "figures":
                raise RuntimeError("the answer exploded")
            return await super().answer(request, caller)

    with caplog.at_level(logging.ERROR, logger="bot.platforms.console"):
        out = run_console(Broken(library), "/figures\n/digests\n")
    assert FAILED in out
    assert "the answer exploded" not in out
    assert "kursk-incursion-2024-08-09" in out  # the next command was still answered
    assert "the answer exploded" in caplog.text
