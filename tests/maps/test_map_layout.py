"""Projection and view planning: where things go before anything is drawn."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.maps.layout import (
    EDGE_INSET,
    MAP_BOTTOM,
    MAP_TOP,
    MARGINS,
    WIDTH,
    ZOOM_SPAN_KM,
    in_frame,
    is_region,
    plan,
    region_name,
    sensible,
)
from bot.maps.projection import KM_PER_DEGREE, Projection, distance_km
from tests.maps.sample import FAR_APART, KURSK_LIKE, KURSK_WITH_MOSCOW, make_digest


def by_name(names: object) -> list[str]:
    assert isinstance(names, list | tuple)
    return [getattr(p, "name", getattr(getattr(p, "place", None), "name", None)) for p in names]


def test_projection_puts_the_centre_at_cx_cy_and_north_up() -> None:
    proj = Projection(lon0=36.0, lat0=51.0, px_per_km=2.0, cx=500.0, cy=400.0)
    assert proj.to_pixel(36.0, 51.0) == (500.0, 400.0)
    x, y = proj.to_pixel(36.0, 52.0)  # one degree north: straight up, 111.2 km
    assert x == 500.0
    assert y == pytest.approx(400.0 - KM_PER_DEGREE * 2.0)
    x, _ = proj.to_pixel(37.0, 51.0)  # one degree east: shorter by cos(51)
    assert x == pytest.approx(500.0 + KM_PER_DEGREE * math.cos(math.radians(51)) * 2.0)


@given(
    lon=st.floats(-180, 180),
    lat=st.floats(-80, 80),
    lat0=st.floats(-70, 70),
    scale=st.floats(0.01, 50),
)
def test_projection_round_trips(lon: float, lat: float, lat0: float, scale: float) -> None:
    proj = Projection(lon0=10.0, lat0=lat0, px_per_km=scale, cx=512.0, cy=384.0)
    back = proj.to_lonlat(*proj.to_pixel(lon, lat))
    assert back[0] == pytest.approx(lon, abs=1e-6)
    assert back[1] == pytest.approx(lat, abs=1e-6)


def test_points_matches_to_pixel_at_any_scale() -> None:
    proj = Projection(lon0=36.0, lat0=51.0, px_per_km=1.3, cx=500.0, cy=400.0)
    ring = (34.91, 51.41, 39.445, 52.634)
    expected = [proj.to_pixel(34.91, 51.41), proj.to_pixel(39.445, 52.634)]
    for got, (x, y) in zip(proj.points(ring, 2), expected, strict=True):
        assert got == pytest.approx((2 * x, 2 * y), abs=1e-9)


def test_distance_kyiv_moscow() -> None:
    assert 745 < distance_km(30.5234, 50.4501, 37.6173, 55.7558) < 765


def test_region_words() -> None:
    places = make_digest(KURSK_LIKE).places
    assert [p.name for p in places if is_region(p)] == [
        "Kursk region",
        "Kharkiv oblast",
        "Donetsk oblast",
    ]
    assert region_name(places[2]) == "Kursk oblast"
    assert region_name(places[6]) is None  # "Ukraine": a country, not a region


def test_kursk_digest_fits_every_place_inside_the_margins() -> None:
    view = plan(make_digest(KURSK_LIKE).places)
    assert by_name(view.shown) == [name for name, *_ in KURSK_LIKE]
    assert view.beyond == ()
    left, top, right, bottom = MARGINS
    for place in view.shown:
        x, y = view.projection.to_pixel(place.lon, place.lat)
        assert left - 0.5 <= x <= WIDTH - right + 0.5
        assert MAP_TOP + top - 0.5 <= y <= MAP_BOTTOM - bottom + 0.5


def test_moscow_on_a_kursk_map_goes_to_the_edge() -> None:
    places = make_digest(KURSK_WITH_MOSCOW).places
    keep, dropped = sensible(places)
    assert by_name(keep) == ["Kursk", "Korenevo", "Sudzha"]
    assert by_name(dropped) == ["Moscow"]
    view = plan(places)
    assert by_name(view.shown) == ["Kursk", "Korenevo", "Sudzha"]
    (moscow,) = view.beyond
    assert moscow.place.name == "Moscow"
    assert moscow.reference.name == "Kursk"  # nearest mapped place
    assert 450 < moscow.distance_km < 470
    assert not in_frame(*view.projection.to_pixel(moscow.place.lon, moscow.place.lat))


def test_two_distant_places_are_both_shown() -> None:
    places = make_digest(
        [("Lviv", "Lviv oblast, Ukraine", 49.84, 24.03), ("Volgograd", None, 48.71, 44.51)]
    ).places
    view = plan(places)
    assert by_name(view.shown) == ["Lviv", "Volgograd"]
    assert view.beyond == ()


def test_places_a_continent_apart_keep_the_first_and_mark_the_rest() -> None:
    view = plan(make_digest(FAR_APART).places)
    assert by_name(view.shown) == ["Kyiv", "London"]
    assert by_name(view.beyond) == ["Vladivostok"]


def test_zoom_centres_on_the_focus_at_a_fixed_scale() -> None:
    places = make_digest(KURSK_LIKE).places
    korenevo = places[2]
    view = plan(places, focus=korenevo)
    proj = view.projection
    left, top, right, bottom = MARGINS
    assert proj.to_pixel(korenevo.lon, korenevo.lat) == (
        left + (WIDTH - left - right) / 2,
        MAP_TOP + top + (MAP_BOTTOM - MAP_TOP - top - bottom) / 2,
    )
    assert proj.px_per_km == pytest.approx((WIDTH - left - right) / ZOOM_SPAN_KM)
    assert view.shown[0] == korenevo
    assert set(by_name(view.shown)) == {"Korenevo", "Oktyabr'skoe", "Kursk region"}
    pokrovsk = next(b for b in view.beyond if b.place.name == "Pokrovsk")
    assert pokrovsk.reference == korenevo
    assert pokrovsk.distance_km == pytest.approx(
        distance_km(34.91, 51.41, 37.1758, 48.2822), rel=1e-9
    )


def test_every_shown_place_is_inside_the_frame() -> None:
    view = plan(make_digest(KURSK_LIKE).places, focus=make_digest(KURSK_LIKE).places[5])
    for place in view.shown:
        x, y = view.projection.to_pixel(place.lon, place.lat)
        assert EDGE_INSET <= x <= WIDTH - EDGE_INSET
        assert MAP_TOP + EDGE_INSET <= y <= MAP_BOTTOM - EDGE_INSET


def test_no_places_is_an_error() -> None:
    with pytest.raises(ValueError, match="no places"):
        plan(())
