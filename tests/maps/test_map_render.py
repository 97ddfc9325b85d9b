"""Rendered maps: the PNG, markers where the projection says, readable labels, caching."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import bot.maps
from bot.digest.model import Digest
from bot.maps import HEIGHT, WIDTH, MapMaker
from bot.maps.geodata import geodata
from bot.maps.labels import Rect, grow, intersects, within
from bot.maps.layout import MAP_BOTTOM, MAP_TOP
from bot.maps.render import (
    LAND_INVOLVED,
    MARKER,
    REGION_ALPHA,
    REGION_FILL,
    Rendered,
    _blend,
    render,
)
from tests.maps.sample import FAR_APART, KURSK_LIKE, KURSK_WITH_MOSCOW, PlaceSpec, make_digest

Colour = tuple[int, int, int]


def near(a: Colour, b: Colour, tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def pixel(image: Image.Image, x: float, y: float) -> Colour:
    value = image.getpixel((round(x), round(y)))
    assert isinstance(value, tuple)
    return value[0], value[1], value[2]


def assert_markers_where_projected(image: Image.Image, maker: MapMaker, digest: Digest) -> None:
    view = maker.view(digest)
    for place in view.shown:
        x, y = maker.projection(digest).to_pixel(place.lon, place.lat)
        assert near(pixel(image, x, y), MARKER), (place.name, x, y, pixel(image, x, y))


def assert_labels_clear(rendered: Rendered) -> None:
    """No label overlaps another label, a marker, an arrow or the legend; all are on the map."""
    map_area: Rect = (0, MAP_TOP, WIDTH, MAP_BOTTOM)
    for label in rendered.labels:
        assert within(map_area, label.rect), label.text
        for marker in rendered.markers:
            assert not intersects(label.rect, marker.rect), (label.text, marker.place.name)
        for arrow in rendered.arrows:
            assert not intersects(label.rect, arrow.rect), label.text
        assert not intersects(label.rect, rendered.legend.rect), label.text
    for a, b in itertools.combinations(rendered.labels, 2):
        assert not intersects(a.rect, b.rect), (a.text, b.text)


@pytest.fixture
def maker(tmp_path: Path) -> MapMaker:
    return MapMaker(tmp_path / "maps")


def test_kursk_map_png_decodes_with_markers_at_projected_pixels(maker: MapMaker) -> None:
    digest = make_digest(KURSK_LIKE)
    path = maker.picture(digest)
    assert path.suffix == ".png"
    assert path.stat().st_size < 1_000_000
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        assert image.size == (WIDTH, HEIGHT) == (1024, 768)
        rgb = image.convert("RGB")
    assert_markers_where_projected(rgb, maker, digest)


def test_marker_red_appears_only_at_markers_arrows_and_legend() -> None:
    """The red is where the projection puts places, and nowhere else."""
    rendered = render(make_digest(KURSK_WITH_MOSCOW))
    allowed = [grow(m.rect, 1) for m in rendered.markers]
    allowed += [grow(a.rect, 1) for a in rendered.arrows] + [rendered.legend.rect]
    raw = rendered.image.tobytes()
    strays = []
    for i in range(WIDTH * HEIGHT):
        value = (raw[3 * i], raw[3 * i + 1], raw[3 * i + 2])
        if near(value, MARKER, 30):
            x, y = i % WIDTH, i // WIDTH
            if not any(r[0] <= x <= r[2] and r[1] <= y <= r[3] for r in allowed):
                strays.append((x, y))
    assert strays == []
    assert len(rendered.markers) == 3


def test_kursk_labels_are_readable_and_clear(maker: MapMaker) -> None:
    digest = make_digest(KURSK_LIKE)
    for focus in (None, digest.places[2], digest.places[6]):
        rendered = render(digest, focus)
        assert_labels_clear(rendered)
        texts = [label.text for label in rendered.labels if label.kind == "place"]
        assert sorted(texts) == sorted(p.name for p in rendered.view.shown)


def test_kursk_map_names_countries_and_shades_named_regions() -> None:
    rendered = render(make_digest(KURSK_LIKE))
    assert rendered.involved == {"RUS", "UKR"}
    assert {s.name for s in rendered.shades} == {
        "Kursk region",
        "Lipetsk oblast",
        "Kharkiv oblast",
        "Donetsk oblast",
    }
    assert all(s.region is not None for s in rendered.shades)  # real outlines, no halos
    labels = {label.text.replace("\u2009", "") for label in rendered.labels}
    assert {"RUSSIA", "UKRAINE", "Lipetsk oblast"} <= labels
    # A pixel inside Kursk oblast is tinted; one in Belgorod oblast (not named) is not.
    proj = rendered.view.projection
    data = geodata()
    inside, outside = (37.6, 51.55), (37.6, 50.75)
    kursk_face = data.region_at(36.19, 51.73)
    assert kursk_face is not None
    assert data.region_at(*inside) == kursk_face
    assert data.region_at(*outside) not in (None, kursk_face)
    for point in (inside, outside):
        x, y = proj.to_pixel(*point)
        assert not any(
            r[0] <= x <= r[2] and r[1] <= y <= r[3]
            for r in (label.rect for label in rendered.labels)
        )
    tinted = _blend(LAND_INVOLVED, REGION_FILL, REGION_ALPHA / 255)
    assert near(pixel(rendered.image, *proj.to_pixel(*inside)), tinted, 4)
    assert near(pixel(rendered.image, *proj.to_pixel(*outside)), LAND_INVOLVED, 4)


def test_moscow_is_marked_at_the_edge_with_direction_and_distance() -> None:
    rendered = render(make_digest(KURSK_WITH_MOSCOW))
    assert "Moscow" not in [m.place.name for m in rendered.markers]
    (arrow,) = rendered.arrows
    assert [b.place.name for b in arrow.places] == ["Moscow"]
    assert arrow.tip[1] < MAP_TOP + 30  # at the top edge: Moscow is north
    dx, dy = arrow.direction
    assert dy < -0.9
    assert abs(dx) < 0.4
    (label,) = [label for label in rendered.labels if label.kind == "beyond"]
    assert label.text.startswith("Moscow · 4")
    assert "km" in label.text
    assert "from Kursk" in label.text
    head = arrow.triangle()
    centre = (sum(p[0] for p in head) / 3, sum(p[1] for p in head) / 3)
    assert near(pixel(rendered.image, *centre), MARKER, 20)
    assert_labels_clear(rendered)


def test_single_place_renders_centred_with_a_cyrillic_label(maker: MapMaker) -> None:
    digest = make_digest([("Коренево", "Курская область, Россия", 51.41, 34.91)])
    path = maker.picture(digest)
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    assert rgb.size == (WIDTH, HEIGHT)
    assert_markers_where_projected(rgb, maker, digest)
    rendered = render(digest)
    (label,) = [label for label in rendered.labels if label.kind == "place"]
    assert label.text == "Коренево"
    text = rgb.crop(tuple(round(c) for c in label.rect)).convert("L").tobytes()
    dark = [v for v in text if v < 50]
    assert len(dark) > 40  # letters were drawn, not empty boxes
    (shade,) = rendered.shades
    assert shade.name == "Курская область"
    assert shade.region is not None


def test_far_apart_places_render(maker: MapMaker) -> None:
    digest = make_digest(FAR_APART)
    path = maker.picture(digest)
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    assert rgb.size == (WIDTH, HEIGHT)
    assert_markers_where_projected(rgb, maker, digest)
    rendered = render(digest)
    assert not rendered.detailed  # beyond the 1:10m clip: coarse world outlines
    (arrow,) = rendered.arrows
    assert arrow.places[0].place.name == "Vladivostok"
    assert arrow.direction[0] > 0.9  # east
    assert arrow.places[0].distance_km > 6000
    assert_labels_clear(rendered)


def test_region_without_outline_gets_a_halo_and_a_legend_row() -> None:
    rendered = render(make_digest([FAR_APART[1]]))  # Vladivostok: beyond the admin-1 clip
    (shade,) = rendered.shades
    assert shade.region is None
    assert "halo" in [row.symbol for row in rendered.legend.rows]


def test_zoomed_map_centres_on_the_place(maker: MapMaker) -> None:
    digest = make_digest(KURSK_LIKE)
    korenevo = digest.places[2]
    path = maker.picture(digest, korenevo)
    assert path != maker.picture(digest)
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    x, y = maker.projection(digest, korenevo).to_pixel(korenevo.lon, korenevo.lat)
    assert near(pixel(rgb, x, y), MARKER)
    beyond = [b.place.name for b in maker.view(digest, korenevo).beyond]
    assert {"Pokrovsk", "Lipetsk air base"} <= set(beyond)


def test_pictures_are_cached_and_edits_re_render(
    maker: MapMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = bot.maps.render

    def counting(digest: Digest, focus: object = None) -> Rendered:
        calls.append(digest.id)
        return real(digest, focus)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.maps, "render", counting)
    digest = make_digest(KURSK_LIKE)
    first = maker.picture(digest)
    assert maker.picture(digest) == first
    assert MapMaker(maker.cache_dir).picture(digest) == first  # a new process finds it too
    assert len(calls) == 1
    moved = make_digest([("Korenevo", "Kursk oblast, Russia", 51.42, 34.91), *KURSK_LIKE[3:]])
    assert maker.picture(moved) != first
    assert len(calls) == 2
    assert sorted(p.name for p in maker.cache_dir.iterdir()) == sorted(
        [first.name, maker.path(moved).name]
    )  # no temporary files left behind


def test_concurrent_requests_render_once(maker: MapMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = bot.maps.render

    def counting(digest: Digest, focus: object = None) -> Rendered:
        calls.append(digest.id)
        return real(digest, focus)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.maps, "render", counting)
    digest = make_digest(KURSK_LIKE)
    paths: list[Path] = []
    threads = [threading.Thread(target=lambda: paths.append(maker.picture(digest))) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert paths[0] == paths[1]
    with Image.open(paths[0]) as image:
        assert image.size == (WIDTH, HEIGHT)


def test_digest_without_places_is_refused(maker: MapMaker) -> None:
    with pytest.raises(ValueError, match="no places"):
        maker.picture(make_digest([]))


def test_describe_names_what_is_beyond_the_map(maker: MapMaker) -> None:
    text = maker.describe(make_digest(KURSK_WITH_MOSCOW))
    assert text.startswith("Map of the places in Map test digest: Kursk, Korenevo, Sudzha.")
    assert "Moscow 4" in text
    assert "from Kursk" in text
    assert text.endswith("Borders: Natural Earth (public domain).")


CYRILLIC = "".join(map(chr, range(0x410, 0x450)))  # capital A to small ya
places_strategy = st.lists(
    st.tuples(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz '-" + CYRILLIC, min_size=1, max_size=18)
        .map(str.strip)
        .filter(bool),
        st.sampled_from([None, "Ukraine", "Test oblast, Ukraine"]),
        st.floats(44.0, 58.0),
        st.floats(22.0, 48.0),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(places=places_strategy)
def test_any_digest_renders_with_clear_labels_and_markers_in_place(
    places: list[PlaceSpec],
) -> None:
    digest = make_digest(places)
    rendered = render(digest)
    assert rendered.image.size == (WIDTH, HEIGHT)
    assert_labels_clear(rendered)
    proj = rendered.view.projection
    for marker in rendered.markers:
        assert (marker.x, marker.y) == proj.to_pixel(marker.place.lon, marker.place.lat)
        assert near(pixel(rendered.image, marker.x, marker.y), MARKER), marker.place.name
        assert not intersects(marker.rect, rendered.legend.rect)
    assert len(rendered.markers) + sum(len(a.places) for a in rendered.arrows) == len(places)
