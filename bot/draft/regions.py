"""Provinces, states, counties: GeoNames admin-1 and admin-2 names, each with a point.

``data/regions.json.gz`` is made by ``bot/draft/build_regions.py`` (its docstring says how);
GeoNames data, CC BY 4.0. A region's point is the place of its own name when it has one
(Kursk oblast → Kursk), else its most populous place: it stands for the region on a map and is
named in the draft's note, so an editor can move it.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.draft.geo import fold_name

DATA_FILE = Path(__file__).resolve().parent / "data" / "regions.json.gz"
FORMAT = "digest-bot-regions/1"


@dataclass(frozen=True)
class Region:
    name: str
    country: str
    level: int
    """1: a state or province; 2: a county or district."""
    parent: str
    """The admin-1 region of an admin-2 one ("Florida" for "Manatee County"), else ''."""
    lat: float
    lon: float
    seat: str
    """The place whose coordinates stand for the region."""


_DIRECTIONS = {
    "northern": "north",
    "nord": "north",
    "shamal": "north",
    "southern": "south",
    "sud": "south",
    "janub": "south",
    "eastern": "east",
    "est": "east",
    "western": "west",
    "ouest": "west",
}
_SUFFIXES = re.compile(
    r"\s+(?:province|region|state|oblast|governorate|prefecture|county|district|regency"
    r"|krai|territory)$"
)


def region_key(name: str) -> str:
    """Folded, with direction words normalised ("Northern Darfur" ~ "North Darfur")."""
    words = fold_name(name).split()
    return " ".join(_DIRECTIONS.get(w, w) for w in words)


@functools.cache
def _table() -> dict[str, tuple[Region, ...]]:
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    if data.get("header", {}).get("format") != FORMAT:
        raise RuntimeError(f"{DATA_FILE} is not in the {FORMAT} format")
    out: dict[str, list[Region]] = {}
    for cc, level, name, parent, lat, lon, seat in data["regions"]:
        region = Region(name, cc, level, parent, lat, lon, seat)
        key = region_key(name)
        keys = {key}
        words = key.split()
        if len(words) >= 3:
            keys.add(" ".join(words[1:]))  # "Orange Free State" → "free state"
        keys |= {_SUFFIXES.sub("", k) for k in keys}
        for k in keys:
            out.setdefault(k, []).append(region)
    return {k: tuple(v) for k, v in out.items()}


def find_regions(name: str, countries: Iterable[str] = ()) -> list[Region]:
    """Regions called ``name`` (a region word such as "province" may follow it), in the
    given countries when any are given."""
    full = region_key(name)
    key = _SUFFIXES.sub("", full)
    wanted = set(countries)
    table = _table()
    found: list[Region] = []
    for option in (full, key, f"{key} county" if full.endswith("county") else ""):
        found += [r for r in table.get(option, ()) if r not in found]
    if not full.endswith("county"):
        found = [r for r in found if not r.name.casefold().endswith(" county")]
    return [r for r in found if not wanted or r.country in wanted]
