"""Places: proper names that the offline gazetteer knows, resolved to one GeoNames place each.

A name is a candidate when the article uses it as a place ("in Kursk", "the town of
Kostyantynivka", "the Kursk region", "Lipetsk air base") and not only as a metonym for a
government ("Moscow's forces", "Kyiv could", "officials in Kyiv"). Among GeoNames places of
that name the drafter keeps those in the countries the sentence or the article names, then
picks the one nearest the article's other places (larger places and main names first). A name
it cannot place, or whose only match lies far from the others, is reported as unresolved rather
than given a wrong coordinate.
"""

from __future__ import annotations

import math
import re
import statistics
import zlib
from dataclasses import dataclass, field

from bot.draft.claimants import Claimants
from bot.draft.geo import (
    DEMONYMS,
    Gazetteer,
    GeoEntry,
    countries_in,
    country_codes,
    distance_km,
    fold_name,
    short_country,
    us_states,
    variants,
)
from bot.draft.numbers import Token, tokens
from bot.draft.regions import Region, find_regions
from bot.draft.text import Article, Sentence, headline_sentence, tidy, window, wordlist

_REGION_WORDS = frozenset(
    wordlist(
        "region regions oblast oblasts province provinces district districts county counties "
        "governorate governorates prefecture state krai"
    )
)
_FACILITIES: tuple[tuple[str, ...], ...] = (
    ("air", "base"),
    ("airbase",),
    ("airport",),
    ("airfield",),
    ("naval", "base"),
    ("military", "base"),
    ("power", "plant"),
    ("nuclear", "plant"),
    ("nuclear", "power", "plant"),
    ("oil", "refinery"),
    ("refinery",),
    ("port",),
    ("harbour",),
    ("harbor",),
    ("station",),
    ("dam",),
    ("barrage",),
    ("bridge",),
    ("stadium",),
    ("arena",),
)
_PLACE_NOUNS = frozenset(
    wordlist(
        "town city village settlement hamlet region province district county oblast port "
        "capital suburb suburbs outskirts centre center north south east west miles kilometres "
        "km kilometers streets residents municipality borough island islands area areas "
        "village's town's"
    )
)
_LOCATIVE = frozenset(
    wordlist(
        "in near at to from into outside around towards toward across through via between "
        "beyond inside within reach reached entered hit struck shelled captured liberated"
    )
)
_METONYM_NOUNS = frozenset(
    wordlist(
        "troops forces soldiers army military hand defences defenses government officials "
        "leaders president position response offensive missiles attack attacks strike strikes "
        "economy allies war claims claim decision plans plan policy regime diplomats "
        "authorities bid efforts"
    )
)
_METONYM_VERBS = frozenset(
    wordlist(
        "said says will would could can may might must continued declared claimed launched "
        "denied insisted wants warned accused responded announced sent rushed refused agreed "
        "signed"
    )
)
_PLACE_ORGS = frozenset(wordlist("council police university airport hospital fc united"))
_GENERIC_ORG_WORDS = frozenset(
    wordlist(
        "city county borough metropolitan district regional municipal international general royal"
    )
)
_DIRECTION = re.compile(
    r"(?:(?:just|about|some|\d+\s+\w+)\s+)?(?:north|south|east|west)(?:-?(?:east|west))?(?:ern)?"
    r"\s+of\b",
    re.IGNORECASE,
)
_OFFICIALS = frozenset(wordlist("officials government authorities leaders sources diplomats"))
_CONNECTORS = frozenset(wordlist("of for the upon de la le del di da do du des van von al el"))
_CORPORATE = frozenset(
    wordlist(
        "motors group holdings plc ltd inc corp corporation energy foods pharma pharmaceuticals "
        "systems technologies industries electric steel mining insurance software labs robotics "
        "automotive airlines airways brewery brands retail logistics"
    )
)
_CLUBS = frozenset(
    wordlist(
        "city united town rovers athletic wanderers albion fc afc hotspur villa rangers celtic "
        "forest palace argyle"
    )
)
_ORGANISATION = frozenset(
    wordlist(
        "consulting institute ministry university council group bank company ltd plc inc news "
        "agency party service committee office department club fc united airlines airways "
        "corporation foundation school college hospital court police army forces guard command "
        "times post telegraph guardian herald journal press channel network tv radio studio "
        "museum league association union federation commission parliament senate congress "
        "assembly war capital partners holdings"
    )
    + list(_CORPORATE)
)
_NOT_PLACES = frozenset(
    wordlist(
        "monday tuesday wednesday thursday friday saturday sunday january february march april "
        "may june july august september october november december mr mrs ms dr sir lord "
        "president prime minister general state media western eastern northern southern "
        "meanwhile however yesterday today officials local another several many they we he she "
        "it this that these those there video click elements military judging when while after "
        "before since although but and the a an in on at of for as if his her their its our "
        "some most more all both each every christmas easter god internet telegram twitter "
        "facebook"
    )
)
_OPENING_NOUNS = frozenset(
    wordlist(
        "parts part areas area much most residents people streets roads thousands hundreds "
        "millions dozens many some all both north south east west centre center outskirts"
    )
)
_SPORT = re.compile(
    r"\b(league|match|goals?|scored|season|coach|manager|striker|half-time|kick-off|fixture"
    r"|championship|penalt(?:y|ies)|tries|innings|wickets|premiership|cup|tournament)\b",
    re.IGNORECASE,
)
"""Words of a sports report, where a bare city name is usually a team."""
_TITLES = frozenset(wordlist("mr mrs ms dr sir lord lady president general colonel captain"))


