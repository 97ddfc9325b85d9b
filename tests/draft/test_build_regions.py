"""The region table's build: which place stands for a region, and why (on made-up data)."""

from __future__ import annotations

from pathlib import Path

from bot.draft.build_regions import build
from bot.draft.regions import find_regions

# rg_cities1000.csv rows: lat, lon, name, admin1, admin2, cc (invented places in country XX)
CITIES = """lat,lon,name,admin1,admin2,cc
10.0,20.0,Portbury,Westmark,Port District,XX
10.5,20.5,Hillcrest,Westmark,Hill District,XX
11.0,21.0,Oldham Vale,Westmark,Hill District,XX
30.0,40.0,Eastmark,Eastmark,,XX
30.2,40.2,Riverton,Eastmark,,XX
50.0,60.0,Capitol City,Midland,,XX
50.3,60.3,Lakeside,Midland,,XX
"""


def geonames_line(name: str, lat: float, lon: float, code: str, population: int) -> str:
    """A row in GeoNames' own tab-separated format (the columns build() reads)."""
    fields = ["1", name, name, "", str(lat), str(lon), "P", code, "XX"] + [""] * 10
    fields[14] = str(population)
    return "\t".join(fields) + "\n"


def regions(
    tmp_path: Path, seats: str, elsewhere: dict[tuple[str, int, str, str], str] | None = None
) -> dict[tuple[int, str], tuple[str, str]]:
    (tmp_path / "cities.csv").write_text(CITIES, "utf-8")
    (tmp_path / "geonames.txt").write_text(seats, "utf-8")
    # every place equally notable: the fallback's ranking is not what these tests are about
    data = build(
        tmp_path / "cities.csv", tmp_path / "geonames.txt", lambda *_place: 0.0, elsewhere or {}
    )
    rows = data["regions"]
    assert isinstance(rows, list)
    return {(row[1], row[2]): (row[6], row[7]) for row in rows}


def test_the_seat_geonames_marks_is_the_point(tmp_path: Path) -> None:
    found = regions(
        tmp_path,
        geonames_line("Hillcrest", 10.5, 20.5, "PPLA", 9_000)  # admin-1 seat, not the largest
        + geonames_line("Oldham", 11.01, 21.005, "PPLA2", 5_000)  # another spelling, 1 km off
        + geonames_line("Portbury", 10.0, 20.0, "PPL", 90_000),  # not a seat
    )
    assert found[(1, "Westmark")] == ("Hillcrest", "capital")
    assert found[(2, "Hill District")] == ("Oldham", "capital")  # matched by where it is
    assert found[(2, "Port District")] == ("Portbury", "notable")  # no seat marked


def test_without_a_seat_the_place_of_its_own_name(tmp_path: Path) -> None:
    found = regions(tmp_path, "")
    assert found[(1, "Eastmark")] == ("Eastmark", "name")


def test_a_provincial_seat_beats_the_national_capital(tmp_path: Path) -> None:
    found = regions(
        tmp_path,
        geonames_line("Capitol City", 50.0, 60.0, "PPLC", 2_000_000)
        + geonames_line("Riverton", 30.2, 40.2, "PPLC", 100),
    )
    assert found[(1, "Midland")] == ("Capitol City", "capital")  # no PPLA: the PPLC is its seat
    found = regions(
        tmp_path,
        geonames_line("Capitol City", 50.0, 60.0, "PPLC", 2_000_000)
        + geonames_line("Lakeside", 50.3, 60.3, "PPLA", 20_000),
    )
    assert found[(1, "Midland")] == ("Lakeside", "capital")


def test_a_capital_outside_its_region_is_borrowed_by_name(tmp_path: Path) -> None:
    seats = geonames_line("Capitol City", 50.0, 60.0, "PPLA", 2_000_000)
    assert regions(tmp_path, seats)[(1, "Eastmark")] == ("Eastmark", "name")
    found = regions(tmp_path, seats, {("XX", 1, "Eastmark", ""): "Capitol City"})
    assert found[(1, "Eastmark")] == ("Capitol City", "capital")
    assert found[(1, "Midland")] == ("Capitol City", "capital")  # still its own region's seat


def test_the_shipped_table_pins_punjab_and_haryana_at_chandigarh() -> None:
    for state in ("Punjab", "Haryana"):
        (found,) = [r for r in find_regions(state, ["IN"]) if r.level == 1]
        assert (found.seat, found.how) == ("Chandigarh", "capital")
        assert abs(found.lat - 30.74) < 0.1 and abs(found.lon - 76.79) < 0.1
