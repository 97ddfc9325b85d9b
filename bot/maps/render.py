"""Draw a ``/where`` map with Pillow.

Everything is planned first (view, shaded regions, markers, edge arrows, legend, every label's
box), then drawn: shapes on a canvas twice the final size, reduced for anti-aliasing, then text
at full resolution with a white halo so that it stays readable over borders and shading.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageChops, ImageDraw, ImageFont

from bot.digest.model import Digest, Place
from bot.maps.geodata import BBox, Country, GeoData, Region, geodata, overlaps
from bot.maps.labels import Occupancy, Rect, grow, intersects, nearest_point, snug, square
from bot.maps.layout import (
    EDGE_INSET,
    HEIGHT,
    MAP_BOTTOM,
    MAP_TOP,
    WIDTH,
    Beyond,
    View,
    is_region,
    plan,
    region_name,
)
from bot.maps.projection import Projection

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SS = 2
"""Supersampling factor for shapes."""

Colour = tuple[int, int, int]
SEA: Colour = (200, 222, 238)
LAND: Colour = (234, 231, 224)
LAND_INVOLVED: Colour = (252, 251, 247)
COAST: Colour = (120, 155, 185)
ADMIN1: Colour = (178, 172, 162)
BORDER: Colour = (60, 60, 60)
BORDER_OTHER: Colour = (135, 135, 135)
REGION_FILL: Colour = (243, 146, 52)
REGION_ALPHA = 72
REGION_EDGE: Colour = (214, 110, 20)
REGION_TEXT: Colour = (150, 72, 0)
MARKER: Colour = (200, 28, 28)
WHITE: Colour = (255, 255, 255)
INK: Colour = (25, 25, 25)
MUTED: Colour = (95, 95, 95)
COUNTRY_TEXT: Colour = (105, 105, 105)
COUNTRY_TEXT_OTHER: Colour = (150, 150, 150)
FRAME: Colour = (170, 170, 170)

TOWN_RADIUS = 6
REGION_RADIUS = 7
FOCUS_RADIUS = 8
FOCUS_RING = 13
HALO_KM = 40.0
"""Radius of the disc drawn for a named region whose outline the data does not have."""
HALO = 2
"""White outline around label text, in pixels."""

CREDIT_NOTE = "Internationally recognised borders (Crimea: Ukraine); no front line shown"

_render_lock = threading.Lock()


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans, shipped in ``fonts/`` (Pillow's own font has no Cyrillic)."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), size, layout_engine=ImageFont.Layout.BASIC)


@dataclass(frozen=True)
class TextLine:
    text: str
    size: int
    bold: bool = False
    fill: Colour = INK

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return font(self.size, self.bold)

    @property
    def width(self) -> float:
        return self.font.getlength(self.text)

    @property
    def height(self) -> int:
        ascent, descent = self.font.getmetrics()
        return ascent + descent


@dataclass(frozen=True)
class Block:
    """Lines of text drawn together, left-aligned, with a white halo."""

    lines: tuple[TextLine, ...]
    halo: int = HALO

    @property
    def width(self) -> float:
        return max(line.width for line in self.lines) + 2 * self.halo

    @property
    def height(self) -> float:
        return sum(line.height for line in self.lines) + 2 * self.halo

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


LabelKind = Literal["place", "beyond", "region", "country"]


@dataclass(frozen=True)
class Label:
    kind: LabelKind
    block: Block
    rect: Rect
    anchor: tuple[float, float] | None = None
    """The point labelled (marker, arrow); a leader line joins it to the box when set."""
    leader: bool = False

    @property
    def text(self) -> str:
        return self.block.text


@dataclass(frozen=True)
class Marker:
    place: Place
    x: float
    y: float
    shape: Literal["town", "region"]
    focus: bool

    @property
    def radius(self) -> float:
        if self.focus:
            return FOCUS_RING
        return REGION_RADIUS if self.shape == "region" else TOWN_RADIUS

    @property
    def rect(self) -> Rect:
        """The marker with its white edge (a diamond's points reach a little further)."""
        return square(self.x, self.y, self.radius + (3 if self.shape == "region" else 2))


@dataclass(frozen=True)
class Arrow:
    """Places beyond the view, in one direction: a triangle at the map's edge."""

    tip: tuple[float, float]
    direction: tuple[float, float]
    places: tuple[Beyond, ...]

    HEAD = 15
    """Length of the arrow head; the shaft behind it is as long again."""

    def triangle(self, scale: float = 1.0) -> list[tuple[float, float]]:
        """The arrow head: a slender triangle pointing out of the map."""
        (x, y), (dx, dy) = self.tip, self.direction
        bx, by = x - dx * self.HEAD, y - dy * self.HEAD
        px, py = -dy * 6.5, dx * 6.5
        corners = [(x, y), (bx + px, by + py), (bx - px, by - py)]
        return [(cx * scale, cy * scale) for cx, cy in corners]

    def shaft(self, scale: float = 1.0) -> list[tuple[float, float]]:
        (x, y), (dx, dy) = self.tip, self.direction
        ends = [(x - dx * (self.HEAD - 1), y - dy * (self.HEAD - 1))]
        ends.append((x - dx * self.HEAD * 2, y - dy * self.HEAD * 2))
        return [(ex * scale, ey * scale) for ex, ey in ends]

    @property
    def base(self) -> tuple[float, float]:
        """The shaft's end, where a label's leader line starts."""
        return self.shaft()[1]

    @property
    def rect(self) -> Rect:
        points = self.triangle() + self.shaft()
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        return grow((min(xs), min(ys), max(xs), max(ys)), 2)


@dataclass(frozen=True)
class Shade:
    """A region the digest names: an admin-1 face when the data has it, else a halo."""

    name: str
    region: Region | None
    lon: float
    lat: float
    labelled_by_marker: bool
    """A region-type place's marker label already names it: no separate label."""
    country: Country | None = None
    """For a halo: the country it is clipped to (no shading over the sea or abroad)."""


@dataclass(frozen=True)
class LegendRow:
    symbol: Literal["town", "region", "shade", "halo", "arrow", "scale"]
    text: str


@dataclass(frozen=True)
class Legend:
    rows: tuple[LegendRow, ...]
    rect: Rect
    scale_km: float
    scale_px: float
    scale_note: str

    ROW = 20
    PAD = 8

    def row_y(self, i: int) -> float:
        return self.rect[1] + self.PAD + self.ROW * i + 9


@dataclass(frozen=True)
class Rendered:
    image: Image.Image
    view: View
    markers: tuple[Marker, ...]
    arrows: tuple[Arrow, ...]
    labels: tuple[Label, ...]
    shades: tuple[Shade, ...]
    legend: Legend
    involved: frozenset[str]
    """Codes of the countries the digest's places lie in."""
    detailed: bool
    """Drawn from the 1:10m clip (False: coarse world outlines)."""


def km_text(km: float) -> str:
    return f"{km:.0f} km" if km < 100 else f"{round(km, -1):,.0f} km"


def shades_for(places: Sequence[Place], data: GeoData) -> list[Shade]:
    """The regions the places name: region-type places, and the region in a place's ``region``."""
    found: dict[str, Shade] = {}
    for place in places:
        if is_region(place):
            name, by_marker = place.name, True
        else:
            named = region_name(place)
            if named is None:
                continue
            name, by_marker = named, False
        region = data.region_at(place.lon, place.lat)
        country = None if region else _halo_country(place, data)
        if region is None and country is None:
            # No outline and no land to clip a halo to (a region the data does not know, a
            # point at sea): an unclipped halo would be a large pale circle over the sea.
            continue
        key = f"face:{region.index}" if region else f"halo:{name.casefold()}"
        if region is None and any(s.name.casefold() == name.casefold() for s in found.values()):
            continue  # the region already has its area shaded: no extra halo
        old = found.get(key)
        if old is None or (by_marker and not old.labelled_by_marker):
            if old is not None:
                country = old.country
            lon, lat = (old.lon, old.lat) if old else (place.lon, place.lat)
            found[key] = Shade(name, region, lon, lat, by_marker, country)
    return list(found.values())


def _halo_country(place: Place, data: GeoData) -> Country | None:
    """The land a halo is clipped to: the country under the point, else the one the place's
    ``region`` names last ("…, Russia") — coarse outlines can miss a point on the coast."""
    under = data.country_at(place.lon, place.lat)
    if under is not None or place.region is None:
        return under
    named = place.region.rsplit(",", 1)[-1].strip().casefold()
    return next((c for c in data.countries if c.name.casefold() == named), None)


def arrows_for(view: View) -> list[Arrow]:
    """One arrow per direction in which places lie beyond the view (close ones share)."""
    proj = view.projection
    cx, cy = WIDTH / 2, (MAP_TOP + MAP_BOTTOM) / 2
    x0, y0 = EDGE_INSET - 6, MAP_TOP + EDGE_INSET - 6
    x1, y1 = WIDTH - EDGE_INSET + 6, MAP_BOTTOM - EDGE_INSET + 6

    def tip(angle: float) -> tuple[float, float]:
        dx, dy = math.cos(angle), math.sin(angle)
        ts = []
        if abs(dx) > 1e-9:
            ts.append(((x1 if dx > 0 else x0) - cx) / dx)
        if abs(dy) > 1e-9:
            ts.append(((y1 if dy > 0 else y0) - cy) / dy)
        t = min(t for t in ts if t > 0)
        return cx + dx * t, cy + dy * t

    items = []
    for beyond in view.beyond:
        px, py = proj.to_pixel(beyond.place.lon, beyond.place.lat)
        items.append((math.atan2(py - cy, px - cx), beyond))
    items.sort(key=lambda item: item[0])
    groups: list[list[tuple[float, Beyond]]] = []
    for item in items:
        if groups and math.dist(tip(groups[-1][-1][0]), tip(item[0])) < 48:
            groups[-1].append(item)
        else:
            groups.append([item])
    if len(groups) > 1 and math.dist(tip(groups[0][0][0]), tip(groups[-1][-1][0])) < 48:
        groups[0] = groups.pop() + groups[0]  # the groups either side of angle pi meet
    arrows = []
    for group in groups:
        angle = math.atan2(sum(math.sin(a) for a, _ in group), sum(math.cos(a) for a, _ in group))
        arrows.append(
            Arrow(
                tip=tip(angle),
                direction=(math.cos(angle), math.sin(angle)),
                places=tuple(b for _, b in sorted(group, key=lambda i: i[1].distance_km)),
            )
        )
    return arrows


def _beyond_block(arrow: Arrow) -> Block:
    references = {b.reference.name for b in arrow.places}
    same = len(references) == 1
    lines = [
        TextLine(
            f"{b.place.name} · {km_text(b.distance_km)}"
            + ("" if same else f" from {b.reference.name}"),
            13,
            bold=True,
        )
        for b in arrow.places
    ]
    if same:
        lines.append(TextLine(f"from {next(iter(references))}", 11, fill=MUTED))
    return Block(tuple(lines))


def _nearest_free(
    taken: Occupancy, w: float, h: float, x: float, y: float, reach: float = 240, step: int = 6
) -> Rect | None:
    """The free w x h box closest to (x, y), searched on a grid."""
    spots = []
    n = int(reach // step)
    for j in range(-n, n + 1):
        for i in range(-n, n + 1):
            left, top = x + i * step - w / 2, y + j * step - h / 2
            rect: Rect = (left, top, left + w, top + h)
            nx, ny = nearest_point(rect, x, y)
            spots.append(((nx - x) ** 2 + (ny - y) ** 2, abs(i) + abs(j), rect))
    spots.sort(key=lambda s: (s[0], s[1]))
    return next((rect for _, _, rect in spots if taken.free(rect)), None)


def _place_label(marker: Marker, block: Block, taken: Occupancy) -> tuple[Rect, bool]:
    w, h = block.width, block.height
    for rect in snug(marker.x, marker.y, w, h, marker.radius):
        if taken.free(rect):
            return rect, False
    further = _nearest_free(taken, w, h, marker.x, marker.y)
    if further is not None:
        return further, True
    # Nowhere free within reach (a very crowded map): right of the marker, overlapping.
    return snug(marker.x, marker.y, w, h, marker.radius)[0], False


def _fit_in_mask(
    mask: Image.Image, w: float, h: float, taken: Occupancy, limit: int = 900
) -> Rect | None:
    """A free w x h box lying wholly inside the mask's white area, near its middle."""
    box = mask.getbbox()
    if box is None:
        return None
    small = mask.reduce(8)
    total = sx = sy = 0.0
    sw = small.width
    for i, value in enumerate(small.tobytes()):
        if value:
            total += value
            sx += value * (i % sw)
            sy += value * (i // sw)
    if not total:
        return None
    px, py = (sx / total + 0.5) * 8, (sy / total + 0.5) * 8
    wi, hi = math.ceil(w), math.ceil(h)
    step = max(6, round(math.sqrt((box[2] - box[0]) * (box[3] - box[1]) / 3000)))
    spots = [
        (x, y)
        for y in range(box[1], box[3] - hi + 1, step)
        for x in range(box[0], box[2] - wi + 1, step)
    ]
    spots.sort(key=lambda s: (s[0] + w / 2 - px) ** 2 + (s[1] + h / 2 - py) ** 2)
    for x, y in spots[:limit]:
        rect: Rect = (x, y, x + wi, y + hi)
        if taken.free(rect) and mask.crop((x, y, x + wi, y + hi)).getextrema()[0] == 255:
            return rect
    return None


def _spaced(name: str) -> str:
    return "\u2009".join(name.upper())


def _visible(proj: Projection) -> BBox:
    lon0, lat0, lon1, lat1 = proj.bbox(WIDTH, MAP_BOTTOM)
    pad_lon, pad_lat = (lon1 - lon0) * 0.02, (lat1 - lat0) * 0.02
    return lon0 - pad_lon, lat0 - pad_lat, lon1 + pad_lon, lat1 + pad_lat


def _scale_km(px_per_km: float) -> float:
    """A round length (1, 2 or 5 times a power of ten km) drawn 80 to 200 pixels long."""
    step = 10 ** math.floor(math.log10(80 / px_per_km))
    return float(next(m * step for m in (1, 2, 5, 10) if m * step * px_per_km >= 80))


def _area(bbox: BBox) -> float:
    return (bbox[2] - bbox[0]) * (bbox[3] - bbox[1])


def _legend(
    markers: Sequence[Marker],
    shades: Sequence[Shade],
    arrows: Sequence[Arrow],
    proj: Projection,
    taken: Occupancy,
) -> Legend:
    rows = []
    if any(m.shape == "town" for m in markers):
        rows.append(LegendRow("town", "town or site named in the digest"))
    if any(m.shape == "region" for m in markers):
        rows.append(LegendRow("region", "region named in the digest"))
    if any(s.region is not None for s in shades):
        rows.append(LegendRow("shade", "area of a region the digest names"))
    if any(s.region is None for s in shades):
        rows.append(LegendRow("halo", "region named; outline not in map data"))
    if arrows:
        rows.append(LegendRow("arrow", "beyond this map: direction, distance"))
    scale_km = _scale_km(proj.px_per_km)
    scale_px = scale_km * proj.px_per_km
    hemisphere = "N" if proj.lat0 >= 0 else "S"
    note = f"true at {abs(proj.lat0):.0f}°{hemisphere}"
    rows.append(LegendRow("scale", note))
    text_w = max(TextLine(r.text, 12).width for r in rows[:-1]) if len(rows) > 1 else 0
    scale_w = scale_px + 14 + TextLine(note, 11).width
    width = Legend.PAD * 2 + max(26 + text_w, 8 + scale_w)
    height = Legend.PAD * 2 + Legend.ROW * (len(rows) - 1) + 30

    def busy(rect: Rect) -> int:
        return sum(intersects(grow(rect, 4), t) for t in taken.taken)

    corners: list[Rect] = []
    for top in (False, True):
        for left in (True, False):
            x0 = 8 if left else WIDTH - 8 - width
            y0 = MAP_TOP + 8 if top else MAP_BOTTOM - 8 - height
            corners.append((x0, y0, x0 + width, y0 + height))
    rect = min(corners, key=busy)  # first corner wins ties: bottom-left
    return Legend(tuple(rows), rect, scale_km, scale_px, note)


@dataclass(frozen=True)
class Layers:
    """Which outlines a view needs: the 1:10m clip inside its box, coarse ones beyond it."""

    visible: BBox
    box: BBox
    detail: bool
    """The view touches the detail box."""
    world: bool
    """The view reaches beyond the detail box."""

    @classmethod
    def of(cls, visible: BBox, data: GeoData) -> Layers:
        return cls(
            visible=visible,
            box=data.detail_bbox,
            detail=overlaps(visible, data.detail_bbox),
            world=not data.covers_in_detail(visible),
        )

    def countries(self, data: GeoData) -> list[Country]:
        """Countries in view, largest first (so that enclaves are painted over their hosts)."""
        found = [
            c
            for c in data.countries
            if (self.detail and any(overlaps(s.bbox, self.visible) for s in c.detail))
            or (self.world and any(overlaps(s.bbox, self.visible) for s in c.world))
        ]
        found.sort(key=lambda c: -sum(_area(s.bbox) for s in c.world))
        return found

    def paint(
        self,
        draw: ImageDraw.ImageDraw,
        countries: Sequence[Country],
        proj: Projection,
        scale: float,
        fills: Sequence[int | Colour],
        sea: int | Colour,
        outline: Colour | None = None,
    ) -> None:
        """Fill each country (``fills[i]`` for ``countries[i]``): coarse, then the detail box."""
        if self.world:
            for country, fill in zip(countries, fills, strict=True):
                for shape in country.world:
                    if overlaps(shape.bbox, self.visible):
                        draw.polygon(proj.points(shape.exterior, scale), fill=fill)
            if outline is not None:
                for country in countries:
                    for shape in country.world:
                        if overlaps(shape.bbox, self.visible):
                            ring = proj.points(shape.exterior, scale)
                            draw.line([*ring, ring[0]], fill=outline, width=2)
        if self.detail:
            if self.world:
                x0, y0 = proj.to_pixel(self.box[0], self.box[3])
                x1, y1 = proj.to_pixel(self.box[2], self.box[1])
                draw.rectangle((x0 * scale, y0 * scale, x1 * scale, y1 * scale), fill=sea)
            for country, fill in zip(countries, fills, strict=True):
                for shape in country.detail:
                    if overlaps(shape.bbox, self.visible):
                        draw.polygon(proj.points(shape.exterior, scale), fill=fill)
                        for hole in shape.holes:
                            draw.polygon(proj.points(hole, scale), fill=sea)


def render(digest: Digest, focus: Place | None = None, data: GeoData | None = None) -> Rendered:
    """Plan and draw the map of a digest's places; ``focus`` zooms on one place."""
    with _render_lock:  # FreeType faces are shared: draw one map at a time
        return _render(digest, focus, data or geodata())


def view_for(digest: Digest, focus: Place | None, data: GeoData | None = None) -> View:
    """What the map shows. Zoomed on a region-type place, it fits the region's outline."""
    return _frame(digest, focus, data or geodata()).view


@dataclass(frozen=True)
class _Frame:
    """The view and what is pinned to it before any label: markers, arrows, legend."""

    view: View
    visible: BBox
    shades: tuple[Shade, ...]
    markers: tuple[Marker, ...]
    arrows: tuple[Arrow, ...]
    legend: Legend
    taken: Occupancy


def _frame(digest: Digest, focus: Place | None, data: GeoData) -> _Frame:
    focus_box = None
    if focus is not None and is_region(focus):
        region = data.region_at(focus.lon, focus.lat)
        focus_box = region.shape.bbox if region else None
    reserve = 0.0
    while True:
        view = plan(digest.places, focus, focus_box, reserve_bottom=reserve)
        proj = view.projection
        visible = _visible(proj)
        shades = [s for s in shades_for(digest.places, data) if _shade_visible(s, proj, visible)]
        taken = Occupancy(bounds=(3, MAP_TOP + 3, WIDTH - 3, MAP_BOTTOM - 3))
        markers = []
        for place in sorted(view.shown, key=lambda p: p != view.focus):  # focus drawn first
            x, y = proj.to_pixel(place.lon, place.lat)
            shape: Literal["town", "region"] = "region" if is_region(place) else "town"
            markers.append(Marker(place, x, y, shape, focus=place == view.focus))
        arrows = arrows_for(view)
        for marker in markers:
            taken.add(marker.rect)
        legend = _legend(markers, shades, arrows, proj, taken)
        crowded = any(intersects(legend.rect, m.rect) for m in markers)
        if crowded and focus is None and not reserve:
            # Every corner has a place: fit the places above the legend instead.
            reserve = MAP_BOTTOM - legend.rect[1] + 10
            continue
        arrows = [_clear_of(arrow, legend.rect) for arrow in arrows]
        for arrow in arrows:
            taken.add(arrow.rect)
        taken.add(legend.rect)
        return _Frame(view, visible, tuple(shades), tuple(markers), tuple(arrows), legend, taken)


def _clear_of(arrow: Arrow, rect: Rect) -> Arrow:
    """Slide an arrow along the map's edge until it is clear of the rectangle."""
    if not intersects(arrow.rect, rect):
        return arrow
    (x, y), (dx, dy) = arrow.tip, arrow.direction
    vertical_edge = abs(x - (EDGE_INSET - 6)) < 1 or abs(x - (WIDTH - EDGE_INSET + 6)) < 1
    for step in range(10, 800, 10):
        for sign in (-1, 1):
            tip = (x, y + sign * step) if vertical_edge else (x + sign * step, y)
            moved = Arrow(tip, (dx, dy), arrow.places)
            inside = 0 <= tip[0] <= WIDTH and MAP_TOP <= tip[1] <= MAP_BOTTOM
            if inside and not intersects(moved.rect, rect):
                return moved
    return arrow


def _render(digest: Digest, focus: Place | None, data: GeoData) -> Rendered:
    frame = _frame(digest, focus, data)
    view, visible, taken, legend = frame.view, frame.visible, frame.taken, frame.legend
    markers, arrows, shades = list(frame.markers), list(frame.arrows), list(frame.shades)
    proj = view.projection
    layers = Layers.of(visible, data)
    involved = frozenset(c.code for p in digest.places if (c := data.country_at(p.lon, p.lat)))

    labels: list[Label] = []
    for arrow in arrows:
        block = _beyond_block(arrow)
        bx, by = arrow.base
        rect = _nearest_free(taken, block.width, block.height, bx, by) or (
            bx,
            by,
            bx + block.width,
            by + block.height,
        )
        taken.add(rect)
        nx, ny = nearest_point(rect, bx, by)
        far = math.dist((nx, ny), (bx, by)) > 6
        labels.append(Label("beyond", block, rect, anchor=arrow.base, leader=far))
    for marker in sorted(markers, key=lambda m: not m.focus):
        size = 16 if marker.focus else 14
        block = Block((TextLine(marker.place.name, size, bold=True),))
        rect, leader = _place_label(marker, block, taken)
        taken.add(rect)
        labels.append(Label("place", block, rect, anchor=(marker.x, marker.y), leader=leader))

    # Region labels inside their (visible) area, else beside it.
    for shade in shades:
        if shade.labelled_by_marker:
            continue
        mask = _shade_mask(shade, proj, (WIDTH, MAP_BOTTOM), 1, data)
        block = Block((TextLine(shade.name, 13, fill=REGION_TEXT),))
        fit = _fit_in_mask(mask, block.width, block.height, taken)
        if fit is None:
            x, y = proj.to_pixel(shade.lon, shade.lat)
            fit = _nearest_free(taken, block.width, block.height, x, y, reach=120)
        if fit is not None:
            taken.add(fit)
            labels.append(Label("region", block, fit))

    # Country names where a country has room, in its own colour.
    countries = layers.countries(data)[:254]
    id_mask = Image.new("L", (WIDTH, MAP_BOTTOM), 0)
    id_draw = ImageDraw.Draw(id_mask)
    layers.paint(id_draw, countries, proj, 1, range(1, len(countries) + 1), 0)
    id_draw.rectangle((0, 0, WIDTH, MAP_TOP), fill=0)
    counts = id_mask.histogram()
    for i, country in enumerate(countries, start=1):
        colour = COUNTRY_TEXT if country.code in involved else COUNTRY_TEXT_OTHER
        block = Block((TextLine(_spaced(country.name), 15, bold=True, fill=colour),))
        if counts[i] < block.width * block.height * 6:
            continue
        binary = id_mask.point([255 if v == i else 0 for v in range(256)])
        fit = _fit_in_mask(binary, block.width, block.height, taken, limit=500)
        if fit is not None:
            taken.add(fit)
            labels.append(Label("country", block, fit))

    image = _draw(
        digest, view, data, layers, involved, shades, countries, markers, arrows, labels, legend,
    )  # fmt: skip
    return Rendered(
        image=image,
        view=view,
        markers=tuple(markers),
        arrows=tuple(arrows),
        labels=tuple(labels),
        shades=tuple(shades),
        legend=legend,
        involved=involved,
        detailed=not layers.world,
    )


def _shade_visible(shade: Shade, proj: Projection, visible: BBox) -> bool:
    if shade.region is not None:
        return overlaps(shade.region.shape.bbox, visible)
    x, y = proj.to_pixel(shade.lon, shade.lat)
    r = HALO_KM * proj.px_per_km
    return -r < x < WIDTH + r and MAP_TOP - r < y < MAP_BOTTOM + r


def _shade_mask(
    shade: Shade, proj: Projection, size: tuple[int, int], scale: float, data: GeoData
) -> Image.Image:
    """White where the shade lies: the region's face, or a halo clipped to its country."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    if shade.region is not None:
        draw.polygon(proj.points(shade.region.shape.exterior, scale), fill=255)
        for hole in shade.region.shape.holes:
            draw.polygon(proj.points(hole, scale), fill=0)
        return mask
    x, y = proj.to_pixel(shade.lon, shade.lat)
    r = HALO_KM * proj.px_per_km
    draw.ellipse(((x - r) * scale, (y - r) * scale, (x + r) * scale, (y + r) * scale), fill=255)
    if shade.country is not None:
        land = Image.new("L", size, 0)
        land_draw = ImageDraw.Draw(land)
        for part in shade.country.shapes(data.in_detail(shade.lon, shade.lat)):
            land_draw.polygon(proj.points(part.exterior, scale), fill=255)
        mask = ImageChops.darker(mask, land)
    return mask


def _draw(
    digest: Digest,
    view: View,
    data: GeoData,
    layers: Layers,
    involved: frozenset[str],
    shades: Sequence[Shade],
    countries: Sequence[Country],
    markers: Sequence[Marker],
    arrows: Sequence[Arrow],
    labels: Sequence[Label],
    legend: Legend,
) -> Image.Image:
    proj = view.projection
    big = Image.new("RGB", (WIDTH * SS, HEIGHT * SS), SEA)
    draw = ImageDraw.Draw(big)

    def pts(ring: Sequence[float]) -> list[tuple[float, float]]:
        return proj.points(ring, SS)

    visible = layers.visible
    fills = [LAND_INVOLVED if c.code in involved else LAND for c in countries]
    layers.paint(draw, countries, proj, SS, fills, SEA, outline=BORDER_OTHER)

    if shades:
        mask = Image.new("L", big.size, 0)
        for shade in shades:
            mask = ImageChops.lighter(mask, _shade_mask(shade, proj, big.size, SS, data))
        shaded = mask.getbbox()
        if shaded is not None:
            alpha = mask.crop(shaded).point([v * REGION_ALPHA // 255 for v in range(256)])
            big.paste(REGION_FILL, shaded, alpha)

    if layers.detail:
        for code in sorted(involved):
            for line in data.admin1_lines.get(code, ()):
                if overlaps(line.bbox, visible):
                    draw.line(pts(line.points), fill=ADMIN1, width=2)
        for country in countries:
            for shape in country.detail:
                if overlaps(shape.bbox, visible):
                    ring = pts(shape.exterior)
                    draw.line([*ring, ring[0]], fill=COAST, width=2)
    for shade in shades:
        if shade.region is not None and overlaps(shade.region.shape.bbox, visible):
            ring = pts(shade.region.shape.exterior)
            draw.line([*ring, ring[0]], fill=REGION_EDGE, width=3, joint="curve")

    if layers.detail:
        for border in data.land_borders:
            mine = bool(involved.intersection(border.countries))
            for line in border.lines:
                if overlaps(line.bbox, visible):
                    colour, width = (BORDER, 5) if mine else (BORDER_OTHER, 3)
                    draw.line(pts(line.points), fill=colour, width=width, joint="curve")
    for label in labels:
        if label.leader and label.anchor is not None:
            ax, ay = label.anchor
            nx, ny = nearest_point(label.rect, ax, ay)
            draw.line([(ax * SS, ay * SS), (nx * SS, ny * SS)], fill=MUTED, width=2)
    for arrow in arrows:
        draw.line(arrow.shaft(SS), fill=WHITE, width=9)
        draw.polygon(arrow.triangle(SS), fill=MARKER, outline=WHITE, width=2)
        draw.line(arrow.shaft(SS), fill=MARKER, width=5)
    for part in ("ring", "halo", "fill"):
        for marker in markers:
            _marker(draw, marker.x, marker.y, marker.shape, marker.focus, part)

    # Title band, footer, legend box and its symbols.
    draw.rectangle((0, 0, WIDTH * SS, MAP_TOP * SS), fill=WHITE)
    draw.rectangle((0, MAP_BOTTOM * SS, WIDTH * SS, HEIGHT * SS), fill=WHITE)
    draw.line([(0, MAP_TOP * SS - 1), (WIDTH * SS, MAP_TOP * SS - 1)], fill=FRAME, width=2)
    draw.line([(0, MAP_BOTTOM * SS), (WIDTH * SS, MAP_BOTTOM * SS)], fill=FRAME, width=2)
    x0, y0, x1, y1 = legend.rect
    draw.rectangle((x0 * SS, y0 * SS, x1 * SS, y1 * SS), fill=WHITE, outline=FRAME, width=2)
    sx = x0 + Legend.PAD + 9
    for i, row in enumerate(legend.rows):
        y = legend.row_y(i)
        if row.symbol in ("town", "region"):
            _marker(draw, sx, y, row.symbol, False)
        elif row.symbol in ("shade", "halo"):
            box = ((sx - 9) * SS, (y - 6) * SS, (sx + 9) * SS, (y + 6) * SS)
            colour = _blend(LAND_INVOLVED, REGION_FILL, REGION_ALPHA / 255)
            if row.symbol == "shade":
                draw.rectangle(box, fill=colour, outline=REGION_EDGE, width=3)
            else:
                draw.ellipse(box, fill=colour)
        elif row.symbol == "arrow":
            draw.polygon(Arrow((sx + 10, y), (1.0, 0.0), ()).triangle(SS), fill=MARKER)
            draw.line([((sx - 10) * SS, y * SS), (sx * SS, y * SS)], fill=MARKER, width=5)
        else:
            left = x0 + Legend.PAD
            for k in range(2):
                seg = left + k * legend.scale_px / 2
                draw.rectangle(
                    (seg * SS, (y - 6) * SS, (seg + legend.scale_px / 2) * SS, y * SS),
                    fill=INK if k == 0 else WHITE,
                    outline=INK,
                    width=2,
                )

    image = big.reduce(SS)
    text = ImageDraw.Draw(image)
    _title(text, digest, view)
    for label in labels:
        _text_block(text, label.block, label.rect[0], label.rect[1])
    for i, row in enumerate(legend.rows):
        y = legend.row_y(i)
        if row.symbol == "scale":
            left = x0 + Legend.PAD
            small = font(11)
            half = km_text(legend.scale_km / 2).removesuffix(" km")
            text.text((left, y + 2), "0", font=small, fill=INK, anchor="mt")
            text.text((left + legend.scale_px / 2, y + 2), half, font=small, fill=INK, anchor="mt")
            full = km_text(legend.scale_km)
            text.text((left + legend.scale_px, y + 2), full, font=small, fill=INK, anchor="mt")
            note_x = left + legend.scale_px + 14 + font(11).getlength(full) / 2
            text.text((note_x, y + 2), legend.scale_note, font=small, fill=MUTED, anchor="lt")
        else:
            text.text((sx + 17, y), row.text, font=font(12), fill=INK, anchor="lm")
    footer_y = (MAP_BOTTOM + HEIGHT) / 2
    text.text((10, footer_y), data.credit, font=font(11), fill=INK, anchor="lm")
    text.text((WIDTH - 10, footer_y), CREDIT_NOTE, font=font(11), fill=MUTED, anchor="rm")
    return image


def _title(text: ImageDraw.ImageDraw, digest: Digest, view: View) -> None:
    focus = view.focus
    head = TextLine(focus.name if focus else "Where", 18, bold=True)
    tail_text = (f" — {focus.region}" if focus and focus.region else "") + f" · {digest.title}"
    date = TextLine(
        f"{digest.article.publisher}, {digest.published.day} {digest.published:%b %Y}", 13
    )
    room = WIDTH - 24 - head.width - date.width - 24
    tail = TextLine(_fit_text(tail_text, 14, room), 14)
    y = MAP_TOP / 2
    text.text((12, y), head.text, font=head.font, fill=INK, anchor="lm")
    text.text((12 + head.width, y), tail.text, font=tail.font, fill=INK, anchor="lm")
    text.text((WIDTH - 12, y), date.text, font=date.font, fill=MUTED, anchor="rm")


def _fit_text(text: str, size: int, room: float) -> str:
    face = font(size)
    if face.getlength(text) <= room:
        return text
    while text and face.getlength(text + "…") > room:
        text = text[:-1]
    return text + "…" if text else ""


def _blend(a: Colour, b: Colour, t: float) -> Colour:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _marker(
    draw: ImageDraw.ImageDraw,
    x: float,
    y: float,
    shape: str,
    focus: bool,
    part: Literal["ring", "halo", "fill", "all"] = "all",
) -> None:
    """Draw a marker, or one layer of it: focus ring, white halo, red fill.

    The map draws each layer for all markers before the next, so that markers of places close
    together merge into one red shape with one white edge, each centre still red.
    """
    s = SS
    if focus and part in ("ring", "all"):
        r: float = FOCUS_RING
        draw.ellipse(
            ((x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s), fill=WHITE, outline=INK, width=3
        )
    for layer, grow_by, colour in (("halo", 2.0, WHITE), ("fill", 0.0, MARKER)):
        if part not in (layer, "all"):
            continue
        if shape == "region":
            r = REGION_RADIUS + (1 if focus else 0) + grow_by * 1.4
            diamond = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
            draw.polygon([(px * s, py * s) for px, py in diamond], fill=colour)
        else:
            r = (FOCUS_RADIUS if focus else TOWN_RADIUS) + grow_by
            draw.ellipse(((x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s), fill=colour)


def _text_block(draw: ImageDraw.ImageDraw, block: Block, x: float, y: float) -> None:
    top = y + block.halo
    for line in block.lines:
        draw.text(
            (x + block.halo, top),
            line.text,
            font=line.font,
            fill=line.fill,
            anchor="la",
            stroke_width=block.halo,
            stroke_fill=WHITE,
        )
        top += line.height
