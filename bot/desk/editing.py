"""The review form ↔ digest data. Field names are the loader's own field paths
(``figures[2].source``), so each ``FILE:LINE: field: problem`` lands next to its input.

Nothing is validated here: the form becomes YAML and the loader judges it, the same way as
``check`` does, so the desk can never accept what the bot would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import yaml

from bot.digest.load import Problem
from bot.digest.model import Figure, Place, Source, SummaryPoint


def _order(fields: tuple[str, ...]) -> tuple[str, ...]:
    """What the item says first, then who says it and the article's words."""
    return (*(f for f in fields if f not in ("source", "quote")), "source", "quote")


GROUPS: dict[str, tuple[str, ...]] = {
    "summary": _order(tuple(SummaryPoint.model_fields)),
    "figures": _order(tuple(Figure.model_fields)),
    "places": _order(tuple(Place.model_fields)),
}
SOURCE_FIELDS = tuple(Source.model_fields)
ARTICLE_FIELDS = ("publisher", "headline", "url")
TOP_FIELDS = ("title", "published")
NEW_SOURCE = "__new__"
REQUIRED: dict[str, set[str]] = {
    group: {name for name, info in model.model_fields.items() if info.is_required()}
    for group, model in (("summary", SummaryPoint), ("figures", Figure), ("places", Place))
}
_ITEM = re.compile(r"^(summary|figures|places)\[(\d{1,4})\]\.(\w+)$")
_SOURCE = re.compile(r"^sources\.([a-z0-9][a-z0-9-]{0,79})\.(\w+)$")
_RANGE = re.compile(r"^\s*(-?[\d.,]+)\s*(?:\u2013|-|to)\s*(-?[\d.,]+)\s*$")


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # the loader refuses aliases


