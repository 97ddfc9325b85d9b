"""Digests for the map tests, built directly (no article, no quote verification)."""

from __future__ import annotations

from datetime import date

from bot.digest.model import Digest

PlaceSpec = tuple[str, str | None, float, float]
"""name, region, lat, lon"""

KURSK_LIKE: list[PlaceSpec] = [
    ("Kursk region", "Kursk oblast, Russia", 51.7304, 36.1926),
    ("Oktyabr'skoe", "Kursk oblast, Russia", 51.58, 34.82),
    ("Korenevo", "Kursk oblast, Russia", 51.41, 34.91),
    ("Pokrovsk", "Donetsk oblast, Ukraine", 48.2822, 37.1758),
    ("Kostyantynivka", "Donetsk oblast, Ukraine", 48.5277, 37.7069),
    ("Lipetsk air base", "Lipetsk oblast, Russia", 52.634, 39.445),
    ("Kharkiv oblast", "Ukraine", 49.9935, 36.2304),
    ("Donetsk oblast", "Ukraine", 48.7389, 37.5844),
]

KURSK_WITH_MOSCOW: list[PlaceSpec] = [
    ("Kursk", "Kursk oblast, Russia", 51.73, 36.19),
    ("Korenevo", "Kursk oblast, Russia", 51.41, 34.91),
    ("Sudzha", "Kursk oblast, Russia", 51.19, 35.27),
    ("Moscow", "Russia", 55.7558, 37.6173),
]

FAR_APART: list[PlaceSpec] = [
    ("Kyiv", "Ukraine", 50.4501, 30.5234),
    ("Vladivostok", "Primorsky krai, Russia", 43.1155, 131.8855),
    ("London", "United Kingdom", 51.5072, -0.1276),
]


def make_digest(
    places: list[PlaceSpec], digest_id: str = "test-map", title: str = "Map test digest"
) -> Digest:
    return Digest.model_validate(
        {
            "schema": 1,
            "id": digest_id,
            "title": title,
            "published": date(2024, 8, 9),
            "article": {"publisher": "The Telegraph", "headline": "H", "text": "a.txt"},
            "sources": {"telegraph": {"name": "The Telegraph", "kind": "publisher"}},
            "summary": [{"text": "S.", "source": "telegraph", "quote": "S"}],
            "places": [
                {
                    "name": name,
                    "region": region,
                    "lat": lat,
                    "lon": lon,
                    "what": "Named in the article.",
                    "source": "telegraph",
                    "quote": name,
                }
                for name, region, lat, lon in places
            ],
        }
    )
