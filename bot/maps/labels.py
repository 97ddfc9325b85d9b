"""Greedy label placement: first free candidate position wins, nothing may overlap."""

from __future__ import annotations

from dataclasses import dataclass, field

Rect = tuple[float, float, float, float]
"""x0, y0, x1, y1 in pixels."""


def intersects(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def grow(rect: Rect, by: float) -> Rect:
    return rect[0] - by, rect[1] - by, rect[2] + by, rect[3] + by


def within(outer: Rect, inner: Rect) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and (inner[3] <= outer[3])
    )


def square(x: float, y: float, radius: float) -> Rect:
    return x - radius, y - radius, x + radius, y + radius


@dataclass
class Occupancy:
    """Rectangles already taken on the map (markers, labels, legend, ...)."""

    bounds: Rect
    """Everything placed must lie inside this."""
    taken: list[Rect] = field(default_factory=list)

    def free(self, rect: Rect) -> bool:
        return within(self.bounds, rect) and not any(intersects(rect, t) for t in self.taken)

    def add(self, rect: Rect) -> None:
        self.taken.append(rect)


def nearest_point(rect: Rect, x: float, y: float) -> tuple[float, float]:
    return min(max(x, rect[0]), rect[2]), min(max(y, rect[1]), rect[3])


def snug(x: float, y: float, w: float, h: float, radius: float) -> list[Rect]:
    """The eight w x h boxes that touch a marker of this radius at (x, y), best first.

    Right and left first (they read best), then above, below and the diagonals.
    """
    gap = radius + 3
    d = gap * 0.7
    corners = [
        (x + gap, y - h / 2),
        (x - gap - w, y - h / 2),
        (x - w / 2, y - gap - h),
        (x - w / 2, y + gap),
        (x + d, y - d - h),
        (x + d, y + d),
        (x - d - w, y - d - h),
        (x - d - w, y + d),
    ]
    return [(left, top, left + w, top + h) for left, top in corners]
