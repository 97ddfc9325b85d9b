"""The console sandbox: the reference renderer and a REPL with the same commands as chat.

It is also the test double for the platform-neutral core: what it prints is exactly what a
``Reply`` holds, with every item's source on the item's own line.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TextIO

from bot.answers import MapSource, answer, parse
from bot.digest.library import Library, describe
from bot.pipeline.board import Board, review_command
from bot.reply import Line, Reply
from bot.schedule import Caller, Scheduler, schedule_command

log = logging.getLogger(__name__)
PROMPT = "digest-bot> "
BANNER = (
    "digest-bot console — the same commands as in chat: /summary, /figures, /where, /sources, "
    "/digests, /help. Ctrl-D or /quit to leave."
)
QUIT = {"/quit", "/exit", "quit", "exit", "!quit"}


def render_line(line: Line) -> str:
    text = f"• {line.text}"
    if line.source is not None:
        text += f" — {line.source}"
    if line.quote is not None:
        text += f'\n    "{line.quote}"'
    return text


def render(reply: Reply) -> str:
    if reply.error is not None:
        return f"error: {reply.error}"
    out = [reply.title, "=" * min(len(reply.title), 78)]
    if reply.note:
        out.append(reply.note)
    for section in reply.sections:
        if section.heading:
            out.extend(["", section.heading])
        out.extend(render_line(line) for line in section.lines)
    if reply.picture is not None:
        out.extend(["", f"Map: {reply.picture.path}", f"    {reply.picture.alt}"])
    if reply.url:
        out.extend(["", f"Article: {reply.url}"])
    return "\n".join(out)


class Console:
    """A REPL over ``stdin``; lines are read in a daemon thread so Ctrl-C never hangs on input."""

    def __init__(
        self,
        library: Library,
        *,
        maps: MapSource | None = None,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        reload_seconds: float = 0,
        scheduler: Scheduler | None = None,
        board: Board | None = None,
    ) -> None:
        self.board = board
        self.library = library
        self.scheduler = scheduler
        self.maps = maps
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.reload_seconds = reload_seconds
        self.interactive = self.stdin.isatty()

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def handle(self, line: str) -> str:
        request = parse(line)
        if request.command == "schedule":
            if self.scheduler is None:
                return render(Reply.failure("schedules need `python -m bot run` or `console`"))
            caller = Caller("console", "console", "console", is_admin=True)
            return render(await schedule_command(self.scheduler, request, caller))
        if request.command == "review":
            if self.board is None:
                return render(Reply.failure("reviews need `python -m bot run` or `console`"))
            user = getpass.getuser()
            return render(await review_command(self.board, request, by=user, via="console"))
        return render(answer(self.library, request, self.maps))

    async def post(self, channel: str, reply: Reply, nonce: str) -> str:
        """The console's ``Poster``: scheduled posts are printed as they fire."""
        self.say(f"[scheduled post to {channel}]\n{render(reply)}")
        return nonce

    async def edit(self, channel: str, message_ids: Sequence[str], reply: Reply) -> list[str]:
        """The console cannot change what it printed: it prints the corrected post."""
        self.say(f"[correction of the post to {channel}]\n{render(reply)}")
        return list(message_ids)

    def _reader(self, loop: asyncio.AbstractEventLoop, put: Callable[[str | None], None]) -> None:
        for raw in self.stdin:
            loop.call_soon_threadsafe(put, raw)
        loop.call_soon_threadsafe(put, None)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.reload_seconds)
            try:
                changes = await asyncio.to_thread(self.library.refresh)
            except Exception:  # keep the REPL and the last good library alive
                log.exception("refreshing digests failed")
                continue
            for text in describe(changes):
                self.say(text)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        reader = threading.Thread(
            target=self._reader, args=(loop, lines.put_nowait), name="console-stdin", daemon=True
        )
        reader.start()
        if self.interactive:
            self.say(BANNER)
        watcher = asyncio.create_task(self._watch()) if self.reload_seconds > 0 else None
        try:
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
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
