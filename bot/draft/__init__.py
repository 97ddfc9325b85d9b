"""Draft a digest from an article's text (``python -m bot draft``): see ``bot.draft.core``."""

from bot.draft.core import Draft, DraftError, NotNews, digest_id, draft, render

__all__ = ["Draft", "DraftError", "NotNews", "digest_id", "draft", "render"]
