"""Equirectangular projection with its standard parallel at the view's centre.

x grows east, y grows south, both in pixels of the final image. North-south distances are true
everywhere on the map; east-west distances are true on the standard parallel (the scale bar says
which) and off by under 4% within 3 degrees of latitude of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.maps.geodata import BBox

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180


def distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle (haversine) distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Projection:
    lon0: float
    """Longitude at pixel column ``cx``."""
    lat0: float
    """Latitude at pixel row ``cy``; the standard parallel."""
    px_per_km: float
    cx: float
    cy: float

    @property
    def px_per_lon(self) -> float:
        return KM_PER_DEGREE * math.cos(math.radians(self.lat0)) * self.px_per_km

    @property
    def px_per_lat(self) -> float:
        return KM_PER_DEGREE * self.px_per_km

    def to_pixel(self, lon: float, lat: float) -> tuple[float, float]:
        """Pixel (x, y) of a point, in the final image (0, 0 = top-left corner)."""
        return (
            self.cx + (lon - self.lon0) * self.px_per_lon,
            self.cy - (lat - self.lat0) * self.px_per_lat,
        )

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return (
            self.lon0 + (x - self.cx) / self.px_per_lon,
            self.lat0 - (y - self.cy) / self.px_per_lat,
        )

    def bbox(self, width: float, height: float) -> BBox:
        """Longitude/latitude box of an image of this size."""
        lon_min, lat_max = self.to_lonlat(0, 0)
        lon_max, lat_min = self.to_lonlat(width, height)
        return lon_min, lat_min, lon_max, lat_max

    def points(self, ring: Sequence[float], scale: float = 1.0) -> list[tuple[float, float]]:
        """Project a flat ring (lon0, lat0, lon1, lat1, ...) to pixel points, times ``scale``."""
        kx, ky = self.px_per_lon * scale, self.px_per_lat * scale
        ox, oy = self.cx * scale - self.lon0 * kx, self.cy * scale + self.lat0 * ky
        return [
            (ox + lon * kx, oy - lat * ky) for lon, lat in zip(ring[0::2], ring[1::2], strict=True)
        ]
