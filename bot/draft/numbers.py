"""Numbers as a reader sees them: digits and words, ranges, qualifiers, scale words.

``find_numbers`` returns each number mention of a sentence with its value(s), qualifier and the
characters it covers. It skips what is not a quantity: years, dates, times, model names (F-16,
E38), ordinals other than "fourth day"-like counts, vague amounts ("several dozen", "hundreds").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.digest.text import ORDINALS as LOADER_ORDINALS
from bot.digest.text import SCALES, TENS, UNITS
from bot.draft.text import wordlist

if TYPE_CHECKING:
    from bot.digest.model import Number, Qualifier

TOKEN = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*)|(?P<word>[^\W\d_]+(?:['\u2019-][^\W\d_]+)*)|(?P<sym>[^\w\s])",
)

# The number words are the loader's (bot.digest.text), so a draft reads them as `check` does;
# its ordinals leave out "first" ("the first invasion" is no figure) and "hundredth".
ORDINALS = {word: n for word, n in LOADER_ORDINALS.items() if word not in ("first", "hundredth")}
SHORT_SCALES = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion", "tn": "trillion"}
CURRENCIES = {"£": "pounds", "$": "dollars", "€": "euros"}
MONTHS = frozenset(
    wordlist(
        "january february march april may june july august september october november december "
        "jan feb mar apr jun jul aug sep sept oct nov dec"
    )
)
_ORDINAL_NOUNS = frozenset(
    wordlist(
        "day days week weeks month months year years round consecutive term terms straight "
        "successive time minute"
    )
)

QUALIFIERS: tuple[tuple[tuple[str, ...], Qualifier, bool], ...] = (
    # (words before the number, qualifier, whether the mapping loses meaning: review it)
    (("no", "fewer", "than"), "at least", False),
    (("no", "less", "than"), "at least", False),
    (("no", "more", "than"), "up to", False),
    (("a", "minimum", "of"), "at least", False),
    (("at", "least"), "at least", False),
    (("more", "than"), "more than", False),
    (("upwards", "of"), "more than", False),
    (("in", "excess", "of"), "more than", False),
    (("up", "to"), "up to", False),
    (("as", "many", "as"), "up to", False),
    (("as", "much", "as"), "up to", False),
    (("as", "far", "as"), "up to", False),
    (("at", "most"), "up to", False),
    (("fewer", "than"), "up to", True),
    (("less", "than"), "up to", True),
    (("just", "under"), "almost", False),
    (("close", "to"), "almost", False),
    (("an", "estimated"), "about", False),
    (("almost",), "almost", False),
    (("nearly",), "almost", False),
    (("about",), "about", False),
    (("around",), "about", False),
    (("approximately",), "about", False),
    (("roughly",), "about", False),
    (("some",), "about", False),
    (("over",), "more than", False),
    (("within",), "up to", False),
    (("under",), "up to", True),
    (("below",), "up to", True),
)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int
    kind: str  # "num" | "word" | "sym"
    low: str = ""
    """``text`` in lower case (computed once: the extractors compare it constantly)."""


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    """Characters of the number itself (both ends of a range), within the sentence."""
    values: tuple[Number, ...]
    after: int
    """Index of the first token after the number (where the unit starts)."""
    before: int
    """Index of the last token before the qualifier (or the number)."""
    qualifier: Qualifier | None = None
    qualifier_words: str | None = None
    """The qualifier as written ("as far as"), when there is one."""
    qualifier_start: int = -1
    """Index of the qualifier's first token (-1: none)."""
    scale: str | None = None
    """A scale word ("1.5 million") left for the unit when folding it would not give a whole
    number; otherwise it is folded into the value."""
    unit_hint: str | None = None
    """A unit written into the number itself: %, £/$/€, "km" in "5km", "m" in "£3m"."""
    ordinal: bool = False
    fraction: bool = False
    below_zero: bool = False
    """Written after "minus": the value is the number as written, the unit says below zero."""