@dataclass
class _Mention:
    sentence: Sentence
    start: int
    end: int
    """The name itself, within the sentence."""
    full_end: int
    """Including a region or facility word after it."""
    metonym: bool
    strong: bool
    hints: list[str]
    region_word: str | None = None
    facility: str | None = None
    appositive: str | None = None
    state: str | None = None
    quiet: bool = False
    """Found inside an organisation's name ("Leeds City Council"): never reported unresolved."""


@dataclass
class _Candidate:
    name: str
    key: str
    mentions: list[_Mention] = field(default_factory=list)

    @property
    def used(self) -> list[_Mention]:
        return [m for m in self.mentions if not m.metonym]

    @property
    def strong(self) -> bool:
        return any(m.strong for m in self.used)

    @property
    def region_word(self) -> str | None:
        return next((m.region_word for m in self.used if m.region_word), None)

    @property
    def facility(self) -> str | None:
        return next((m.facility for m in self.used if m.facility), None)


@dataclass
class PlaceDraft:
    name: str
    region: str | None
    lat: float
    lon: float
    what: str
    source: str
    quote: str
    note: str | None = None
    comments: list[str] = field(default_factory=list)
    sentence: int = 0

    @property
    def words(self) -> str:
        return f"{self.name} {self.what}"

    @property
    def numbers(self) -> tuple[float, ...]:
        return ()


@dataclass(frozen=True)
class Unresolved:
    name: str
    quote: str
    reason: str


def _capitalised(tok: Token) -> bool:
    return tok.kind == "word" and tok.text[:1].isupper()


