"""Fixed forms of news numbers that the general unit-and-label reading gets wrong.

A score line ("Arsenal beat Chelsea 2-1", "France led 20-17"), a minute ("the 92nd minute",
"45+2"), a category ("a Category 3 storm"), a vote ("voted seven to four"), a toll ("bringing
the toll to eight"), and a measure put at a value ("put the magnitude at 6.1", "a crowd of
31,204"). Each gives ``Form``s: value, unit, label and the characters they cover; the general
reader then skips numbers inside those characters.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.digest.text import UNITS
from bot.draft.text import wordlist

if TYPE_CHECKING:
    from bot.digest.model import Number, Qualifier


@dataclass(frozen=True)
class Form:
    value: Number
    unit: str
    label: str
    start: int
    end: int
    """The characters of the whole form (for the quote and to skip its numbers)."""
    qualifier: Qualifier | None = None
    number: int = -1
    """Where the (first) number stands: who says it is decided there."""

    @property
    def at(self) -> int:
        return self.number if self.number >= 0 else self.start


_NAME = r"[A-Z][\w\u2019'.&-]*(?:\s+(?:[A-Z][\w\u2019'.&-]*|of|and|de|du))*"
_SCORE = re.compile(
    rf"(?:(?P<a>{_NAME})\s+)?(?:(?:have|has|had)\s+)?(?P<verb>beat|bt|beats|defeated|edged|thrashed"
    rf"|drew|drew with|led|lead|leads|trailed|trail|lost to|lost|won|overcame|saw off)"
    rf"(?:\s+(?P<b>{_NAME}))?\s+(?:by\s+)?(?P<x>\d{{1,3}})\s*[-\u2013]\s*(?P<y>\d{{1,3}})(?!\d)"
)
_SCORE_BETWEEN = re.compile(
    rf"(?P<a>{_NAME})\s+(?P<x>\d{{1,3}})\s*[-\u2013]\s*(?P<y>\d{{1,3}})\s+(?P<b>{_NAME})"
)
_SCORE_NOUN = re.compile(
    rf"\b(?P<x>\d{{1,3}})\s*[-\u2013]\s*(?P<y>\d{{1,3}})\s+(?:(?:home|away|league|cup)\s+)?"
    rf"(?P<what>win|victory|defeat|loss|draw|triumph|thrashing|success)"
    rf"(?:\s+(?:over|against|at|to|by|with)\s+(?P<b>{_NAME}))?"
)
"""'earned a 2-1 win over Fulham', 'a 3-2 defeat to Spurs'."""
_MINUTE = re.compile(
    r"\b(?P<n>\d{1,3})(?:st|nd|rd|th)[-\s]+minute\b|\((?P<m>\d{2,3})\+(?P<extra>\d{1,2})\)"
    r"|\b(?P<k>\d{2,3})\+(?P<extra2>\d{1,2})\s*(?:min|minutes?|[\u2032'])?(?!\d)"
    r"|\b(?P<p>\d{1,3})\s*[\u2032](?!\d)"
)
_CATEGORY = re.compile(r"\b[Cc]ategory[-\s](?P<n>\d)\b(?:\s+(?P<what>[a-z]+))?")
_VOTE = re.compile(
    r"\bvot(?:ed|es|ing)\s+(?P<x>\w+)\s+(?:to|-|\u2013)\s+(?P<y>\w+)|\bby\s+(?P<x2>\w+)\s+votes?"
    r"\s+to\s+(?P<y2>\w+)",
    re.IGNORECASE,
)
_TOLL = re.compile(
    r"\b(?:death\s+)?toll\b(?:(?:\s+[\w\u2019'-]+){0,9}?\s+(?:rose|climbed|risen|stood|stands"
    r"|jumped|increased|reached|hit|is|was))?\s+(?:to|at|of)\s+"
    r"(?P<n>\d[\d,]*|(?!a\b|an\b|the\b)[a-z]+(?:-[a-z]+)?)\b",
    re.IGNORECASE,
)
_MEASURED = re.compile(
    r"\b(?P<what>magnitude|depth|crowd|attendance|turnout|population)\s+(?:was\s+|of\s+|at\s+)?"
    r"(?:(?P<q>about|around|some|nearly|almost|more than|over|at least)\s+)?"
    r"(?P<n>\d[\d,]*(?:\.\d+)?)(?![\d.,]*\d)(?!\s*(?:%|per\s*cent|km|kilomet|miles|m\b|mph))",
    re.IGNORECASE,
)
_MAGNITUDE_AFTER = re.compile(r"\b(?P<n>\d(?:\.\d)?)[-\s]magnitude\b", re.IGNORECASE)
_MEASURE_UNITS = {
    "magnitude": "magnitude",
    "depth": "km",
    "crowd": "people",
    "attendance": "people",
    "turnout": "%",
    "population": "people",
}
_IT_AT = re.compile(
    r"\b(?:put|measured|estimated|gave|recorded|registered)\s+it\s+at\s+"
    r"(?:(?P<q>about|around|some|nearly|almost|more than|over|at least)\s+)?"
    r"(?P<n>\d[\d,]*(?:\.\d+)?)"
)
_QUALIFIERS: dict[str, Qualifier] = {
    "about": "about",
    "around": "about",
    "some": "about",
    "nearly": "almost",
    "almost": "almost",
    "more than": "more than",
    "over": "more than",
    "at least": "at least",
}
_POINTS = re.compile(r"\b(tries|try|conversions?|drop goal|baskets?|innings|wickets?)\b", re.I)
_SMALL = frozenset(wordlist("a an the his her their its"))
_OPENERS = frozenset(
    wordlist("A An The Elsewhere Meanwhile However But And In On At After Before Earlier Later")
)


def _word(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return UNITS.get(text.lower())


def _number(text: str) -> Number | None:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        word = _word(text)
        return word
    return int(value) if value.is_integer() else value


def _team(name: str | None) -> str:
    return re.sub(r"^(?:The|A)\s+", "", name or "").strip()


@functools.lru_cache(maxsize=64)
def _score_unit(article_text: str) -> str:
    return "points" if _POINTS.search(article_text) else "goals"


_SCORE_HINT = re.compile(r"\d\s*[-\u2013]\s*\d")


def find_forms(text: str, article_text: str) -> list[Form]:
    """The fixed forms in one sentence; ``article_text`` says whether scores are goals."""
    out: list[Form] = []
    unit = _score_unit(article_text)
    opening = re.match(_NAME, text)
    for pattern in (_SCORE, _SCORE_BETWEEN) if _SCORE_HINT.search(text) else ():
        for match in pattern.finditer(text):
            a, b = _team(match.group("a")), _team(match.group("b"))
            if not a and opening is not None:
                a = _team(opening.group())  # "Leicester City came from behind to beat …"
            x, y = int(match.group("x")), int(match.group("y"))
            verb = match.groupdict().get("verb") or ""
            if verb.startswith(("lost", "trail")):
                x, y = y, x  # "Norwich lost 2-1 to Leicester": the winner's score first
                a, b = b, a
            when = " at half-time" if "half-time" in text[match.end() : match.end() + 20] else ""
            first = f"{a} {unit}{when}" if a else f"Winner's {unit}{when}"
            second = f"{b} {unit}{when}" if b else f"Opponent's {unit}{when}"
            at = match.start("x")
            out.append(Form(x, unit, first, match.start(), match.end(), number=at))
            out.append(Form(y, unit, second, match.start(), match.end(), number=at))
    for match in _SCORE_NOUN.finditer(text) if _SCORE_HINT.search(text) else ():
        if any(f.start <= match.start() < f.end for f in out):
            continue
        x, y = int(match.group("x")), int(match.group("y"))
        names = [
            n for n in re.findall(_NAME, text[: match.start()]) if n.split()[0] not in _OPENERS
        ]
        a = re.sub(r"['\u2019]s$", "", _team(names[-1])) if names else ""  # the side just named
        b = _team(match.group("b"))
        if match.group("what") in ("defeat", "loss"):
            a, b = b, a  # "a 3-2 defeat to Spurs": Spurs scored 3
        at = match.start("x")
        out.append(
            Form(x, unit, f"{a} {unit}" if a else f"Winner's {unit}", at, match.end(), number=at)
        )
        out.append(
            Form(y, unit, f"{b} {unit}" if b else f"Opponent's {unit}", at, match.end(), number=at)
        )
    for match in _MINUTE.finditer(text):
        number = match.group("n") or match.group("m") or match.group("k") or match.group("p")
        extra = match.group("extra") or match.group("extra2")
        label = f"Minute ({number}+{extra})" if extra else "Minute"
        out.append(Form(int(number), "minute", label, match.start(), match.end()))
    for match in _CATEGORY.finditer(text):
        what = match.group("what") or ""
        label = f"{what.capitalize()} category" if what and what not in _SMALL else "Category"
        end = match.end() if what and what not in _SMALL else match.end("n")
        out.append(Form(int(match.group("n")), "category", label, match.start(), end))
    for match in _VOTE.finditer(text):
        yes = _word(match.group("x") or match.group("x2") or "")
        no = _word(match.group("y") or match.group("y2") or "")
        if yes is not None and no is not None:
            out.append(Form(yes, "votes", "Votes in favour", match.start(), match.end()))
            out.append(Form(no, "votes", "Votes against", match.start(), match.end()))
    for match in _TOLL.finditer(text):
        value = _number(match.group("n"))
        if value is not None:
            out.append(Form(value, "deaths", "Death toll", match.start(), match.end()))
    measured: list[Form] = []
    for match in _MEASURED.finditer(text):
        value = _number(match.group("n"))
        what = match.group("what").lower()
        if value is not None and not any(f.start <= match.start("n") < f.end for f in out):
            qualifier = _QUALIFIERS.get((match.group("q") or "").lower())
            label = what.capitalize()
            unit = _MEASURE_UNITS[what]
            measured.append(
                Form(value, unit, label, match.start(), match.end(), qualifier, match.start("n"))
            )
    for match in _MAGNITUDE_AFTER.finditer(text):  # "the 6.3 magnitude quake"
        value = _number(match.group("n"))
        if value is not None:
            at = match.start("n")
            measured.append(Form(value, "magnitude", "Magnitude", at, match.end(), number=at))
    for match in _IT_AT.finditer(text):  # "… at 6.1, but the survey measured it at 5.6"
        value = _number(match.group("n"))
        before = [f for f in measured if f.end <= match.start()]
        if value is not None and before:
            qualifier = _QUALIFIERS.get((match.group("q") or "").lower())
            last = before[-1]
            measured.append(
                Form(
                    value,
                    last.unit,
                    last.label,
                    match.start(),
                    match.end(),
                    qualifier,
                    match.start("n"),
                )
            )
    return out + measured
