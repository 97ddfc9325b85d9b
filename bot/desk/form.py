"""The review form as plain values for the template: one ``Field`` per input, built here so the
template only prints them (and so each problem is attached to its input once, in Python)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.desk.editing import GROUPS, NEW_SOURCE, indices, source_keys
from bot.digest.model import Qualifier, SourceKind, Status

Kind = Literal["text", "long", "select"]
CHOICES: dict[str, tuple[str, ...]] = {
    "status": Status.__args__,  # type: ignore[attr-defined]
    "qualifier": ("", *Qualifier.__args__),  # type: ignore[attr-defined]
    "kind": SourceKind.__args__,  # type: ignore[attr-defined]
}
LONG = {"quote", "text", "what", "note"}
LABELS = {
    "source": "claimant",
    "published": "published (YYYY-MM-DD)",
    "url": "article URL (only when known)",
    "side": "side (a party to the events)",
}
TITLES = {
    "summary": ("Summary", "Point", "summary point"),
    "figures": ("Figures", "Figure", "figure"),
    "places": ("Places", "Place", "place"),
}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: Kind
    value: str
    options: tuple[tuple[str, str], ...] = ()
    """(value, label) for a select; the current value is first when it is not a choice."""
    errors: tuple[str, ...] = ()
    quote: bool = False


@dataclass(frozen=True)
class Item:
    anchor: str
    base: str
    title: str
    errors: tuple[str, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Group:
    name: str
    title: str
    add: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Form:
    digest: tuple[Field, ...]
    sources: tuple[tuple[str, tuple[Field, ...]], ...]
    new_source: tuple[Field, ...]
    groups: tuple[Group, ...]


def _options(current: str, choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    if any(value == current for value, _ in choices):
        return choices
    return ((current, current or "—"), *choices)


def build(values: Mapping[str, str], errors: Mapping[str, list[str]]) -> Form:
    def field(name: str, key: str, choices: tuple[tuple[str, str], ...] | None = None) -> Field:
        value = values.get(name, "")
        problems = tuple(errors.get(name, ()))
        label = LABELS.get(key, key)
        if choices is not None:
            return Field(name, label, "select", value, _options(value, choices), problems)
        kind: Kind = "long" if key in LONG else "text"
        return Field(name, label, kind, value, (), problems, quote=key == "quote")

    def plain(options: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        return tuple((o, o or "(none)") for o in options)

    choices = {name: plain(options) for name, options in CHOICES.items()}
    keys = source_keys(values)
    claimants = tuple((k, values.get(f"sources.{k}.name", k)) for k in keys)
    claimants += ((NEW_SOURCE, "a new source (fill in below)"),)
    digest = tuple(
        field(name, name.rsplit(".", 1)[-1])
        for name in ("title", "published", "article.publisher", "article.headline", "article.url")
    )
    sources = tuple(
        (
            key,
            (
                field(f"sources.{key}.name", "name"),
                field(f"sources.{key}.kind", "kind", choices["kind"]),
                field(f"sources.{key}.side", "side"),
            ),
        )
        for key in keys
    )
    new_source = (
        field("new_source.key", "key (slug)"),
        field("new_source.name", "name"),
        field("new_source.kind", "kind", choices["kind"]),
        field("new_source.side", "side"),
    )
    groups = []
    found = indices(values)
    for group, names in GROUPS.items():
        title, singular, add = TITLES[group]
        items = []
        for number, index in enumerate(found[group], start=1):
            base = f"{group}[{index}]"
            fields = tuple(
                field(
                    f"{base}.{name}",
                    name,
                    claimants
                    if name == "source"
                    else plain(CHOICES[name])
                    if name in CHOICES
                    else None,
                )
                for name in names
            )
            items.append(
                Item(
                    f"{group}-{index}",
                    base,
                    f"{singular} {number}",
                    tuple(errors.get(base, ())),
                    fields,
                )
            )
        groups.append(Group(group, title, add, tuple(items)))
    return Form(digest, sources, new_source, tuple(groups))
