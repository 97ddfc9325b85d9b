"""Drafter test helpers: a small in-memory gazetteer and a drafting shortcut."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from bot.draft import Draft, draft
from bot.draft.geo import GeoEntry, fold_name

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
KURSK_DIGEST = ROOT / "tests" / "data" / "kursk" / "kursk-2024-08-09.yaml"
KURSK_ARTICLE = KURSK_DIGEST.parent / "articles" / "kursk-2024-08-09.txt"


def entry(
    name: str,
    lat: float,
    lon: float,
    country: str,
    population: int,
    admin1: str = "01",
    alternates: tuple[str, ...] = (),
) -> tuple[GeoEntry, tuple[str, ...]]:
    gid = abs(hash((name, lat, lon))) % 10_000_000
    return GeoEntry(gid, name, lat, lon, country, admin1, population), alternates


class FakeGazetteer:
    """GeoNames-like entries, matched on main and alternate names like the real one."""

    def __init__(self, entries: Iterable[tuple[GeoEntry, tuple[str, ...]]]) -> None:
        self.entries = list(entries)
        self.asked: set[str] = set()

    def find(self, names: Iterable[str]) -> dict[str, list[GeoEntry]]:
        wanted = set(names)
        self.asked |= wanted
        out: dict[str, list[GeoEntry]] = {name: [] for name in wanted}
        for geo, alternates in self.entries:
            main = fold_name(geo.name)
            if main in wanted:
                out[main].append(geo)
            for alternate in alternates:
                key = fold_name(alternate)
                if key in wanted and key != main:
                    out[key].append(
                        GeoEntry(
                            geo.geonameid,
                            geo.name,
                            geo.lat,
                            geo.lon,
                            geo.country,
                            geo.admin1,
                            geo.population,
                            primary=False,
                        )
                    )
        return out


EMPTY = FakeGazetteer([])


def quick(text: str, publisher: str = "The Courier", gazetteer: FakeGazetteer = EMPTY) -> Draft:
    """Draft ``text`` (headline first) with a fake gazetteer."""
    return draft(
        text,
        publisher=publisher,
        published=date(2024, 8, 9),
        text_path="articles/a.txt",
        stem="a",
        gazetteer=gazetteer,
    )
