"""Provinces, states, counties: GeoNames admin-1 and admin-2 names, each with a point.

``data/regions.json.gz`` is made by ``bot/draft/build_regions.py`` (its docstring says how);
GeoNames data, CC BY 4.0. Like the gazetteer, it is read through an SQLite index written to
the user's cache folder at first use. A region's point is its capital, the seat GeoNames marks
(Kerala → Thiruvananthapuram); without one, the place of its own name; else its most notable
place (``Region.how`` says which). It stands for the region on a map and is named in the
draft's note, so an editor can move it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.draft.geo import OPEN_LOCK, cached_index, default_cache_dir, fold_name

DATA_FILE = Path(__file__).resolve().parent / "data" / "regions.json.gz"
FORMAT = "digest-bot-regions/3"


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
    how: str
    """Why that place: "capital" (the seat GeoNames marks), "name" (the place of the region's
    own name) or "notable" (its most notable place: population and alternate names)."""


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
    """Folded, with direction words normalised ("Northern Darfur" ~ "North Darfur") and
    German umlauts spelled out or not alike ("Baden-Wuerttemberg" ~ "Baden-Württemberg")."""
    words = re.sub(r"(?<=[a-z])([aou])e", r"\1", fold_name(name)).split()
    return " ".join(_DIRECTIONS.get(w, w) for w in words)


_PREFIXES = re.compile(
    r"^(?:province of|county of|city of|city and borough of|borough of|region of|muhafazat"
    r"|provincia de|provincia di|departement de|state of|sir)\s+"
)
_FORMAL = re.compile(
    r"\s+(?:sheng|shi|zizhiqu|uygur zizhiqu|huizu zizhiqu|autonomous region|governorate"
    r"|prefecture|county borough|area|oblast'?|kray|republic)$"
)


def _plain(key: str) -> str:
    """ "Gansu Sheng" → "gansu"; "Province of Davao del Sur" → "davao del sur"."""
    return _FORMAL.sub("", _PREFIXES.sub("", key)).strip()


def table_keys(name: str) -> set[str]:
    """The lookup keys of a region's name, computed once when the table is built."""
    key = region_key(name)
    keys = {key, _plain(key)}
    words = _plain(key).split()
    if len(words) >= 3:
        keys.add(" ".join(words[1:]))  # "Orange Free State" → "free state"
    return keys | {_SUFFIXES.sub("", k) for k in keys}


def _load() -> tuple[list[list[Any]], dict[str, list[int]]]:
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    if data.get("header", {}).get("format") != FORMAT:
        raise RuntimeError(f"{DATA_FILE} is not in the {FORMAT} format")
    return data["regions"], data["keys"]


def _build(db: sqlite3.Connection) -> None:
    rows, keys = _load()
    db.executescript(
        """
        CREATE TABLE regions (id INTEGER PRIMARY KEY, cc TEXT, level INTEGER, name TEXT,
                              parent TEXT, lat REAL, lon REAL, seat TEXT, how TEXT);
        CREATE TABLE keys (key TEXT, region INTEGER, PRIMARY KEY (key, region)) WITHOUT ROWID;
        """
    )
    db.executemany(
        "INSERT INTO regions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((n, *row) for n, row in enumerate(rows)),
    )
    db.executemany(
        "INSERT INTO keys VALUES (?, ?)", ((k, n) for k, ns in sorted(keys.items()) for n in ns)
    )
    db.commit()


@functools.cache
def _index_path(cache_dir: Path | None) -> Path:
    """Keyed by the data file's format and content (a rebuilt table may keep its size)."""
    digest = hashlib.sha256(DATA_FILE.read_bytes()).hexdigest()[:16]
    name = f"regions-{FORMAT.replace('/', '-')}-{digest}.sqlite3"
    return (cache_dir or default_cache_dir()) / name


def _lookup(key: str, cache_dir: Path | None = None) -> list[Region]:
    with OPEN_LOCK:
        db = cached_index(_index_path(cache_dir), _build)
        rows = db.execute(
            "SELECT r.name, r.cc, r.level, r.parent, r.lat, r.lon, r.seat, r.how FROM keys k"
            " JOIN regions r ON r.id = k.region WHERE k.key = ? ORDER BY r.id",
            (key,),
        ).fetchall()
    return [Region(*row) for row in rows]


def find_regions(name: str, countries: Iterable[str] = ()) -> list[Region]:
    """Regions called ``name`` (a region word such as "province" may follow it), in the
    given countries when any are given."""
    full = region_key(name)
    key = _SUFFIXES.sub("", full)
    wanted = set(countries)
    found: list[Region] = []
    for option in (full, key, f"{key} county" if full.endswith("county") else ""):
        found += [r for r in _lookup(option) if r not in found]
    if not full.endswith("county"):
        found = [r for r in found if not r.name.casefold().endswith(" county")]
    return [r for r in found if not wanted or r.country in wanted]