def _fraction(
    start: int,
    end: int,
    value: float,
    i: int,
    q_start: int,
    qualifier: Qualifier | None,
    words: str | None,
) -> Mention:
    """ "half", "a quarter of": a fraction mention ending at token ``i``."""
    return Mention(
        start,
        end,
        (value,),
        after=i + 1,
        before=q_start - 1,
        qualifier=qualifier,
        qualifier_words=words,
        qualifier_start=q_start,
        fraction=True,
    )


@functools.lru_cache(maxsize=1024)
def _tokens(text: str) -> tuple[Token, ...]:
    return tuple(
        Token(m.group(), m.start(), m.end(), m.lastgroup or "sym", m.group().lower())
        for m in TOKEN.finditer(text)
    )


def tokens(text: str) -> list[Token]:
    """The tokens of ``text`` (cached: every extractor reads each sentence)."""
    return list(_tokens(text))


def _digits(text: str) -> Number | None:
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text) is None:
        return None
    value = float(text.replace(",", ""))
    return int(value) if value.is_integer() and "." not in text else value


def _word_number(toks: list[Token], i: int) -> tuple[Number, int] | None:
    """A number in words starting at ``toks[i]``: "four", "twenty-one", "two dozen", "a dozen"."""
    word = toks[i].low
    j = i
    value: int | None = None
    tens, _, unit = word.partition("-")
    if tens in TENS and unit in UNITS and unit != "zero":
        value, j = TENS[tens] + UNITS[unit], i + 1
    elif word in UNITS:
        value, j = UNITS[word], i + 1
    elif word in TENS:
        value, j = TENS[word], i + 1
        if j < len(toks) and toks[j].low in UNITS and toks[j].low != "zero":
            value, j = value + UNITS[toks[j].low], j + 1
    elif word in ("a", "an") and i + 1 < len(toks) and toks[i + 1].low == "dozen":
        return 12, i + 2
    if value is None:
        return None
    if j < len(toks) and toks[j].low == "dozen":
        return value * 12, j + 1
    return value, j


_GLUED_UNITS = frozenset(wordlist("km kg mph ft cm mm c p"))


def _signature(toks: list[Token], j: int, hint: str | None) -> str | None:
    """The unit written into a number: its hint ("%", "£m") or a glued word ("412p", "5km")."""
    if hint is not None:
        return hint
    if 0 < j < len(toks) and toks[j].start == toks[j - 1].end and toks[j].kind == "word":
        return toks[j].low
    return None


def _parse_one(toks: list[Token], i: int) -> tuple[Number, int, str | None] | None:
    """One number at ``toks[i]``: (value, next index, unit hint)."""
    tok = toks[i]
    if tok.kind == "num":
        value = _digits(tok.text)
        if value is None:
            return None
        hint: str | None = None
        j = i + 1
        if i > 0 and toks[i - 1].text in CURRENCIES and toks[i - 1].end == tok.start:
            hint = toks[i - 1].text
        if j < len(toks) and toks[j].start == tok.end:
            glued = toks[j].low
            if toks[j].text == "%":
                return value, j + 1, "%"
            if hint and glued in SHORT_SCALES:
                return value, j + 1, hint + glued
            if hint and glued in ("million", "billion", "trillion"):
                return (
                    value,
                    j + 1,
                    hint + glued[0] + ("n" if glued[0] != "m" else ""),
                )  # £12billion
            if toks[j].kind == "word" and glued not in _GLUED_UNITS:
                return None  # "4th", "10am", "38th" are not quantities
        return value, j, hint
    if tok.kind == "word":
        parsed = _word_number(toks, i)
        if parsed is None:
            return None
        return parsed[0], parsed[1], None
    return None


def _qualifier(toks: list[Token], i: int) -> tuple[Qualifier | None, str | None, int]:
    words = [t.low for t in toks[max(0, i - 3) : i]]
    for phrase, qualifier, _lossy in QUALIFIERS:
        if tuple(words[-len(phrase) :]) == phrase:
            first = i - len(phrase)
            return qualifier, " ".join(t.text for t in toks[first:i]), first
    return None, None, i


def lossy_qualifier(words: str | None) -> bool:
    if words is None:
        return False
    key = tuple(words.lower().split())
    return any(phrase == key and lossy for phrase, _q, lossy in QUALIFIERS)


