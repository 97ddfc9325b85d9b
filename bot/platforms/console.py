"""The console sandbox: a REPL with the same commands as chat, and scheduled posts printed.

It is also the test double for the platform-neutral core: what it prints is exactly what a
``Reply`` holds (``bot.reply.plain``), with every item's source on the item's own line.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from bot.commands.base import CONSOLE, parse
from bot.commands.registry import Commands
from bot.reply import Reply, plain
from bot.schedules.spec import Limits

log = logging.getLogger(__name__)
PROMPT = "digest-bot> "
BANNER = (
    "digest-bot console — the same commands as in chat: /summary, /figures, /where, /sources, "
    "/digests, /help. Ctrl-D or /quit to leave."
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
    ) -> None:
        self.commands = commands
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty()

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def handle(self, line: str) -> str:
        """One line's answer. The console's one error handler: a bug is logged and reported in
        one line, and the REPL goes on."""
        try:
            return plain(await self.commands.answer(parse(line), CONSOLE))
        except Exception:
            log.exception("console: %r failed", line)
            return FAILED

    async def post(self, channel: str, reply: Reply, nonce: str) -> str:
        """The console's ``Poster``: scheduled posts are printed as they fire."""
        self.say(f"[scheduled post to {channel}]\n{plain(reply)}")
        return nonce

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Nothing to let go of: the reader thread is a daemon."""

    def _reader(self, loop: asyncio.AbstractEventLoop, put: Callable[[str | None], None]) -> None:
        for raw in self.stdin:
            loop.call_soon_threadsafe(put, raw)
        loop.call_soon_threadsafe(put, None)

    async def serve(self) -> None:
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
