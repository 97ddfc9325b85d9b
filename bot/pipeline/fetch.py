"""Polite, capped HTTP GETs for feeds and article pages (aiohttp).

Polite: a User-Agent that names the bot, conditional GET (ETag / Last-Modified) so an unchanged
feed costs the publisher a 304, and at most one request per host per ``host_interval``.
Capped: http(s) only (also after a redirect), redirects followed by hand up to ``max_redirects``
(a loop is named as one), a total timeout, and a size cap checked against Content-Length *and*
while reading, so a 50 MB answer costs at most the cap. Every failure is one ``FetchError``
line that says what happened to which URL; nothing else escapes.
"""

from __future__ import annotations

import asyncio
import codecs
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp

USER_AGENT = "digest-bot/0.1 (feed reader for sourced news digests; polls politely)"
REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """One line: the URL and what went wrong with it."""


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = 5 * 1024 * 1024
    timeout: float = 20.0
    max_redirects: int = 5
    host_interval: float = 1.0
    """Seconds between two requests to the same host."""


@dataclass(frozen=True)
class Fetched:
    url: str
    """Where the body came from, after redirects."""
    status: int
    body: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url}: only http(s) URLs are fetched")
    return url


class Fetcher:
    """One per process; owns (or borrows) an aiohttp session."""

    def __init__(
        self,
        limits: FetchLimits | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or FetchLimits()
        self._session = session
        self._own_session = session is None
        self._clock = clock
        self._next: dict[str, float] = {}
        self._host_locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def _polite(self, host: str) -> None:
        lock = self._host_locks.setdefault(host, asyncio.Lock())
        async with lock:
            wait = self._next.get(host, 0.0) - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next[host] = self._clock() + self.limits.host_interval

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """GET ``url`` (a 304 when the validators still match); raise ``FetchError``."""
        try:
            async with asyncio.timeout(self.limits.timeout):
                return await self._get(url, etag, last_modified)
        except TimeoutError:
            raise FetchError(f"{url}: timed out after {self.limits.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None

    async def _get(self, url: str, etag: str | None, last_modified: str | None) -> Fetched:
        seen = {url}
        current = check_url(url)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(self.limits.max_redirects + 1):
            await self._polite(urlsplit(current).hostname or "")
            async with self._client().get(
                current, headers=headers, allow_redirects=False
            ) as response:
                if response.status in REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError(f"{current}: HTTP {response.status} without a Location")
                    target = check_url(urljoin(current, location))
                    if target in seen:
                        raise FetchError(f"{url}: redirect loop (back to {target})")
                    seen.add(target)
                    current = target
                    continue
                if response.status == 304:
                    return Fetched(current, 304, etag=etag, last_modified=last_modified)
                if response.status >= 400:
                    raise FetchError(f"{current}: HTTP {response.status} {response.reason or ''}")
                body = await self._read(current, response)
                return Fetched(
                    url=current,
                    status=response.status,
                    body=body,
                    content_type=response.content_type,
                    charset=response.charset,
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                )
        raise FetchError(f"{url}: more than {self.limits.max_redirects} redirects")

    async def _read(self, url: str, response: aiohttp.ClientResponse) -> bytes:
        cap = self.limits.max_bytes
        declared = response.content_length
        if declared is not None and declared > cap:
            raise FetchError(f"{url}: {declared:,} bytes is over the {cap:,}-byte cap")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: more than the {cap:,}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


def decode(fetched: Fetched) -> str:
    """The body as text: the declared charset (header, then ``<meta>``), else UTF-8."""
    declared = fetched.charset
    if declared is None:
        match = _META_CHARSET.search(fetched.body[:4096])
        declared = match.group(1).decode("ascii") if match else None
    if declared is not None:
        try:
            codecs.lookup(declared)
        except LookupError:
            raise FetchError(f"{fetched.url}: unknown charset {declared!r}") from None
        try:
            return fetched.body.decode(declared)
        except UnicodeDecodeError as exc:
            raise FetchError(
                f"{fetched.url}: not valid {declared} as declared (byte {exc.start})"
            ) from None
    try:
        return fetched.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FetchError(
            f"{fetched.url}: not UTF-8 (byte {exc.start}) and no charset declared"
        ) from None
