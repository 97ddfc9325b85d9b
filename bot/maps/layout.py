"""Which part of the world a map shows, and which places fall outside it.

The digest map fits all its places, except outliers that would shrink the rest to a speck (Moscow
on a map of the Kursk border, say): those are marked at the edge of the map with their direction
and distance. ``/where <place>`` centres on the place at a fixed zoom.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.digest.model import Place
from bot.maps.geodata import BBox
from bot.maps.projection import KM_PER_DEGREE, Projection, distance_km

WIDTH, HEIGHT = 1024, 768
TITLE_HEIGHT = 46
"""The title band across the top; the map is below it."""
FOOTER_HEIGHT = 22
"""The credit line across the bottom; the map is above it."""
MAP_TOP, MAP_BOTTOM = TITLE_HEIGHT, HEIGHT - FOOTER_HEIGHT
MARGINS = (130, 60, 130, 66)
"""left, top, right, bottom: room kept between the map's edge and the outermost places."""
EDGE_INSET = 24
"""Places closer than this to the map's edge count as beyond the view."""

MIN_SPAN_KM = 300.0
"""A digest map never zooms in closer than this across its usable width."""
ZOOM_SPAN_KM = 180.0
"""``/where <place>``: the usable width covers this many km."""
MAX_SPAN_KM = 2500.0
"""Wider than this and the places farthest out go to the edge."""
OUTLIER_RATIO = 2.0
"""A place that makes the view this many times wider goes to the edge..."""
OUTLIER_MIN_SPAN_KM = 150.0
"""...counting the view without it as at least this wide (a place 100 km from a tight cluster
stays on the map)."""

_REGION_WORDS = re.compile(
    r"\b(oblast|oblasts|region|province|krai|kray|raion|district|governorate|okrug)\b",
    re.IGNORECASE,
)


def is_region(place: Place) -> bool:
    """The place is a region (its point stands for the whole of it), not a town or a site."""
    return _REGION_WORDS.search(place.name) is not None


def region_name(place: Place) -> str | None:
    """The admin-1 region a place's ``region`` names ("Kursk oblast" of "Kursk oblast, Russia")."""
    if place.region is None:
        return None
    parts = [part.strip() for part in place.region.split(",") if part.strip()]
    return parts[0] if len(parts) >= 2 else None


def span_km(places: Sequence[Place]) -> float:
    """The larger of the east-west and north-south extent of the places' box."""
    lats = [p.lat for p in places]
    lons = [p.lon for p in places]
    mid = math.radians((min(lats) + max(lats)) / 2)
    width = (max(lons) - min(lons)) * KM_PER_DEGREE * math.cos(mid)
    height = (max(lats) - min(lats)) * KM_PER_DEGREE
    return max(width, height)


def sensible(places: Sequence[Place]) -> tuple[list[Place], list[Place]]:
    """Split places into those the view fits and outliers marked at its edge.

    Repeatedly drops the place whose removal shrinks the view most, while the view is wider than
    MAX_SPAN_KM or (with three places or more: of two, neither is the odd one out) that one place
    makes it OUTLIER_RATIO times wider. Ties go to the later place: the digest lists places in
    order of importance.
    """
    keep = list(places)
    dropped: list[Place] = []
    while len(keep) > 1:
        span = span_km(keep)
        best_i, best_span = 0, math.inf
        for i in range(len(keep)):
            rest_span = span_km(keep[:i] + keep[i + 1 :])
            if rest_span <= best_span:
                best_i, best_span = i, rest_span
        outlier = len(keep) >= 3 and span > OUTLIER_RATIO * max(best_span, OUTLIER_MIN_SPAN_KM)
        if span > MAX_SPAN_KM or outlier:
            dropped.append(keep.pop(best_i))
        else:
            break
    return keep, dropped


@dataclass(frozen=True)
class Beyond:
    """A place outside the view, marked at the edge."""

    place: Place
    distance_km: float
    reference: Place
    """The mapped place the distance is measured from (the focus on a zoomed map)."""


