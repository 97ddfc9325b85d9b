"""Read-only pages: the digests list, one digest beside its article, its map, a post preview."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from bot.commands.base import UserError
from bot.commands.content import figure_text, place_text, post
from bot.desk import ledger
from bot.desk.context import desk, render, user
from bot.desk.highlight import segments
from bot.desk.preview import discord_pages, matrix_parts
from bot.desk.review import UnknownDraft
from bot.digest.load import DigestInvalid, Loaded
from bot.digest.model import Digest, Figure, Item, Place, SummaryPoint, fold
from bot.schedules.spec import PARTS

PAGE_SIZE = 50


@dataclass(frozen=True)
class ItemView:
    anchor: str
    group: str
    text: str
    claimant: str
    status: str
    quote: str


def anchor(group: str, index: int) -> str:
    return f"{group}-{index}"


def item_views(digest: Digest) -> list[ItemView]:
    views: list[ItemView] = []
    groups: tuple[tuple[str, tuple[Item, ...]], ...] = (
        ("summary", digest.summary),
        ("figures", digest.figures),
        ("places", digest.places),
    )
    for group, items in groups:
        for index, item in enumerate(items):
            status: str
            if isinstance(item, Figure):
                text, status = figure_text(digest, item), item.status
            elif isinstance(item, Place):
                text, status = place_text(item, detailed=True), "place"
            else:
                assert isinstance(item, SummaryPoint)
                text, status = item.text, "summary"
            source = digest.sources[item.source]
            claimant = source.name + (f" (side: {source.side})" if source.side else "")
            views.append(ItemView(anchor(group, index), group, text, claimant, status, item.quote))
    return views


_keys: tuple[list[Digest], list[str]] = ([], [])


def search(digests: list[Digest], query: str) -> list[Digest]:
    """Digests whose id, title or publisher contains ``query`` (folded). The folded keys are
    kept for the last list searched: the library hands out a new list only when it changes."""
    global _keys
    cached, keys = _keys
    if len(cached) != len(digests) or any(a is not b for a, b in zip(cached, digests, strict=True)):
        keys = ["\x00".join(map(fold, (d.id, d.title, d.article.publisher))) for d in digests]
        _keys = (digests, keys)
    needle = fold(query)
    return [d for d, key in zip(digests, keys, strict=True) if needle in key]


async def index(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/digests")


async def digests(request: web.Request) -> web.Response:
    the_desk = desk(request)
    query = request.query.get("q", "").strip()[:200]
    found = the_desk.library.all()
    if query:
        found = search(found, query)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    try:
        page = min(max(1, int(request.query.get("page", "1"))), pages)
    except ValueError:
        page = 1
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    drafts = await asyncio.to_thread(the_desk.queue.pending)
    return await render(
        request,
        "digests.html",
        digests=shown,
        total=len(found),
        query=query,
        page=page,
        pages=pages,
        problems=the_desk.library.problems,
        drafts=drafts,
    )


def _loaded(request: web.Request) -> Loaded:
    loaded = desk(request).library.loaded(request.match_info["digest_id"])
    if loaded is None:
        raise web.HTTPNotFound(text="no such digest")
    return loaded


def _article(loaded: Loaded) -> str:
    """The article as verified; if it changed since, a note (the library re-verifies soon)."""
    try:
        return loaded.article_text()
    except DigestInvalid as exc:
        return f"(The article cannot be shown: {exc.problems[0].message}.)"


async def digest_page(request: web.Request) -> web.Response:
    the_desk = desk(request)
    loaded = _loaded(request)
    digest, article = loaded.digest, await asyncio.to_thread(_article, loaded)
    views = item_views(digest)
    posted = await asyncio.to_thread(ledger.rows, the_desk.store, digest_id=digest.id)
    return await render(
        request,
        "digest.html",
        digest=digest,
        items=views,
        segments=segments(article, [(v.anchor, v.quote) for v in views]),
        posted=posted,
        corrections=getattr(digest, "corrections", ()),
        has_map=bool(digest.places) and the_desk.maps is not None,
    )


async def digest_map(request: web.Request) -> web.StreamResponse:
    the_desk = desk(request)
    digest = _loaded(request).digest
    if the_desk.maps is None or not digest.places:
        raise web.HTTPNotFound(text="no map")
    path = await asyncio.to_thread(the_desk.maps.picture, digest, None)
    return web.FileResponse(path, headers={"Content-Type": "image/png"})


async def preview(request: web.Request) -> web.Response:
    digest = _loaded(request).digest
    parts = [p for p in request.query.getall("parts", []) if p in PARTS] or ["summary"]
    try:
        reply = post(digest, parts)  # the scheduled post's own builder (no map drawn here)
    except UserError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    return await render(
        request,
        "preview.html",
        digest=digest,
        parts=parts,
        all_parts=PARTS,
        discord=discord_pages(reply),
        matrix=matrix_parts(reply),
    )


async def revise(request: web.Request) -> web.StreamResponse:
    """Open a draft of a live digest: approving it corrects the digest where it was posted."""
    the_desk = desk(request)
    loaded = the_desk.library.loaded(request.match_info["digest_id"])
    if loaded is None:
        raise web.HTTPNotFound(text="no such digest")
    try:
        draft = await asyncio.to_thread(the_desk.queue.revise, loaded, by=user(request).name)
    except UnknownDraft:
        raise web.HTTPNotFound(text="this digest's file is not in the desk's folder") from None
    raise web.HTTPSeeOther(f"/drafts/{draft.id}")


def routes() -> list[web.RouteDef]:
    return [
        web.post("/digests/{digest_id}/revise", revise),
        web.get("/", index),
        web.get("/digests", digests),
        web.get("/digests/{digest_id}", digest_page),
        web.get("/digests/{digest_id}/map.png", digest_map),
        web.get("/digests/{digest_id}/preview", preview),
    ]