def _is_year(value: Number, text: str) -> bool:
    return isinstance(value, int) and 1800 <= value <= 2100 and "," not in text


def _skip(toks: list[Token], i: int, j: int, value: Number) -> bool:
    tok = toks[i]
    prev = toks[i - 1] if i > 0 else None
    prev2 = toks[i - 2] if i > 1 else None
    nxt = toks[j] if j < len(toks) else None
    if prev is not None and prev.end == tok.start and prev.kind == "word":
        return True  # E38, A1
    if (
        prev is not None
        and prev2 is not None
        and prev.text in "-/"
        and prev.end == tok.start
        and prev2.end == prev.start
        and prev2.kind == "word"
    ):
        return True  # F-16, COVID-19
    if nxt is not None and nxt.text in ":/" and nxt.start == toks[j - 1].end:
        return True  # 10:30, 24/7
    if (
        prev is not None
        and prev2 is not None
        and prev.text in ":/-\u2013"
        and prev.end == tok.start
        and prev2.end == prev.start
        and prev2.kind == "num"
    ):
        return True  # the second half of 10:30, 24/7 or a score such as 2-1
    if (prev is not None and prev.low in MONTHS) or (nxt is not None and nxt.low in MONTHS):
        return True  # 9 August, August 9
    if tok.kind == "num" and _is_year(value, tok.text):
        return nxt is None or nxt.low not in _UNITY_NOUNS
    after = toks[j + 1] if j + 1 < len(toks) else None
    one_person = (
        nxt is not None
        and nxt.low in _PERSONS
        and (
            (after is not None and after.low in ("died", "was", "who", "had", "has", "is", "were"))
            or (prev is not None and prev.low in _HARMED)
        )
    )  # "one woman died", "one man who was struck", "injured one person"
    return (
        tok.kind == "word"
        and tok.low == "one"
        and not (nxt is not None and (nxt.low in SCALES or nxt.low in _MEASURES or one_person))
    )


_HARMED = frozenset(
    wordlist("killed killing injured injuring wounded wounding rescued arrested detained")
)
_PERIODS = frozenset(wordlist("hours days weeks months years minutes decades"))
_PERSONS = frozenset(
    wordlist(
        "woman man child boy girl person baby soldier officer miner worker passenger pilot "
        "firefighter resident patient student teacher civilian"
    )
)
_UNITY_NOUNS = frozenset(wordlist("people jobs homes troops soldiers km miles metres tonnes"))
_MEASURES = frozenset(
    wordlist(
        "km kilometres kilometers miles metres meters feet ft per percent hectares acres tonnes "
        "tons kg litres liters degrees mph hours minutes seconds"
    )
)


def find_numbers(text: str) -> list[Mention]:
    """Every quantity in ``text`` (one sentence), in order."""
    toks = tokens(text)
    out: list[Mention] = []
    i = 0
    while i < len(toks):
        mention = _mention(toks, i)
        if mention is None:
            i += 1
            continue
        out.append(mention)
        i = max(mention.after, i + 1)
    return out


