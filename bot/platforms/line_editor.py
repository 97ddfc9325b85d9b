"""The console's line editor (prompt_toolkit): history, Ctrl-L, Tab completion of commands,
options, digest ids and places; text printed while the prompt waits goes above it."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from bot.commands.registry import Commands

log = logging.getLogger(__name__)


class Completions(Completer):
    """Tab: command names first; then options, digest ids and places (names and aliases)."""

    def __init__(self, commands: Commands) -> None:
        self.commands = commands

    def words(self, line: str) -> list[str]:
        if " " not in line:
            return [f"/{name}" for name in self.commands.names()]
        library = self.commands.library
        spec = next((s for s in self.commands.specs() if line.startswith(f"/{s.name} ")), None)
        words = [f"{o.name}:" for o in spec.options] if spec else []
        if spec and any(o.name == "quotes" for o in spec.options):
            words.append("quotes:yes")
        words += library.ids()
        words += [n for d in library.all() for p in d.places for n in p.names]
        return list(dict.fromkeys(words))

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        line = document.text_before_cursor
        word = line.rsplit(" ", 1)[-1]
        for choice in self.words(line):
            if choice.casefold().startswith(word.casefold()) and choice != word:
                yield Completion(choice, start_position=-len(word))


def history(path: Path | None) -> History:
    """The arrows recall earlier sessions' lines too (a file in the bot's cache folder). A
    file that cannot be written costs only that: this session's history stays in memory."""
    if path is None:
        return InMemoryHistory()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as error:
        log.warning("console history not kept: %s: %s", path, error.strerror or error)
        return InMemoryHistory()
    return FileHistory(path)


async def edit(
    prompt: str, commands: Commands, *, history_file: Path | None = None
) -> AsyncGenerator[str, None]:
    """Each line typed (stripped; blank lines and ``#`` comments skipped) until Ctrl-D or
    Ctrl-C. While it runs, ``sys.stdout`` prints above the prompt and redraws it."""
    session: PromptSession[str] = PromptSession(
        prompt, history=history(history_file), completer=Completions(commands)
    )
    with patch_stdout(raw=True):
        while True:
            try:
                raw = await session.prompt_async()
            except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C: leave quietly
                return
            line = raw.strip()
            if line and not line.startswith("#"):
                yield line