def to_yaml(data: Mapping[str, Any]) -> str:
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def value_text(value: object) -> str:
    """A figure's value as typed in the form: ``945`` or ``100-200`` (an en dash)."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"{_num(value[0])}\u2013{_num(value[1])}"
    return _num(value)


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _number(text: str) -> object:
    """'945' → 945, '1.5' → 1.5; anything else stays text for the loader to refuse clearly."""
    cleaned = text.strip().replace(",", "")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        return float(cleaned)
    except ValueError:
        return text.strip()


def _value(text: str) -> object:
    match = _RANGE.match(text)
    if match:
        return [_number(match.group(1)), _number(match.group(2))]
    return _number(text)


def _date(text: str) -> object:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return text.strip()


def from_form(form: Mapping[str, str], base: Mapping[str, Any]) -> dict[str, Any]:
    """The digest the form describes. ``base`` supplies what the form does not show
    (``schema``, ``id``, ``article.text``); every item comes from the form alone."""
    data: dict[str, Any] = {
        k: v for k, v in base.items() if k not in ("summary", "figures", "places")
    }
    for name in TOP_FIELDS:
        if name in form:
            data[name] = _date(form[name]) if name == "published" else form[name].strip()
    article = dict(base.get("article") or {})
    for name in ARTICLE_FIELDS:
        key = f"article.{name}"
        if key in form:
            text = form[key].strip()
            if text:
                article[name] = text
            elif name == "url":
                article[name] = None
            else:
                article[name] = ""
    data["article"] = article

    sources: dict[str, Any] = {}
    old_sources = base.get("sources") if isinstance(base.get("sources"), dict) else {}
    for key, value in (old_sources or {}).items():
        sources[key] = dict(value) if isinstance(value, dict) else value
    for name, raw in form.items():
        match = _SOURCE.match(name)
        if (
            match
            and match.group(2) in SOURCE_FIELDS
            and isinstance(sources.get(match.group(1)), dict)
        ):
            text = raw.strip()
            if text:
                sources[match.group(1)][match.group(2)] = text
            else:
                sources[match.group(1)].pop(match.group(2), None)
    new_key = form.get("new_source.key", "").strip()
    if new_key:
        fresh = {f: form.get(f"new_source.{f}", "").strip() for f in SOURCE_FIELDS}
        sources[new_key] = {f: v for f, v in fresh.items() if v}
    data["sources"] = sources

    items: dict[str, dict[int, dict[str, Any]]] = {g: {} for g in GROUPS}
    for name, raw in form.items():
        match = _ITEM.match(name)
        if not match:
            continue
        group, index, key = match.group(1), int(match.group(2)), match.group(3)
        if key not in GROUPS[group]:
            continue
        items[group].setdefault(index, {})[key] = raw
    removed = {
        (m.group(1), int(m.group(2)))
        for name in form
        if (m := re.match(r"^(summary|figures|places)\[(\d{1,4})\]\._remove$", name))
    }
    for group, found in items.items():
        out = []
        for index in sorted(found):
            if (group, index) in removed:
                continue
            out.append(_item(group, found[index], new_key))
        if out or group == "summary":
            data[group] = out
    return data


def _item(group: str, raw: Mapping[str, str], new_key: str) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for key in GROUPS[group]:
        text = raw.get(key, "")
        if key == "source" and text == NEW_SOURCE:
            text = new_key
        if not text.strip():
            if key in REQUIRED[group]:
                item[key] = ""  # the loader then says "must not be empty" at this field
            continue
        if key == "value":
            item[key] = _value(text)
        elif key in ("lat", "lon"):
            item[key] = _number(text)
        elif key == "quote":
            item[key] = " ".join(text.split())
        else:
            item[key] = text.strip()
    return item


def blank_item(group: str) -> dict[str, Any]:
    return {key: "" for key in GROUPS[group]}


def field_errors(problems: tuple[Problem, ...]) -> tuple[dict[str, list[str]], list[str]]:
    """Problems by field path (for the inputs), and those that belong to no input."""
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for problem in problems:
        if problem.field:
            by_field.setdefault(problem.field, []).append(problem.message)
        else:
            general.append(problem.message)
    return by_field, general


def to_values(data: Mapping[str, Any]) -> dict[str, str]:
    """The form's inputs for a digest's data (the inverse of ``from_form``)."""
    values: dict[str, str] = {}
    for name in TOP_FIELDS:
        if data.get(name) is not None:
            values[name] = str(data[name])
    article = data.get("article")
    if isinstance(article, dict):
        for name in ARTICLE_FIELDS:
            values[f"article.{name}"] = "" if article.get(name) is None else str(article[name])
    sources = data.get("sources")
    if isinstance(sources, dict):
        for key, source in sources.items():
            if isinstance(source, dict):
                for name in SOURCE_FIELDS:
                    value = source.get(name)
                    values[f"sources.{key}.{name}"] = "" if value is None else str(value)
    for group, fields in GROUPS.items():
        items = data.get(group)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for name in fields:
                value = item.get(name)
                shown = value_text(value) if name == "value" and value is not None else _num(value)
                values[f"{group}[{index}].{name}"] = shown
    return values


def indices(values: Mapping[str, str]) -> dict[str, list[int]]:
    """Which items the values hold, per group, in order."""
    found: dict[str, set[int]] = {group: set() for group in GROUPS}
    for name in values:
        match = _ITEM.match(name)
        if match:
            found[match.group(1)].add(int(match.group(2)))
    return {group: sorted(numbers) for group, numbers in found.items()}


def source_keys(values: Mapping[str, str]) -> list[str]:
    keys = [m.group(1) for name in values if (m := _SOURCE.match(name)) and m.group(2) == "name"]
    return list(dict.fromkeys(keys))


def quotes(values: Mapping[str, str]) -> list[tuple[str, str]]:
    """(anchor, quote) for every item in the values, for highlighting the article."""
    out = []
    for group, numbers in indices(values).items():
        for index in numbers:
            quote = values.get(f"{group}[{index}].quote", "")
            if quote.strip():
                out.append((f"{group}-{index}", quote))
    return out
