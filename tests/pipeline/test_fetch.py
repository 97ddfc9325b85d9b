"""The fetcher: polite (User-Agent, conditional GET, per-host spacing) and capped."""

from __future__ import annotations

import time

import pytest

from bot.pipeline.fetch import USER_AGENT, Fetched, Fetcher, FetchError, FetchLimits, decode
from tests.pipeline.site import Page, Site


async def test_user_agent_names_the_bot_and_validators_give_a_304(
    site: Site, fetcher: Fetcher
) -> None:
    site.pages["/feed"] = Page("<rss/>", content_type="application/rss+xml")
    first = await fetcher.get(site.url("/feed"))
    assert first.status == 200
    assert first.etag
    assert first.last_modified
    assert site.hits[0].headers["User-Agent"] == USER_AGENT
    assert "digest-bot" in USER_AGENT
    again = await fetcher.get(site.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified
    assert again.body == b""
    assert site.hits[1].headers["If-None-Match"] == first.etag
    assert site.hits[1].headers["If-Modified-Since"] == first.last_modified


async def test_redirects_are_followed_up_to_the_cap(site: Site) -> None:
    for i in range(3):
        site.pages[f"/r{i}"] = Page("", status=302, headers={"Location": f"/r{i + 1}"})
    site.pages["/r3"] = Page("<p>here</p>")
    fetcher = Fetcher(FetchLimits(host_interval=0, max_redirects=3))
    try:
        got = await fetcher.get(site.url("/r0"))
        assert got.url.endswith("/r3")
        assert got.body == b"<p>here</p>"
        tight = Fetcher(FetchLimits(host_interval=0, max_redirects=2))
        with pytest.raises(FetchError, match="more than 2 redirects"):
            await tight.get(site.url("/r0"))
        await tight.close()
    finally:
        await fetcher.close()


async def test_a_redirect_loop_is_named(site: Site, fetcher: Fetcher) -> None:
    site.pages["/a"] = Page("", status=301, headers={"Location": "/b"})
    site.pages["/b"] = Page("", status=301, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher.get(site.url("/a"))
    assert len(site.hits) == 2


async def test_only_http_urls_even_after_a_redirect(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="only http"):
        await fetcher.get("file:///etc/passwd")
    site.pages["/sneaky"] = Page("", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FetchError, match="only http"):
        await fetcher.get(site.url("/sneaky"))


async def test_size_cap_by_header_and_while_streaming(site: Site) -> None:
    fetcher = Fetcher(FetchLimits(host_interval=0, max_bytes=100_000))
    try:
        site.pages["/big"] = Page(b"x" * 200_000, content_type="application/octet-stream")
        with pytest.raises(FetchError, match="over the 100,000-byte cap"):
            await fetcher.get(site.url("/big"))
        site.pages["/huge"] = Page(b"", stream=50 * 1024 * 1024)
        with pytest.raises(FetchError, match="more than the 100,000-byte cap"):
            await fetcher.get(site.url("/huge"))
    finally:
        await fetcher.close()


async def test_a_slow_server_times_out(site: Site) -> None:
    fetcher = Fetcher(FetchLimits(host_interval=0, timeout=0.3))
    site.pages["/slow"] = Page("late", delay=2.0)
    try:
        with pytest.raises(FetchError, match=r"timed out after 0\.3 s"):
            await fetcher.get(site.url("/slow"))
    finally:
        await fetcher.close()


async def test_http_errors_are_one_line(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        await fetcher.get(site.url("/missing"))


async def test_requests_to_one_host_are_spaced(site: Site) -> None:
    site.pages["/p"] = Page("ok")
    fetcher = Fetcher(FetchLimits(host_interval=0.25))
    try:
        start = time.monotonic()
        for _ in range(3):
            await fetcher.get(site.url("/p"))
        assert time.monotonic() - start >= 0.5  # two gaps of 0.25 s at least
    finally:
        await fetcher.close()


def test_decode_uses_the_declared_charset_or_says_why_not() -> None:
    text = "Caf\u00e9 on the quay"
    latin = text.encode("latin-1")
    assert decode(Fetched("http://x/", 200, latin, "text/html", "iso-8859-1")) == text
    meta = b'<html><head><meta charset="windows-1252"></head>' + latin
    assert text in decode(Fetched("http://x/", 200, meta, "text/html", None))
    with pytest.raises(FetchError, match=r"not UTF-8 \(byte 3\) and no charset declared"):
        decode(Fetched("http://x/", 200, latin, "text/html", None))
    with pytest.raises(FetchError, match="unknown charset 'klingon'"):
        decode(Fetched("http://x/", 200, latin, "text/html", "klingon"))
    assert decode(Fetched("http://x/", 200, text.encode(), "text/html", None)) == text
