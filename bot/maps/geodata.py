"""The Natural Earth clip shipped in ``data/borders.json.gz``, loaded once per process.

The file is made by ``scripts/build_map_data.py``; its ``header`` records the Natural Earth
version, scale, licence and the point-of-view (Crimea) decision. Coordinates here are degrees.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent / "data" / "borders.json.gz"
FORMAT = "digest-bot-borders/1"

BBox = tuple[float, float, float, float]
"""lon_min, lat_min, lon_max, lat_max"""
Ring = tuple[float, ...]
"""A ring or line, flat: lon0, lat0, lon1, lat1, ..."""


class MapDataError(RuntimeError):
    """The shipped map data is missing or not in the expected format."""


def overlaps(a: BBox, b: BBox) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def inside(outer: BBox, inner: BBox) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and (inner[3] <= outer[3])
    )


def in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd ray casting."""
    result = False
    n = len(ring) // 2
    x1, y1 = ring[2 * n - 2], ring[2 * n - 1]
    for i in range(n):
        x2, y2 = ring[2 * i], ring[2 * i + 1]
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            result = not result
        x1, y1 = x2, y2
    return result


def _scale(flat: Sequence[int], unit: float) -> Ring:
    return tuple(map((1.0 / unit).__mul__, flat))


def _raw_bbox(flat: Sequence[int], unit: float) -> BBox:
    lons, lats = flat[0::2], flat[1::2]
    return min(lons) / unit, min(lats) / unit, max(lons) / unit, max(lats) / unit


@dataclass(frozen=True)
class Shape:
    """One polygon: an exterior ring and its holes.

    Coordinates are kept as the file's integers and turned into degrees on first use: most
    shapes are never drawn, and loading stays fast.
    """

    bbox: BBox
    raw: tuple[Sequence[int], ...] = field(repr=False, compare=False)
    unit: float = field(repr=False, compare=False)

    @cached_property
    def rings(self) -> tuple[Ring, ...]:
        return tuple(_scale(r, self.unit) for r in self.raw)

    @property
    def exterior(self) -> Ring:
        return self.rings[0]

    @property
    def holes(self) -> tuple[Ring, ...]:
        return self.rings[1:]

    def contains(self, lon: float, lat: float) -> bool:
        if not (self.bbox[0] <= lon <= self.bbox[2] and self.bbox[1] <= lat <= self.bbox[3]):
            return False
        return in_ring(lon, lat, self.exterior) and not any(
            in_ring(lon, lat, hole) for hole in self.holes
        )


@dataclass(frozen=True)
class Country:
    code: str
    """ISO-like ADM0_A3 code, e.g. UKR."""
    name: str
    detail: tuple[Shape, ...]
    """1:10m outline clipped to the detail box; empty for countries outside it."""
    world: tuple[Shape, ...]
    """Coarse outline of the whole country, for views beyond the detail box."""

    def shapes(self, detailed: bool) -> tuple[Shape, ...]:
        return self.detail if detailed else self.world

    def contains(self, lon: float, lat: float, detailed: bool) -> bool:
        return any(shape.contains(lon, lat) for shape in self.shapes(detailed))


@dataclass(frozen=True)
class Region:
    """An admin-1 face (an oblast, say): derived from Natural Earth lines, it has no name."""

    index: int
    country: str
    shape: Shape


@dataclass(frozen=True)
class Line:
    bbox: BBox
    raw: Sequence[int] = field(repr=False, compare=False)
    unit: float = field(repr=False, compare=False)

    @cached_property
    def points(self) -> Ring:
        return _scale(self.raw, self.unit)


@dataclass(frozen=True)
class LandBorder:
    countries: tuple[str, str]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class GeoData:
    header: dict[str, Any]
    digest: str
    """sha256 of the data file: part of every cache key."""
    detail_bbox: BBox
    countries: tuple[Country, ...]
    land_borders: tuple[LandBorder, ...]
    admin1_lines: dict[str, tuple[Line, ...]]
    """Admin-1 (oblast) lines by country code."""
    regions: tuple[Region, ...]

    @property
    def credit(self) -> str:
        return str(self.header["credit"])

    def covers_in_detail(self, bbox: BBox) -> bool:
        return inside(self.detail_bbox, bbox)

    def in_detail(self, lon: float, lat: float) -> bool:
        return inside(self.detail_bbox, (lon, lat, lon, lat))

    def country_at(self, lon: float, lat: float) -> Country | None:
        detailed = self.in_detail(lon, lat)
        return next((c for c in self.countries if c.contains(lon, lat, detailed)), None)

    def region_at(self, lon: float, lat: float) -> Region | None:
        return next((r for r in self.regions if r.shape.contains(lon, lat)), None)


def _shapes(polygons: Iterable[Sequence[Sequence[int]]], unit: float) -> tuple[Shape, ...]:
    return tuple(Shape(_raw_bbox(p[0], unit), tuple(p), unit) for p in polygons)


def _line(flat: Sequence[int], unit: float) -> Line:
    return Line(_raw_bbox(flat, unit), flat, unit)


def load(path: Path = DATA_FILE) -> GeoData:
    try:
        raw = path.read_bytes()
        data = json.loads(gzip.decompress(raw))
    except (OSError, ValueError) as error:
        raise MapDataError(f"cannot read map data {path}: {error}") from error
    header = data.get("header", {})
    if header.get("format") != FORMAT:
        raise MapDataError(f"{path}: format {header.get('format')!r}, expected {FORMAT!r}")
    unit = float(header["coordinates"].split("1/")[1].split()[0])
    countries = tuple(
        Country(
            code=c["a3"],
            name=c["name"],
            detail=_shapes(c.get("detail", []), unit),
            world=_shapes(c["world"], unit),
        )
        for c in data["countries"]
    )
    land_borders = tuple(
        LandBorder(
            countries=(b["countries"][0], b["countries"][1]),
            lines=tuple(_line(flat, unit) for flat in b["lines"]),
        )
        for b in data["land_borders"]
    )
    regions = tuple(
        Region(index=i, country=r["country"], shape=_shapes([r["polygon"]], unit)[0])
        for i, r in enumerate(data["regions"])
    )
    lon0, lat0, lon1, lat1 = header["detail_bbox"]
    return GeoData(
        header=header,
        digest=hashlib.sha256(raw).hexdigest(),
        detail_bbox=(float(lon0), float(lat0), float(lon1), float(lat1)),
        countries=countries,
        land_borders=land_borders,
        admin1_lines={
            code: tuple(_line(flat, unit) for flat in lines)
            for code, lines in data["admin1_lines"].items()
        },
        regions=regions,
    )


_loaded: GeoData | None = None
_load_lock = threading.Lock()


def geodata() -> GeoData:
    """The shipped data, loaded on first use (about 0.1 s) and kept for the process."""
    global _loaded
    with _load_lock:
        if _loaded is None:
            _loaded = load()
        return _loaded