def _runs(toks: list[Token], text: str) -> list[tuple[int, int]]:
    """Token index ranges [a, b) of capitalised names ("Institute for the Study of War")."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        if not _capitalised(toks[i]):
            i += 1
            continue
        j = i + 1
        while j < len(toks) and not _possessive(toks[j - 1]):
            gap = text[toks[j - 1].end : toks[j].start]
            if gap.strip():
                break
            if _capitalised(toks[j]):
                j += 1
                continue
            k = j
            while (
                k < len(toks)
                and toks[k].low in _CONNECTORS
                and not text[toks[k - 1].end : toks[k].start].strip()
            ):
                k += 1
            if k > j and k < len(toks) and _capitalised(toks[k]):
                j = k + 1
                continue
            break
        out.append((i, j))
        i = j
    return out


def _possessive(tok: Token) -> bool:
    return tok.text.endswith(("\u2019s", "'s"))


def _bare(tok: Token) -> str:
    return re.sub(r"['\u2019]s$", "", tok.text)


def _match_words(toks: list[Token], j: int, options: tuple[tuple[str, ...], ...]) -> int:
    for phrase in options:
        words = tuple(t.low for t in toks[j : j + len(phrase)])
        if words == phrase:
            return len(phrase)
    return 0


def _corporate_heads(article: Article) -> set[str]:
    """First words of company and club names ("Harwell Motors", "Leicester City"): alone,
    they name the company or the club, not the place."""
    heads: set[str] = set()
    for sentence in article.sentences:
        toks = tokens(sentence.text)
        for a, b in _runs(toks, sentence.text):
            if b - a >= 2 and (toks[b - 1].low in _CORPORATE or toks[b - 1].low in _CLUBS):
                heads.add(fold_name(_bare(toks[a])))
    return heads


def _mentions(sentence: Sentence, skip: set[str]) -> list[tuple[str, _Mention]]:
    text = sentence.text
    toks = tokens(text)
    out: list[tuple[str, _Mention]] = []
    codes = country_codes()
    runs = _runs(toks, text)
    strong_until = -1
    for number, (a, b) in enumerate(runs):
        while a < b and toks[a].low in ("the", "a", "an"):
            a += 1
        if a == 0 and b - a >= 3 and toks[a + 1].low == "of" and toks[a].low in _OPENING_NOUNS:
            a += 2  # "Parts of Hyderabad received …": the capital is the sentence's
        if a >= b:
            continue
        tail = b
        while tail - 1 > a and (
            toks[tail - 1].low in _NOT_PLACES or toks[tail - 1].low in _REGION_WORDS
        ):
            tail -= 1  # "Donetsk Oblasts", "Kursk Friday": the region word stays after the name
        b = tail
        org_at = next((n for n in range(a, b) if toks[n].low in _ORGANISATION), None)
        if org_at is not None:
            end = org_at
            while end > a and toks[end - 1].low in _GENERIC_ORG_WORDS:
                end -= 1
            if toks[org_at].low in _PLACE_ORGS and end > a:
                name = " ".join(_bare(t) for t in toks[a:end])
                if fold_name(name) not in codes and fold_name(name) not in skip:
                    mention = _Mention(
                        sentence,
                        toks[a].start,
                        toks[end - 1].end,
                        toks[end - 1].end,
                        metonym=False,
                        strong=True,
                        hints=[],
                        quiet=True,
                    )
                    out.append((name, mention))
            continue
        words = [_bare(t) if n == b - 1 else t.text for n, t in enumerate(toks[a:b], a)]
        name = " ".join(words)
        key = fold_name(name)
        if (
            key in codes
            or key in DEMONYMS
            or re.fullmatch(r"[A-Z]{2,6}", name)  # "KTLA", "NATO": a station or a body
            or key in _NOT_PLACES
            or key in skip
            or len(key) < 3
            or (a > 0 and toks[a - 1].low in _TITLES)
        ):
            continue
        if (
            a > 1
            and toks[a - 1].text == ","
            and out
            and out[-1][1].full_end == toks[a - 2].end
            and (key in us_states() or key in codes)
        ):
            continue  # "Redmond, Washington", "Sfax, in Tunisia": the qualifier of a place
        prev = [t.low for t in toks[max(0, a - 3) : a]]
        last = toks[b - 1]
        after = toks[b] if b < len(toks) else None
        metonym = False
        if _possessive(last) and after is not None and after.low in _METONYM_NOUNS:
            metonym = True
        object_of = bool(prev) and (
            prev[-1] in _LOCATIVE or (prev[-1] in ("and", "or") and strong_until == a - 1)
        )
        if (
            not object_of
            and not _possessive(last)
            and after is not None
            and after.low in _METONYM_VERBS
        ):
            metonym = True  # "Moscow declared", "Kyiv could": the government, not the place
        if len(prev) >= 2 and prev[-1] == "in" and prev[-2] in _OFFICIALS:
            metonym = True
        if a > 1 and toks[a - 1].text in "-\u2010" and toks[a - 1].start == toks[a - 2].end:
            continue  # "reverse-Kharkiv"
        region_word: str | None = None
        facility: str | None = None
        full_end = last.end
        if after is not None and after.low in _REGION_WORDS:
            region_word = after.text
            full_end = after.end
        elif (
            after is not None
            and after.low == "and"
            and number + 1 < len(runs)
            and runs[number + 1][0] == b + 1
        ):
            nxt_start, nxt_end = runs[number + 1]
            following = [t for t in toks[nxt_start : nxt_end + 1] if t.low in _REGION_WORDS]
            if following:
                region_word = following[0].text  # "Kharkiv and Donetsk Oblasts"
        if region_word is None and after is not None:
            size = _match_words(toks, b, _FACILITIES)
            if size:
                facility = " ".join(t.text for t in toks[b : b + size])
                full_end = toks[b + size - 1].end
        place_type = any(w in _PLACE_NOUNS for w in prev[-1:]) or (
            len(prev) >= 2 and prev[-1] == "of" and prev[-2] in _PLACE_NOUNS
        )
        locative = object_of  # "in Otley", "in Otley and Wetherby"
        strong = bool(region_word or facility or place_type or locative)
        # "the Russian town of Oktyabr'skoe": the country the sentence gives the place
        before = text[max(0, toks[a].start - 40) : toks[a].start]
        hints = countries_in(before, with_capitals=False)[-1:] if place_type else []
        appositive = None
        state = None
        rest = text[full_end:]
        comma = re.match(r",\s+([^,.;]{3,120})", rest)
        if comma:
            follower = comma.group(1).strip()
            state_code = us_states().get(fold_name(follower))
            if state_code:
                state = state_code
                strong = True
            elif fold_name(follower) in codes:
                hints.append(codes[fold_name(follower)])
                strong = True
            elif _DIRECTION.match(follower):
                strong = True  # "Orchard Park, south of Buffalo"
            elif re.match(r"(?:a|an|the)\s", follower) and not re.search(
                r"\b(said|says|told|who|analyst|spokes\w+|minister|president)\b", follower
            ):
                appositive = follower
                hints.extend(countries_in(follower, with_capitals=False)[:1])
        strong_until = b if strong and not metonym else -1
        out.append(
            (
                name,
                _Mention(
                    sentence=sentence,
                    start=toks[a].start,
                    end=last.end - (2 if _possessive(last) else 0),
                    full_end=full_end,
                    metonym=metonym,
                    strong=strong,
                    hints=hints,
                    region_word=region_word,
                    facility=facility,
                    appositive=appositive,
                    state=state,
                ),
            )
        )
    return out


def _candidates(article: Article, claimants: Claimants, publisher: str) -> list[_Candidate]:
    skip = {fold_name(publisher), fold_name(re.sub(r"^the\s+", "", publisher, flags=re.I))}
    for claimant in claimants.by_key.values():
        if len(claimant.name.split()) >= 2:
            skip.add(fold_name(re.sub(r"^(the|a|an)\s+", "", claimant.name, flags=re.I)))
    skip |= _corporate_heads(article)
    found: dict[str, _Candidate] = {}
    for sentence in article.sentences:
        for name, mention in _mentions(sentence, skip):
            key = fold_name(name)
            if mention.region_word and mention.region_word.lower().startswith("count"):
                key += " county"
            candidate = found.setdefault(key, _Candidate(name, key))
            candidate.mentions.append(mention)
    head = headline_sentence(article)
    if head is not None:  # "Thousands march in Tbilisi": a place the headline names counts too
        for name, mention in _mentions(head, skip):
            key = fold_name(name)
            if mention.strong or key in found:
                found.setdefault(key, _Candidate(name, key)).mentions.append(mention)
    return [c for c in found.values() if c.used]


def _source_of(claimants: Claimants, sentence: Sentence) -> str:
    """Who says the sentence; the headline (index -1) is the publisher's."""
    if sentence.index < 0:
        return claimants.publisher.key
    return claimants.per_sentence[sentence.index].key