def _mention(toks: list[Token], i: int) -> Mention | None:
    tok = toks[i]
    nxt = toks[i + 1].low if i + 1 < len(toks) else ""
    prev = toks[i - 1].low if i > 0 else ""
    if tok.kind == "word" and tok.low in ORDINALS:
        if (tok.text[0].isupper() and i > 0) or nxt not in _ORDINAL_NOUNS:
            return None  # "Second World War", "the first invasion"
        return Mention(
            tok.start, tok.end, (ORDINALS[tok.low],), after=i + 1, before=i - 1, ordinal=True
        )
    if tok.kind == "word" and tok.low == "half":
        qualifier, words, q_start = _qualifier(toks, i)
        if prev in ("a", "first", "second", "the") or not (
            qualifier or nxt in ("of", "were", "was", "had", "have", "are", "is")
        ):
            return None  # "in the first half", "half-time"
        return _fraction(tok.start, tok.end, 0.5, i, q_start, qualifier, words)
    if (
        tok.kind == "word"
        and tok.low == "quarter"  # not "a third": 1/3 has no exact decimal for the YAML
        and prev in ("a", "one")
        and nxt == "of"
    ):
        qualifier, words, q_start = _qualifier(toks, i - 1)
        return _fraction(toks[i - 1].start, tok.end, 0.25, i, q_start, qualifier, words)
    parsed = _parse_one(toks, i)
    if parsed is None:
        return None
    value, j, hint = parsed
    if _skip(toks, i, j, value) or prev in ("several", "few", "many", "dozens", "hundreds"):
        return None
    if prev in ("past", "last", "previous") and j < len(toks) and toks[j].low in _PERIODS:
        return None  # "during the past 24 hours": when, not how many
    if prev == "in" and i >= 2 and toks[i - 2].low in ("one", "1"):
        return None  # "one in five adults": a ratio, not five adults
    if (
        j + 1 < len(toks)
        and toks[j].text == "-"
        and toks[j + 1].low.startswith(("year-old", "month-old", "week-old", "day-old", "man"))
    ):
        return None  # an age ("a 67-year-old man")
    first = i - 1 if hint is not None and hint[0] in CURRENCIES else i
    end = toks[j - 1].end
    values: tuple[Number, ...] = (value,)
    # a range: "200 to 490", "3-4", "between 5 and 10", "£2m-£3m"
    between = first > 0 and toks[first - 1].low == "between"
    if (
        j < len(toks)
        and toks[j].low in ("to", "-", "\u2013", "and")
        and (toks[j].low != "and" or between)
    ):
        k = j + 1
        if k < len(toks) and toks[k].text in CURRENCIES:
            k += 1
        high = _parse_one(toks, k) if k < len(toks) else None
        same_kind = high is not None and toks[k].kind == tok.kind
        if toks[j].low in ("-", "\u2013") and tok.kind != "num":
            same_kind = False
        if high is not None and same_kind:
            low_unit = _signature(toks, j, hint)
            high_unit = _signature(toks, high[1], high[2])
            same_kind = low_unit is None or low_unit == high_unit
        if high is not None and same_kind and value < high[0]:
            values = (value, high[0])
            j = high[1]
            hint = hint or high[2]
            end = toks[j - 1].end
    if (
        len(values) == 1
        and j + 1 < len(toks)
        and toks[j].text in ("-", "\u2013")
        and toks[j].start == toks[j - 1].end
        and toks[j + 1].kind == "num"
        and toks[j + 1].start == toks[j].end
    ):
        return None  # a score or a code (2-1, 0-0), not a range
    scale: str | None = None
    if j < len(toks) and toks[j].low in SCALES and toks[j].low != "hundred":
        factor = SCALES[toks[j].low]
        scaled = tuple(float(v) * factor for v in values)
        if all(v.is_integer() for v in scaled):
            values = tuple(int(v) for v in scaled)
        else:
            scale = toks[j].low
        end = toks[j].end
        j += 1
    if between:
        qualifier, words, q_start = None, None, first - 1
    else:
        qualifier, words, q_start = _qualifier(toks, first)
        if words and words.lower() == "over" and j < len(toks) and (toks[j].low in _PERIODS):
            qualifier, words, q_start = None, None, first  # "over five years": a span of time
    sign = toks[first - 1] if first > 0 else None
    before_sign = toks[first - 2] if first > 1 else None
    below_zero = sign is not None and (
        sign.low == "minus"
        or (
            sign.text in "-\u2212"
            and sign.end == toks[first].start
            and (before_sign is None or before_sign.end < sign.start)
            and j < len(toks)
            and toks[j].low in ("c", "f", "degrees", "\u00b0")
        )
    )  # "minus 15", "-13.3C": the value as written, the unit says below zero
    return Mention(
        toks[first].start,
        end,
        values,
        after=j,
        before=q_start - 1,
        qualifier=qualifier,
        qualifier_words=words,
        qualifier_start=q_start,
        scale=scale,
        unit_hint=hint,
        below_zero=below_zero,
    )
