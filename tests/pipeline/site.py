"""A publisher's web site on 127.0.0.1 (aiohttp test server): feeds, article pages, bad answers.

Routes are set per test (``site.pages[path] = Page(...)``); every request is recorded with its
headers so tests can check the User-Agent and the conditional GET.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Page:
    body: bytes | str
    content_type: str = "text/html"
    charset: str | None = "utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True
    """Send ETag and Last-Modified, and answer a matching conditional GET with 304."""
    delay: float = 0.0
    stream: int = 0
    """Send this many bytes of filler in chunks, without a Content-Length (a huge answer)."""


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    status: int


class Site:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: list[Hit] = []
        self.server: TestServer | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def hits_of(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        page = self.pages.get(request.path)
        headers = dict(request.headers)
        if page is None:
            self.hits.append(Hit(request.path, headers, 404))
            return web.Response(status=404, text="not found")
        if page.delay:
            await asyncio.sleep(page.delay)
        body = page.body
        if isinstance(body, str):
            body = body.encode(page.charset or "utf-8")
        extra = dict(page.headers)
        if page.validators and page.status == 200:
            tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            extra["ETag"] = tag
            extra["Last-Modified"] = format_datetime(datetime(2024, 8, 9, tzinfo=UTC), usegmt=True)
            if request.headers.get("If-None-Match") == tag:
                self.hits.append(Hit(request.path, headers, 304))
                return web.Response(status=304, headers=extra)
        self.hits.append(Hit(request.path, headers, page.status))
        if page.stream:
            response = web.StreamResponse(status=200, headers={"Content-Type": page.content_type})
            await response.prepare(request)
            sent = 0
            chunk = b"x" * 65536
            try:
                while sent < page.stream:
                    await response.write(chunk)
                    sent += len(chunk)
            except (ConnectionResetError, RuntimeError):
                pass  # the client hung up at its cap, as it should
            return response
        return web.Response(
            status=page.status,
            body=body,
            content_type=page.content_type,
            charset=page.charset,
            headers=extra,
        )


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    s = Site()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", s.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    s.server = server
    try:
        yield s
    finally:
        await server.close()


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    guid: str | None = None
    published: datetime = datetime(2024, 8, 9, 10, 0, tzinfo=UTC)
    updated: datetime | None = None


def rss(items: Sequence[Item], title: str = "The Portwell Post") -> str:
    entries = []
    for item in items:
        guid = f'<guid isPermaLink="false">{escape(item.guid)}</guid>' if item.guid else ""
        stamp = format_datetime(item.updated or item.published, usegmt=True)
        entries.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>{guid}"
            f"<pubDate>{stamp}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://127.0.0.1/</link>"
        f"<description>news</description>{''.join(entries)}</channel></rss>\n"
    )


def atom(items: Sequence[Item], title: str = "Hallam Courier") -> str:
    entries = []
    for item in items:
        updated = (item.updated or item.published).strftime("%Y-%m-%dT%H:%M:%SZ")
        entries.append(
            f'<entry><title>{escape(item.title)}</title><link href="{escape(item.link)}"/>'
            f"<id>{escape(item.guid or item.link)}</id><updated>{updated}</updated></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:feed</id>"
        f"<updated>2024-08-09T10:00:00Z</updated>{''.join(entries)}</feed>\n"
    )
