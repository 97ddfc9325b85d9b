"""The review page: a draft beside its article, every field editable, approve or reject.

Each save turns the form into YAML and goes through the loader (via the queue), so its problems
come back as ``field: problem`` and are shown at the inputs they name. A save based on a version
that is no longer current is refused and the editor's input is shown again, unsaved.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.desk.context import desk, flash, render, user
from bot.desk.editing import (
    GROUPS,
    blank_item,
    field_errors,
    from_form,
    indices,
    quotes,
    to_values,
    to_yaml,
)
from bot.desk.form import build
from bot.desk.highlight import segments
from bot.desk.review import Draft, StaleDraft, UnknownDraft
from bot.digest.load import (
    MAX_ARTICLE_BYTES,
    DigestInvalid,
    Problem,
    load_digest,
    load_digest_text,
    read_text,
)
from bot.digest.yamlsafe import YamlProblem, parse

log = logging.getLogger(__name__)


def _data(draft: Draft) -> dict[str, Any]:
    return _verdict(draft.path, draft.text)[0]


def _article(draft: Draft, data: Mapping[str, Any]) -> str:
    """The article the draft quotes (inside the draft's folder only), or '' when unreadable."""
    article = data.get("article")
    name = article.get("text") if isinstance(article, dict) else None
    if not isinstance(name, str):
        return ""
    folder = draft.path.parent.resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        return ""
    try:
        return read_text(path, MAX_ARTICLE_BYTES, "article text")
    except DigestInvalid:
        return ""


def _problems(draft: Draft) -> tuple[Problem, ...]:
    return _verdict(draft.path, draft.text)[1]


@functools.lru_cache(maxsize=64)
def _verdict(path: Path, text: str) -> tuple[dict[str, Any], tuple[Problem, ...]]:
    """The draft's data and the loader's problems. A version's text never changes, so both
    are cached by it (an edited article is re-read when the draft is saved again)."""
    try:
        data = parse(text).data
    except YamlProblem:
        data = {}
    try:
        load_digest_text(path, text)
        problems: tuple[Problem, ...] = ()
    except DigestInvalid as exc:
        problems = exc.problems
    return (data if isinstance(data, dict) else {}), problems


def _get(request: web.Request) -> Draft:
    draft = desk(request).queue.get(request.match_info["draft_id"])
    if draft is None:
        raise web.HTTPNotFound(text="no such draft (approved, rejected or removed meanwhile)")
    return draft


async def _page(
    request: web.Request,
    draft: Draft,
    values: Mapping[str, str],
    *,
    version: str,
    problems: tuple[Problem, ...] = (),
    notice: str | None = None,
    status: int = 200,
    reason: str = "",
) -> web.Response:
    data = _data(draft)
    article = await asyncio.to_thread(_article, draft, data)
    errors, general = field_errors(problems)
    return await render(
        request,
        "review.html",
        status=status,
        draft=draft,
        version=version,
        form=build(values, errors),
        errors=errors,
        general=general,
        notice=notice,
        reason=reason,
        segments=segments(article, quotes(values)) if article else [],
    )


async def review_page(request: web.Request) -> web.Response:
    draft = await asyncio.to_thread(_get, request)
    problems = await asyncio.to_thread(_problems, draft)
    return await _page(
        request, draft, to_values(_data(draft)), version=draft.version, problems=problems
    )


async def review_post(request: web.Request) -> web.StreamResponse:
    the_desk = desk(request)
    draft = await asyncio.to_thread(_get, request)
    form = await request.post()
    values = {k: str(v) for k, v in form.items() if k not in ("csrf", "action", "version")}
    version = str(form.get("version", ""))
    action = str(form.get("action", "save"))
    name = user(request).name
    reason = " ".join(str(form.get("reason", "")).split())[:500]

    if action.startswith("add-") and action[4:] in GROUPS:
        group = action[4:]
        numbers = indices(values)[group]
        index = (max(numbers) + 1) if numbers else 0
        values.update({f"{group}[{index}].{k}": v for k, v in blank_item(group).items()})
        return await _page(
            request,
            draft,
            values,
            version=version,
            notice=f"New {group} item added below; save to keep it.",
        )

    base = _data(draft)
    text = to_yaml(from_form(values, base))
    # Compared with the stored draft as the form would write it, so opening and saving a
    # hand-written draft without a change does not rewrite it (nor drop its comments).
    changed = text != to_yaml(from_form(to_values(base), base))
    draft_id = draft.id
    try:
        if action == "reject":
            if not reason:
                return await _page(
                    request,
                    draft,
                    values,
                    version=version,
                    status=422,
                    notice="Say why the draft is rejected.",
                )
            await asyncio.to_thread(
                the_desk.queue.reject, draft.id, based_on=version, by=name, reason=reason
            )
            log.info("desk: %s rejected draft %s", name, draft.id)
            await flash(request, f"Rejected {draft.id}: {reason}")
            raise web.HTTPSeeOther("/digests")
        if changed:
            saved = await asyncio.to_thread(
                the_desk.queue.save, draft.id, text, based_on=version, by=name
            )
            draft_id, version = saved.id, saved.version  # a queue may give a revision a new id
        if action == "approve":
            target = await asyncio.to_thread(
                the_desk.queue.approve, draft_id, based_on=version, by=name
            )
            log.info("desk: %s approved draft %s → %s", name, draft_id, target.name)
            await asyncio.to_thread(the_desk.library.refresh)
            live = await asyncio.to_thread(load_digest, target)
            await flash(request, f"Approved: {live.digest.id} is live.")
            raise web.HTTPSeeOther(f"/digests/{live.digest.id}")
    except StaleDraft as exc:
        who = f" by {exc.current.saved_by}" if exc.current.saved_by else ""
        notice = (
            f"Not saved: this draft was changed{who} after you opened it. Your changes are kept "
            "below, unsaved. Open the draft again in a new tab to see the current version, "
            "then carry your changes over."
        )
        return await _page(
            request, draft, values, version=version, notice=notice, status=409, reason=reason
        )
    except DigestInvalid as exc:
        notice = "Not saved: the loader found problems, shown at their fields."
        return await _page(
            request,
            draft,
            values,
            version=version,
            problems=exc.problems,
            notice=notice,
            status=422,
            reason=reason,
        )
    except UnknownDraft:
        raise web.HTTPNotFound(text="this draft was approved or rejected meanwhile") from None
    await flash(request, "Saved." if changed else "No changes to save.")
    raise web.HTTPSeeOther(f"/drafts/{draft_id}")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/drafts/{draft_id}", review_page),
        web.post("/drafts/{draft_id}", review_post),
    ]
