"""The editors' desk: a web page (aiohttp + Jinja2) to review drafts, read digests beside their
articles, watch deliveries and manage schedules. Kept light to import: ``python -m bot`` builds
its parser from ``cli`` on every start, and the web stack loads only when the desk runs."""

from bot.platforms.base import PlatformError


class DeskError(PlatformError):
    """The desk cannot start (a port in use, a bad DESK_SECRET): one line."""
