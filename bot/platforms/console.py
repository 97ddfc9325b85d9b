"""The console sandbox: a REPL with the same commands as chat, and scheduled posts printed.

On a terminal it is a real line editor (prompt_toolkit: arrows, history, Ctrl-L, Tab completion
of commands, options, digest ids and places), and what arrives while the prompt waits (a
scheduled post, a reload notice) is printed above the prompt, which is redrawn. On a pipe it
reads plain lines, for scripts.

It is also the test double for the platform-neutral core: what it prints is exactly what a
``Reply`` holds (``bot.reply.plain``), with every item's source on the item's own line.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.commands.base import CONSOLE, parse
from bot.commands.registry import Commands
from bot.pipeline.board import Board, review_command
from bot.reply import Reply, plain
from bot.schedules.options import AS_CONFIGURED, Placement, Posted, PostOptions
from bot.schedules.spec import Limits
from bot.schedules.targets import ChannelFacts

log = logging.getLogger(__name__)
PROMPT = "digest-bot> "
BANNER = (
    "digest-bot console — the same commands as in chat: /summary, /figures, /where, /sources, "
    "/digests, /help. Tab completes, arrows recall; Ctrl-D or /quit to leave."
)
QUIT = {"/quit", "/exit", "quit", "exit", "!quit"}
FAILED = "error: that failed on our side — the details are in the log"


class Console:
    """The console adapter: a REPL over ``stdin``, read in a daemon thread so Ctrl-C never hangs
    on input. Its ``serve`` ends when the input does (Ctrl-D, ``/quit``), and with it the bot."""

    name = "console"
    limits: Limits | None = None

    def __init__(
        self,
        commands: Commands,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        board: Board | None = None,
        history: Path | None = None,
    ) -> None:
        self.commands = commands
        self.history = history
        """Where the line editor keeps what was typed, across sessions (``None``: not kept)."""
        self.board = board
        """The review queue: ``/review`` works here when the app runs the pipeline."""
        self.stdin = stdin or sys.stdin
        self._stdout = stdout
        self.interactive = self.stdin.isatty()
        self.editing = self.interactive and stdin is None and stdout is None and sys.stdout.isatty()
        """A line editor on the terminal; plain lines otherwise (pipes, tests' streams)."""

    @property
    def stdout(self) -> TextIO:
        # Looked up on each write: while the editor's prompt is up, sys.stdout is its proxy,
        # which prints above the prompt and redraws it.
        return self._stdout or sys.stdout

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def handle(self, line: str) -> str:
        """One line's answer. The console's one error handler: a bug is logged and reported in
        one line, and the REPL goes on."""
        try:
            request = parse(line)
            if request.command == "review":
                if self.board is None:
                    needs = "reviews need `digest-bot run` or `digest-bot console`"
                    return plain(Reply.failure(needs))
                user = getpass.getuser()
                return plain(await review_command(self.board, request, by=user, via="console"))
            return plain(await self.commands.answer(request, CONSOLE))
        except Exception:
            log.exception("console: %r failed", line)
            return FAILED

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        """The console's ``Poster``: scheduled posts are printed as they fire."""
        self.say(f"[scheduled post to {channel}]\n{plain(reply)}")
        return Posted(nonce)

    async def inspect(self, channel: str, options: PostOptions) -> ChannelFacts | None:
        """Any name is a console channel: it prints."""
        return ChannelFacts(channel, "text")

    async def edit(self, channel: str, message_ids: Sequence[str], reply: Reply) -> list[str]:
        """The console cannot change what it printed: it prints the corrected post."""
        self.say(f"[correction of the post to {channel}]\n{plain(reply)}")
        return list(message_ids)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Nothing to let go of: the reader thread is a daemon."""

    def _reader(self, loop: asyncio.AbstractEventLoop, put: Callable[[str | None], None]) -> None:
        for raw in self.stdin:
            loop.call_soon_threadsafe(put, raw)
        loop.call_soon_threadsafe(put, None)

    async def serve(self) -> None:
        if self.editing:
            await self._edit()
            return
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        reader = threading.Thread(
            target=self._reader, args=(loop, lines.put_nowait), name="console-stdin", daemon=True
        )
        reader.start()
        if self.interactive:
            self.say(BANNER)
        while True:
            if self.interactive:
                self.stdout.write(PROMPT)
                self.stdout.flush()
            raw = await lines.get()
            if raw is None:
                break
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.lower() in QUIT:
                break
            self.say(await self.handle(line))

    async def _edit(self) -> None:
        """The REPL on a terminal (prompt_toolkit, imported only here: `ask` stays quick)."""
        from bot.platforms.line_editor import edit

        self.say(BANNER)
        async with contextlib.aclosing(
            edit(PROMPT, self.commands, history_file=self.history)
        ) as lines:
            async for line in lines:
                if line.lower() in QUIT:
                    break
                self.say(await self.handle(line))
