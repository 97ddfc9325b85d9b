"""Draft a digest from an article's text (``python -m bot draft``): see ``bot.draft.core``.

The names are loaded on first use, so that importing ``bot.draft.cli`` (which every start of
the bot does, to register the subcommand) does not compile the drafter's patterns.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.draft.core import Draft, DraftError, NotNews, digest_id, draft, render

__all__ = ["Draft", "DraftError", "NotNews", "digest_id", "draft", "render"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("bot.draft.core"), name)
    raise AttributeError(f"module 'bot.draft' has no attribute {name!r}")