def _score(entry: GeoEntry, hints: set[str], state: str | None) -> float:
    score = math.log10(entry.population + 10) + (2.0 if entry.primary else 0.0)
    if entry.country in hints:
        score += 1.0
    if state and entry.admin1 == state:
        score += 3.0
    return score


def _nearest(
    entries: list[GeoEntry], centre: tuple[float, float], hints: set[str], state: str | None
) -> GeoEntry:
    """The entry with the best score once distance to the other places counts against it."""

    def closeness(entry: GeoEntry) -> float:
        d = distance_km(entry.lat, entry.lon, centre[0], centre[1])
        return _score(entry, hints, state) - d / 300.0

    biggest = max(entries, key=lambda e: e.population)
    rest = [e.population for e in entries if e is not biggest]
    if (
        biggest.primary
        and biggest.population >= 1_000_000
        and max(rest, default=0) * 50 < (biggest.population)
    ):
        return biggest  # a bare "London" is the capital, not London, Ontario, near the others
    return max(entries, key=closeness)


def _median(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    if not points:
        return None
    return statistics.median(p[0] for p in points), statistics.median(p[1] for p in points)


def resolve(
    article: Article, claimants: Claimants, publisher: str, gazetteer: Gazetteer
) -> tuple[list[PlaceDraft], list[Unresolved]]:
    candidates = _candidates(article, claimants, publisher)
    sport = len(_SPORT.findall(article.text)) >= 3
    names: dict[str, set[str]] = {c.key: variants(fold_name(c.name)) for c in candidates}
    found = gazetteer.find({v for vs in names.values() for v in vs})
    article_countries = set(countries_in(article.text))
    options: dict[str, list[GeoEntry]] = {}
    regions_of: dict[str, dict[int, Region]] = {}
    region_codes: dict[tuple[str, str], str] = {}
    """(country, GeoNames admin1) of a named region's seat → "Kursk region", for labels."""
    unresolved: list[Unresolved] = []
    outside: set[str] = set()
    state_of = {c.key: next((m.state for m in c.used if m.state), None) for c in candidates}
    hints_of = {c.key: {h for m in c.used for h in m.hints} for c in candidates}
    for candidate in candidates:
        entries: dict[int, GeoEntry] = {}
        for name in sorted(names[candidate.key]):
            for entry in found.get(name, []):
                if entry.geonameid not in entries or entry.primary:
                    entries[entry.geonameid] = entry
        local, state = hints_of[candidate.key], state_of[candidate.key]
        pool = list(entries.values())
        word = candidate.region_word
        allowed = local or article_countries
        areas = find_regions(f"{candidate.name} {_singular(word or '')}".strip(), allowed)
        if not candidate.strong and not re.search(r"\b(?:Isle|Island|Islands)\b", candidate.name):
            areas = [a for a in areas if a.level == 1]  # a bare "Kent" may be a name, not a county
        towns = [e for e in pool if not allowed or e.country in allowed]
        if areas and (word or not towns or max(e.population for e in towns) < 100_000):
            if state:
                areas = [a for a in areas if a.parent == _state_name(state)] or areas
            regions_of[candidate.key] = {_region_id(a): a for a in areas}
            seat = next((e for e in towns if any(e.name == a.seat for a in areas)), None)
            if seat is not None and word:
                region_codes[(seat.country, seat.admin1)] = f"{candidate.name} {word.lower()}"
            options[candidate.key] = [_as_entry(a) for a in areas]
            continue
        if word and word.lower().startswith("count"):
            reason = "a county the offline region table does not hold"
            unresolved.append(Unresolved(f"{candidate.name} {word}", _quote(candidate), reason))
            continue
        if state:
            pool = [e for e in pool if e.country == "US" and e.admin1 == state] or pool
        kept = towns
        if not kept and not local and candidate.strong:
            # a large place in a country the article does not name ("based in Munich")
            kept = [e for e in pool if e.primary and e.population >= 100_000]
            outside.add(candidate.key)
        if not candidate.strong and sport:
            continue  # "Arsenal beat Chelsea", "behind leaders Liverpool": clubs, not places
        if not candidate.strong:
            kept = [e for e in kept if e.population >= 50_000 and e.primary]
        if not kept:
            if candidate.strong and not all(m.quiet for m in candidate.used):
                elsewhere = sorted({short_country(e.country) for e in pool})
                reason = "not in the offline gazetteer"
                if elsewhere:
                    reason += f" for this article's countries (only in {', '.join(elsewhere)})"
                unresolved.append(Unresolved(candidate.name, _quote(candidate), reason))
            continue
        options[candidate.key] = kept
    choice = {
        key: max(found_here, key=lambda e: _score(e, hints_of[key], state_of[key]))
        for key, found_here in options.items()
    }
    for _round in range(3):
        for key, found_here in options.items():
            centre = _median([(e.lat, e.lon) for k, e in choice.items() if k != key])
            if centre is not None and len(found_here) > 1:
                choice[key] = _nearest(found_here, centre, hints_of[key], state_of[key])
    # a weak match far from every other place is more likely a namesake than the place meant
    far: dict[str, float] = {}
    for key, entry in choice.items():
        others = [(e.lat, e.lon) for k, e in choice.items() if k != key]
        centre = _median(others)
        if centre is None or len(others) < 2:
            continue
        spread = statistics.median(distance_km(p[0], p[1], centre[0], centre[1]) for p in others)
        d = distance_km(entry.lat, entry.lon, centre[0], centre[1])
        limit = max(1000.0, 3 * spread) if entry.primary else max(400.0, 2 * spread)
        if d > limit and (entry.population < 100_000 or not entry.primary):
            far[key] = d
    by_key = {c.key: c for c in candidates}
    for key, d in far.items():
        candidate = by_key[key]
        entry = choice.pop(key)
        reason = (
            f"the only GeoNames match ({entry.name}, {short_country(entry.country)}) is "
            f"{d:,.0f} km from the article's other places"
        )
        unresolved.append(Unresolved(candidate.name, _quote(candidate), reason))
    regions = {**region_codes, **_region_labels(candidates, choice)}
    places: list[PlaceDraft] = []
    for candidate in candidates:
        if candidate.key not in choice:
            continue
        entry = choice[candidate.key]
        area = regions_of.get(candidate.key, {}).get(entry.geonameid)
        if area is not None:
            place = _region_place(candidate, area, len(options[candidate.key]), claimants)
        else:
            place = _place(candidate, entry, options[candidate.key], regions, claimants)
        if candidate.key in outside:
            place.comments.append("review: in a country the article does not name")
        places.append(place)
    places.sort(key=lambda p: p.sentence)
    return places, unresolved


def _region_id(area: Region) -> int:
    return -(zlib.crc32(f"{area.country}/{area.level}/{area.name}/{area.parent}".encode()) + 1)


def _as_entry(area: Region) -> GeoEntry:
    """A region as a gazetteer entry, so that it takes part in choosing among namesakes."""
    return GeoEntry(_region_id(area), area.seat, area.lat, area.lon, area.country, "", 10**6)


def _state_name(code: str) -> str:
    return next((n.title() for n, c in us_states().items() if c == code), "")


def _region_place(
    candidate: _Candidate, area: Region, namesakes: int, claimants: Claimants
) -> PlaceDraft:
    mention = next((m for m in candidate.used if m.region_word), candidate.used[0])
    sentence = mention.sentence
    span = window(sentence, mention.start, mention.full_end, min_words=4, max_words=12)
    quote = tidy(sentence.text[span.start : span.end])
    if candidate.name not in quote:
        quote = tidy(sentence.text)
    context = window(sentence, mention.start, mention.full_end, min_words=10, max_words=30, lead=12)
    word = candidate.region_word
    name = candidate.name
    if word:
        name = f"{name} {_singular(word).lower() if word.islower() else _singular(word)}"
    country = short_country(area.country)
    kind = "state or province" if area.level == 1 else "county or district"
    how = {
        "capital": "its capital (the seat GeoNames marks)",
        "name": "the place of its own name",
    }.get(area.how, "its most notable place in GeoNames, not necessarily its capital")
    comments = []
    if namesakes > 1:
        comments.append(f"review: {namesakes - 1} other regions of this name; chose {area.name}")
    if area.how not in ("capital", "name"):
        comments.append(
            f"review: no capital of {area.name} in the offline data; the point is {area.seat}: "
            "move it to the capital if need be"
        )
    return PlaceDraft(
        name=name[:200],
        region=f"{area.parent}, {country}" if area.parent else country,
        lat=round(area.lat, 4),
        lon=round(area.lon, 4),
        what=(mention.appositive or tidy(sentence.text[context.start : context.end]))[:500],
        source=_source_of(claimants, sentence),
        quote=quote,
        note=(
            f"A {kind} ({area.name}): the point is {area.seat}, {how}, and stands for the "
            "whole region."
        ),
        comments=comments,
        sentence=sentence.index,
    )


def _region_labels(
    candidates: list[_Candidate], choice: dict[str, GeoEntry]
) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for candidate in candidates:
        entry = choice.get(candidate.key)
        word = candidate.region_word
        if entry is not None and word is not None:
            out.setdefault(
                (entry.country, entry.admin1), f"{candidate.name} {_singular(word).lower()}"
            )
    return out


def _singular(word: str) -> str:
    if word.lower().endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.lower().endswith("s") and not word.lower().endswith("ss") else word


def _quote(candidate: _Candidate) -> str:
    mention = candidate.used[0]
    span = window(mention.sentence, mention.start, mention.full_end, min_words=4, max_words=12)
    return tidy(mention.sentence.text[span.start : span.end])


def _place(
    candidate: _Candidate,
    entry: GeoEntry,
    options: list[GeoEntry],
    regions: dict[tuple[str, str], str],
    claimants: Claimants,
) -> PlaceDraft:
    mention = next(
        (m for m in candidate.used if m.region_word or m.facility),
        next((m for m in candidate.used if m.strong), candidate.used[0]),
    )
    sentence = mention.sentence
    span = window(sentence, mention.start, mention.full_end, min_words=4, max_words=12)
    quote = tidy(sentence.text[span.start : span.end])
    if candidate.name not in quote:
        quote = tidy(sentence.text)
    context = window(sentence, mention.start, mention.full_end, min_words=10, max_words=30, lead=12)
    what = mention.appositive or tidy(sentence.text[context.start : context.end])
    name = candidate.name
    notes: list[str] = []
    comments: list[str] = []
    word = candidate.region_word
    if word:
        name = f"{candidate.name} {_singular(word).lower() if word.islower() else _singular(word)}"
        notes.append(
            f"A region: the point is {entry.name}, the GeoNames place of that name, and stands "
            "for the whole region."
        )
    elif candidate.facility:
        name = f"{candidate.name} {candidate.facility}"
        notes.append(
            f"Coordinates are those of {entry.name} itself, not of the {candidate.facility}."
        )
    if not entry.primary:
        notes.append(f"Matched GeoNames' alternate name of {entry.name}.")
    namesakes = len(options) - 1
    if namesakes:
        comments.append(
            f"review: {namesakes} other GeoNames place{'s' if namesakes > 1 else ''} of this name; "
            f"chose {entry.name} ({short_country(entry.country)}, population {entry.population:,})"
        )
    if word:
        region = short_country(entry.country)
    else:
        label = regions.get((entry.country, entry.admin1))
        if label is None and entry.country == "US":
            label = next((n.title() for n, c in us_states().items() if c == entry.admin1), None)
        region = (
            f"{label}, {short_country(entry.country)}" if label else short_country(entry.country)
        )
    source = _source_of(claimants, sentence)
    return PlaceDraft(
        name=name[:200],
        region=region[:200] if region else None,
        lat=round(entry.lat, 4),
        lon=round(entry.lon, 4),
        what=what[:500] or name,
        source=source,
        quote=quote,
        note=" ".join(notes) or None,
        comments=comments,
        sentence=sentence.index,
    )


__all__ = ["PlaceDraft", "Unresolved", "resolve"]