@dataclass(frozen=True)
class View:
    projection: Projection
    shown: tuple[Place, ...]
    beyond: tuple[Beyond, ...]
    focus: Place | None

    @property
    def map_box(self) -> tuple[int, int, int, int]:
        """The map's part of the picture: x0, y0, x1, y1."""
        return 0, MAP_TOP, WIDTH, MAP_BOTTOM


def in_frame(x: float, y: float) -> bool:
    return (
        EDGE_INSET <= x <= WIDTH - EDGE_INSET
        and MAP_TOP + EDGE_INSET <= y <= MAP_BOTTOM - EDGE_INSET
    )


def _fit(box: BBox, min_span_km: float = MIN_SPAN_KM, reserve_bottom: float = 0) -> Projection:
    """Fit a lon/lat box into the map's usable area (inside MARGINS, and above the reserve)."""
    left, top, right, margin_bottom = MARGINS
    bottom = max(float(margin_bottom), reserve_bottom)
    usable_w = WIDTH - left - right
    usable_h = MAP_BOTTOM - MAP_TOP - top - bottom
    lon_min, lat_min, lon_max, lat_max = box
    lat0 = (lat_min + lat_max) / 2
    lon0 = (lon_min + lon_max) / 2
    width_km = (lon_max - lon_min) * KM_PER_DEGREE * math.cos(math.radians(lat0))
    height_km = (lat_max - lat_min) * KM_PER_DEGREE
    px_per_km = min(
        usable_w / max(width_km, 1e-9),
        usable_h / max(height_km, 1e-9),
        usable_w / min_span_km,
    )
    return Projection(
        lon0=lon0,
        lat0=lat0,
        px_per_km=px_per_km,
        cx=left + usable_w / 2,
        cy=MAP_TOP + top + usable_h / 2,
    )


def _zoom(focus: Place) -> Projection:
    left, top, right, bottom = MARGINS
    usable_w = WIDTH - left - right
    usable_h = MAP_BOTTOM - MAP_TOP - top - bottom
    return Projection(
        lon0=focus.lon,
        lat0=focus.lat,
        px_per_km=usable_w / ZOOM_SPAN_KM,
        cx=left + usable_w / 2,
        cy=MAP_TOP + top + usable_h / 2,
    )


def box_of(places: Sequence[Place]) -> BBox:
    lats = [p.lat for p in places]
    lons = [p.lon for p in places]
    return min(lons), min(lats), max(lons), max(lats)


def plan(
    places: Sequence[Place],
    focus: Place | None = None,
    focus_box: BBox | None = None,
    reserve_bottom: float = 0,
) -> View:
    """The view of a digest's places, or of one place (``focus``) and what lies near it.

    ``focus_box``: the area the focus stands for (a region's outline), fitted when given.
    ``reserve_bottom``: keep the places of a digest map this far above the bottom edge (room for
    the legend when every corner of the map has a place in it).
    """
    if not places and focus is None:
        raise ValueError("no places to map")
    if focus is not None:
        projection = _zoom(focus) if focus_box is None else _fit(focus_box, ZOOM_SPAN_KM)
        candidates = [focus, *(p for p in places if p != focus)]
    else:
        core, _ = sensible(places)
        projection = _fit(box_of(core), reserve_bottom=reserve_bottom)
        candidates = list(places)
    shown = [p for p in candidates if in_frame(*projection.to_pixel(p.lon, p.lat))]
    if focus is not None and focus not in shown:  # a zoomed map always shows its focus
        shown.insert(0, focus)
    beyond = []
    for place in candidates:
        if place in shown:
            continue
        if focus is not None:
            reference = focus
        else:
            reference = min(shown, key=lambda s: distance_km(s.lon, s.lat, place.lon, place.lat))
        beyond.append(
            Beyond(
                place=place,
                distance_km=distance_km(reference.lon, reference.lat, place.lon, place.lat),
                reference=reference,
            )
        )
    return View(projection=projection, shown=tuple(shown), beyond=tuple(beyond), focus=focus)
