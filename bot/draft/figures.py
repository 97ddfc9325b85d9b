"""Figures: each quantity with its unit, a label from the surrounding phrase, its claimant.

"Ukraine had lost up to 945 soldiers and 102 pieces of equipment" gives two figures:
945 soldiers (qualifier "up to", label "soldiers lost") and 102 pieces of equipment (label
"pieces of equipment lost", the verb carried over the "and").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.digest.text import TENS, UNITS, has_number
from bot.draft.claimants import Claimant, Claimants
from bot.draft.forms import find_forms
from bot.draft.numbers import (
    CURRENCIES,
    SHORT_SCALES,
    Mention,
    Token,
    find_numbers,
    lossy_qualifier,
    tokens,
)
from bot.draft.text import Article, Sentence, Span, tidy, window, wordlist

if TYPE_CHECKING:
    from bot.digest.model import Number

_MEASURES: tuple[tuple[str, ...], ...] = (
    ("square", "kilometres"),
    ("square", "kilometers"),
    ("square", "miles"),
    ("square", "metres"),
    ("square", "meters"),
    ("square", "feet"),
    ("sq", "km"),
    ("sq", "miles"),
    ("cubic", "metres"),
    ("per", "cent"),
    ("km",),
    ("kilometres",),
    ("kilometers",),
    ("miles",),
    ("mile",),
    ("metres",),
    ("meters",),
    ("feet",),
    ("ft",),
    ("inches",),
    ("yards",),
    ("cm",),
    ("mm",),
    ("hectares",),
    ("acres",),
    ("tonnes",),
    ("tons",),
    ("kg",),
    ("kilograms",),
    ("litres",),
    ("liters",),
    ("gallons",),
    ("barrels",),
    ("percent",),
    ("degrees",),
    ("c",),
    ("mph",),
    ("knots",),
)
_MEASURE_WORDS = frozenset([" ".join(m) for m in _MEASURES] + ["%", "\u00b0C"])
_DISTANCE = frozenset(wordlist("km kilometres kilometers miles mile metres meters feet ft yards"))
_PARTITIVE = frozenset(
    wordlist(
        "pieces piece units items tonnes tons litres liters barrels gallons kg kilograms "
        "hectares acres cases rounds sets bottles boxes loads hours days"
    )
)
_STOP = frozenset(
    wordlist(
        "a an the this that these those and or but nor to in on at by for from with without "
        "into onto over under about after before during since until than then as per via within "
        "across along against among around near beyond toward towards up down off out through "
        "while who whom whose which what where when why how if because of so such being been be "
        "is are was were am had has have having will would could should can may might must do "
        "does did not no more less others other another additional further each every some any "
        "all both either neither its their his her our my your it they them he she we you i "
        "also only just still even there here than said says claimed wrote reported told later "
        "earlier ago old long late early last next behind ahead overnight today tonight "
        "yesterday now yet again"
    )
)
_PARTICIPLES = {
    "lost": "lost",
    "lose": "lost",
    "losing": "lost",
    "killed": "killed",
    "killing": "killed",
    "kill": "killed",
    "injured": "injured",
    "injuring": "injured",
    "wounded": "wounded",
    "wounding": "wounded",
    "destroyed": "destroyed",
    "destroying": "destroyed",
    "damaged": "damaged",
    "damaging": "damaged",
    "captured": "captured",
    "capturing": "captured",
    "seized": "seized",
    "seizing": "seized",
    "displaced": "displaced",
    "displacing": "displaced",
    "evacuated": "evacuated",
    "evacuating": "evacuated",
    "arrested": "arrested",
    "arresting": "arrested",
    "detained": "detained",
    "deployed": "deployed",
    "deploying": "deployed",
    "cut": "cut",
    "cutting": "cut",
    "raised": "raised",
    "raising": "raised",
    "spent": "spent",
    "spending": "spent",
    "saved": "saved",
    "saving": "saved",
    "built": "built",
    "building": "built",
    "sold": "sold",
    "selling": "sold",
    "hired": "hired",
    "hiring": "hired",
    "shed": "shed",
    "shedding": "shed",
    "rescued": "rescued",
    "affected": "affected",
    "dead": "dead",
    "missing": "missing",
    "evacuate": "evacuated",
    "closed": "closed",
    "closing": "closed",
    "cancelled": "cancelled",
    "cancelling": "cancelled",
    "delayed": "delayed",
    "stranded": "stranded",
    "created": "created",
    "creating": "created",
    "died": "died",
}
_CLAIMED = re.compile(r"\b(claim(?:s|ed)?|alleg(?:es|ed)|insist(?:s|ed))\b", re.IGNORECASE)
_HEDGES = re.compile(
    r"\b(estimated|estimates?|likely|probably|believed|thought to|reportedly|could|may have"
    r"|might|assessed|projected|forecasts?|expected|predicted|appears?)\b",
    re.IGNORECASE,
)
_SKIP_BACK = frozenset(
    wordlist(
        "had has have been be could would may might up to as many much far more than at least "
        "minus about around almost nearly some over within"
    )
)
_TRAILING_WORDS = frozenset(wordlist("more others extra additional further"))
_VERBS_AFTER = frozenset(
    [*_PARTICIPLES, "died", "fell", "rose", "went", "came", "joined", "remain", "remained"]
)
_CLAUSE_WORDS = frozenset(wordlist("while and but as after because that which who when where or"))


@dataclass
class FigureDraft:
    label: str
    values: tuple[Number, ...]
    qualifier: str | None
    unit: str | None
    status: str
    source: str
    quote: str
    comments: list[str] = field(default_factory=list)
    sentence: int = 0
    note: str | None = None

    def value(self) -> Number | list[Number]:
        return self.values[0] if len(self.values) == 1 else list(self.values)

    @property
    def words(self) -> str:
        return self.label

    @property
    def numbers(self) -> tuple[Number, ...]:
        return self.values


@dataclass
class _Phrase:
    unit: str | None = None
    noun_phrase: str = ""
    material: str = ""
    target: str = ""
    distance: bool = False
    participle: str | None = None
    end: int = 0
    """Character index (in the sentence) where the unit phrase ends."""
    bare: bool = False
    """Nothing names what is counted ("injuring 44 more"): take the unit of the figure before."""


def _measure(toks: list[Token], j: int, hint: str | None) -> tuple[str | None, int]:
    if hint == "%":
        return "%", j
    if j < len(toks) and toks[j].low == "p" and j > 0 and toks[j].start == toks[j - 1].end:
        return "pence", j + 1
    if hint and hint[0] in CURRENCIES:
        scale = SHORT_SCALES.get(hint[1:], "")  # "£3m" → "million pounds"
        return f"{scale} {CURRENCIES[hint[0]]}".strip(), j
    for phrase in _MEASURES:
        words = [t.low for t in toks[j : j + len(phrase)]]
        if tuple(words) == phrase and all(t.kind == "word" for t in toks[j : j + len(phrase)]):
            written = " ".join(t.text for t in toks[j : j + len(phrase)])
            unit = "°C" if phrase == ("c",) else written.lower()
            if phrase == ("c",) and not (j > 0 and toks[j].start == toks[j - 1].end):
                return None, j
            return unit, j + len(phrase)
    return None, j


def _noun_phrase(toks: list[Token], j: int, limit: int = 4) -> tuple[list[Token], int]:
    words: list[Token] = []
    k = j
    while k < len(toks) and len(words) < limit:
        tok = toks[k]
        if tok.kind != "word" or tok.low in _STOP or (words and tok.low in _VERBS_AFTER):
            break
        words.append(tok)
        k += 1
    return words, k


def _phrase(toks: list[Token], mention: Mention, text: str) -> _Phrase:
    out = _Phrase(end=mention.end)
    j = mention.after
    if (
        j + 1 < len(toks)
        and toks[j].text == "-"
        and toks[j].start == toks[j - 1].end
        and toks[j + 1].kind == "word"
        and toks[j + 1].start == toks[j].end
    ):
        # "a 130-mile stretch of the Thruway": the unit, then what it measures
        unit, k = _measure(toks, j + 1, None)
        unit = unit or toks[j + 1].low
        k = max(k, j + 2)
        np, k = _noun_phrase(toks, k)
        out.unit = unit
        out.end = toks[k - 1].end
        if np:
            out.noun_phrase = text[np[0].start : np[-1].end]
            if k + 1 < len(toks) and toks[k].low == "of":
                more, _k = _noun_phrase(toks, k + 1 + (toks[k + 1].low == "the"))
                if more:
                    out.noun_phrase = text[np[0].start : more[-1].end]
                    out.end = more[-1].end
        return out
    unit, j = _measure(toks, j, mention.unit_hint)
    if unit is not None:
        out.unit = unit
        out.end = toks[j - 1].end if j > 0 else mention.end
        out.distance = unit in _DISTANCE
        if j < len(toks) and toks[j].low in ("of", "from", "away", "to") and out.distance:
            if toks[j].low == "away":
                out.target = "away"
                out.end = toks[j].end
            else:
                np, k = _noun_phrase(
                    toks, j + 1 + (toks[j + 1].low == "the" if j + 1 < len(toks) else 0)
                )
                if np:
                    first = toks[j + 1]
                    out.target = f"from {text[first.start : np[-1].end]}"
                    out.end = np[-1].end
                    k2 = k
                    if (
                        k2 + 1 < len(toks)
                        and toks[k2].low == "with"
                        and toks[k2 + 1].kind == "word"
                    ):
                        more, _ = _noun_phrase(toks, k2 + 1, 2)
                        if more:
                            out.target = f"from {text[first.start : more[-1].end]}"
                            out.end = more[-1].end
        elif j < len(toks) and toks[j].low == "of":
            np, _k = _noun_phrase(toks, j + 1)
            if np:
                out.material = text[np[0].start : np[-1].end]
                out.end = np[-1].end
        elif not out.distance:
            np, k = _noun_phrase(toks, j, 2)  # "a 4% rise in European sales"
            if np:
                out.noun_phrase = text[np[0].start : np[-1].end]
                out.end = np[-1].end
                if k + 1 < len(toks) and toks[k].low == "in":
                    more, _k = _noun_phrase(toks, k + 1, 3)
                    if more:
                        out.noun_phrase = text[np[0].start : more[-1].end]
                        out.end = more[-1].end
        return out
    np, k = _noun_phrase(toks, j)
    if np and np[-1].low.endswith(("ed", "ing")):
        # "12 people killed", "31,204 watched": a verb after what is counted, not part of it
        trailing = np.pop()
        out.participle = _PARTICIPLES.get(trailing.low)
    if np and np[0].low in _TRAILING_WORDS:
        np = []
    plural = [n for n, t in enumerate(np) if _plural(t.low)]
    if plural and plural[-1] < len(np) - 1 and mention.values != (1,):
        np = np[: plural[-1] + 1]  # "four points clear": the count is of points
    if np:
        out.noun_phrase = text[np[0].start : np[-1].end]
        out.unit = np[-1].low if np[-1].text[:1].islower() else None
        out.end = np[-1].end
        head = np[-1].low
        if head in _PARTITIVE and k + 1 < len(toks) and toks[k].low == "of":
            more, _k2 = _noun_phrase(toks, k + 1, 3)
            if more:
                out.unit = text[np[-1].start : more[-1].end].lower()
                out.noun_phrase = text[np[0].start : more[-1].end]
                out.end = more[-1].end
    elif j < len(toks) and toks[j].low in _TRAILING_WORDS:
        out.end = toks[j].end
        out.bare = True
    # "half were killed", "12 people were injured", "30,000 customers lost power"
    k = mention.after if not np else k
    if np and k < len(toks) and toks[k].low in _PARTICIPLES:
        out.participle = _PARTICIPLES[toks[k].low]
    if (
        not np
        and k + 1 < len(toks)
        and toks[k].low in ("still", "now", "also")
        and toks[k + 1].low in _PARTICIPLES
    ):
        out.participle = _PARTICIPLES[toks[k + 1].low]  # "with 40 still missing"
        out.end = toks[k + 1].end
        out.bare = True
    if k + 1 < len(toks) and toks[k].low in ("were", "was", "are", "is", "had", "have"):
        nxt = toks[k + 1].low
        if nxt == "been" and k + 2 < len(toks):
            nxt = toks[k + 2].low
        if nxt in _REPORTED and k + 2 < len(toks) and toks[k + 2].low in _PARTICIPLES:
            nxt = toks[k + 2].low  # "70 people were reported missing"
        if nxt in _PARTICIPLES:
            out.participle = _PARTICIPLES[nxt]
            out.end = toks[k + 1 + (toks[k + 1].low == "been")].end
    return out


def _plural(word: str) -> bool:
    return word in ("people", "men", "women", "children", "police", "staff", "cattle") or (
        word.endswith("s") and not word.endswith(("ss", "us", "is"))
    )


def _participle_before(toks: list[Token], before: int) -> str | None:
    k = before
    while k >= 0 and (toks[k].kind == "sym" or toks[k].low in _SKIP_BACK):
        k -= 1
    if k < 0:
        return None
    verb = _PARTICIPLES.get(toks[k].low)
    if verb and k >= 2 and toks[k - 1].low in ("or", "and") and toks[k - 2].low in _PARTICIPLES:
        return f"{_PARTICIPLES[toks[k - 2].low]} {toks[k - 1].low} {verb}"
    return verb


_ORDINAL_SUBJECT = re.compile(
    r"\b(?:the|its|their)\s+((?:[\w\u2019'-]+\s+){0,2}[\w\u2019'-]+)\s+(?:entered|reached|marked|began"
    r"|started|passed|went into|moved into|is in|was in)\s+(?:its|their|the|a)\s*$",
    re.IGNORECASE,
)


def _label(
    phrase: _Phrase,
    verb: str | None,
    mention: Mention,
    before: str,
    context: str = "",
    after: str = "",
) -> str:
    if phrase.distance:
        target = phrase.target
        measure = re.search(r"\b(depth|height|length|width|altitude)\s+of\s+\S*\s*$", before) or (
            re.search(r"\b(level|height|depth)\b[^,;]{0,40}$", before)
        )
        if measure is not None or re.match(r"\s*(deep|below the surface|underground)", after):
            label = "depth" if measure is None else measure.group(1).lower()
        elif target == "away":
            place = _place_before(before)
            label = f"distance to {place}" if place else "distance away"
        else:
            label = f"distance {target}".strip()
    else:
        words = phrase.material or phrase.noun_phrase
        money = phrase.unit in _SHARE_UNITS or (phrase.unit or "").endswith(_CURRENCY_WORDS)
        changed = _change_label(before) if money and not phrase.material else None
        if changed:
            return changed[:1].upper() + changed[1:]
        if mention.ordinal:
            subject = _ORDINAL_SUBJECT.search(before)
            if subject:
                words = f"{words} of the {subject.group(1)}"
        if mention.fraction and not words:
            words = "share"
        if not words and context:
            words = context
            verb = None if verb and verb.split()[-1] in context.lower() else verb
        label = " ".join(w for w in (words, verb) if w) or (phrase.unit or "")
    return label[:1].upper() + label[1:] if label else ""


_PRONOUN_SUBJECTS = frozenset(wordlist("which that it they who this these those he she"))
_BARE_LABELS = frozenset(
    wordlist("% per cent percent dollars pounds euros cents pence people won s weeks days")
)
_SHARE_UNITS = frozenset(("%", "per cent", "percent", "pence", "cents", "points"))
_CURRENCY_WORDS = ("pounds", "dollars", "euros", "pence", "cents")
_UP = r"rose|rise|risen|rises|jumped|climbed|increased|grew|surged|soared|gained|up"
_DOWN = r"fell|fall|fallen|falls|dropped|slipped|decreased|declined|slumped|shrank|lost|down"
_CHANGE = re.compile(
    rf"(?P<subj>[^,;:()\u201c\u201d\"]{{3,80}}?)\s+(?:(?:has|have|had|was|were|is|are)\s+)?"
    rf"(?P<verb>{_UP}|{_DOWN}|was|were|is|are|stood at|totalled|reached|hit)"
    r"(?:\s+(?:by|to|from|at))?(?:\s+(?:almost|nearly|about|around|some|more than|over|just|a"
    r"|an))*\s*[£$\u20ac]?$",
    re.IGNORECASE,
)
_CHANGE_TO = re.compile(
    rf"(?P<subj>[^,;:()\u201c\u201d\"]{{3,80}}?)\s+(?:(?:has|have|had)\s+)?(?P<verb>{_UP}|{_DOWN})"
    r"(?:\s+[^\s,;]+){0,9}?\s+(?P<prep>to|from)"
    r"(?:\s+(?:almost|nearly|about|around|some|more than|over|just))*\s*[£$\u20ac]?$",
    re.IGNORECASE,
)
_SUBJECT_DROP = re.compile(
    r"^(?:.*\b(?:that|and|but|as|while|after|said|says)\s+)?(?:(?:the|a|an|its|their|his|her"
    r"|[A-Z][\w\u2019'-]*(?:\u2019s|'s|\u2019|'))\s+)*",
)


def _change_label(before: str) -> str | None:
    """What a money or percentage figure measures, from the verb it follows: "revenue rose
    5.8%" → "Revenue rise"; "… rose 5.8% to £17.3 billion" → "Revenue"; "net profit was $1.8bn"
    → "Net profit"; "shares fell almost 5%" → "Shares fall"."""
    for pattern in (_CHANGE_TO, _CHANGE):
        match = pattern.search(before)
        if match is None:
            continue
        subject = _SUBJECT_DROP.sub("", match.group("subj").strip())
        subject = re.split(r"\s+(?:in|for|of the year|over|during|since)\s+", subject)[0]
        words = subject.split()
        if words and before.lstrip().startswith(subject):
            words[0] = words[0].lower()  # sentence-initial: its capital says nothing
        if not words or len(words) > 5 or not any(w[:1].islower() for w in words):
            continue
        if words[0].lower() in _PRONOUN_SUBJECTS:
            return None
        verb = match.group("verb").lower()
        prep = match.groupdict().get("prep")
        if prep == "from":
            return f"{subject} before"
        if prep == "to" or not re.fullmatch(f"{_UP}|{_DOWN}", verb):
            return subject
        return f"{subject} {'rise' if re.fullmatch(_UP, verb) else 'fall'}"
    return None


def _context(toks: list[Token], before: int) -> str:
    """Up to four content words before a number, within its clause ("raising council tax")."""
    words: list[str] = []
    k = before
    while k >= 0 and len(words) < 4:
        tok = toks[k]
        if tok.kind == "sym" and tok.text in ",;:()\u2013\u2014":
            break
        if tok.kind == "word" and tok.low in _CLAUSE_WORDS:
            break
        if tok.kind == "word" and tok.low not in _STOP and tok.low not in _SKIP_BACK:
            words.append(tok.text)
        k -= 1
    return " ".join(reversed(words))


def _status(claimant: Claimant, quote: str, conflict: bool, claimed: bool = False) -> str:
    if claimant.side or claimed:
        return "claim"
    if claimant.kind in ("analyst", "think-tank") or _HEDGES.search(quote):
        return "estimate"
    if claimant.kind == "publisher" or not conflict:
        return "reported"
    return "estimate"


def _place_before(text: str) -> str:
    names = re.findall(r"\b([A-Z][\w\u2019'-]+)\b(?=[^A-Z]*$)", text)
    return names[-1] if names else ""


def sentence_figures(
    sentence: Sentence,
    claimant_at: Callable[[int], tuple[Claimant, Span | None]],
    conflict: bool,
    article_text: str = "",
    prior_unit: str | None = None,
) -> list[FigureDraft]:
    """The figures of one sentence; ``claimant_at(offset)`` says who speaks at a character;
    ``prior_unit`` is the unit of the figure before it ("Eight of them …")."""
    text = sentence.text
    toks = tokens(text)
    out: list[tuple[int, FigureDraft]] = []
    forms = find_forms(text, article_text)
    for form in forms:
        claimant, attribution = claimant_at(form.at)
        quote = _quote(sentence, Span(form.start, form.end), attribution)
        if not has_number(quote, form.value):
            continue
        claimed = bool(_CLAIMED.search(text[max(0, form.start - 80) : form.start]))
        out.append(
            (
                form.start,
                FigureDraft(
                    label=form.label[:200],
                    values=(form.value,),
                    qualifier=form.qualifier,
                    unit=form.unit,
                    status=_status(claimant, quote, conflict, claimed),
                    source=claimant.key,
                    quote=quote,
                    sentence=sentence.index,
                ),
            )
        )
    previous: tuple[_Phrase, str | None, int] | None = None
    last_unit = prior_unit
    mentions = [m for m in find_numbers(text) if not any(f.start <= m.start < f.end for f in forms)]
    for index, mention in enumerate(mentions):
        phrase = _phrase(toks, mention, text)
        tail = ""
        bare = not phrase.unit and not phrase.noun_phrase and not mention.fraction
        if bare and not _number_ahead(toks, mention):
            part = _partitive(toks, mention, last_unit)
            if part is not None:
                phrase.unit, phrase.noun_phrase, phrase.end, tail = part
        verb = phrase.participle or _participle_before(toks, mention.before)
        comments: list[str] = []
        joiner = toks[mention.before].low if mention.before >= 0 else ""
        adjacent = previous is not None and previous[2] + 1 == mention.before
        if previous is not None and adjacent and joiner in ("and", "or"):
            verb = verb or previous[1]
        listed = (
            joiner == "," and mention.after < len(toks) and toks[mention.after].low in _LIST_PREP
        )
        # "up from 30", "compared with 3.9%": the same quantity, before
        earlier = mention.before >= 1 and (toks[mention.before - 1].low, joiner) in _EARLIER
        inherit = (
            joiner in ("and", "or")
            or (adjacent and joiner == "to")
            or listed
            or earlier
            or phrase.bare
        )
        if previous is not None and inherit and not phrase.unit and not phrase.noun_phrase:
            prev_phrase = previous[0]
            if prev_phrase.unit:
                phrase.unit, phrase.noun_phrase = prev_phrase.unit, prev_phrase.noun_phrase
                comments.append("review: unit carried over from the figure before it")
        if not phrase.unit and not phrase.noun_phrase and index + 1 < len(mentions):
            # "three of the city's 34 libraries": the unit of the number that follows
            ahead = mentions[index + 1]
            gap = [t for t in toks if mention.end <= t.start < ahead.start]
            if gap and gap[0].low == "out":
                gap = gap[1:]  # "2.1 million out of its 4 million customers"
            if gap and gap[0].low == "of" and len(gap) <= 4:
                later = _phrase(toks, ahead, text)
                if later.unit and not later.distance:
                    phrase.unit, phrase.noun_phrase = later.unit, later.noun_phrase
                    comments.append("review: unit taken from the figure after it")
        label = _label(
            phrase,
            verb,
            mention,
            text[: mention.start],
            _context(toks, mention.before),
            text[phrase.end :],
        )
        if joiner == "or" and out and mention.before > 0 and toks[mention.before - 1].text == ",":
            label = out[-1][1].label  # "down 32 cents, or 1.1 per cent": the same quantity
        elif earlier and out and (phrase.unit == out[-1][1].unit or not phrase.unit):
            label = f"{out[-1][1].label} before"
        if label and len(label.split()) == 1 and not verb:
            tail = tail or _where(toks, _token_at(toks, phrase.end) + 1)
        same_unit = [f for _at, f in out if f.unit == phrase.unit and f.sentence == sentence.index]
        measure = phrase.unit in _MEASURE_WORDS
        if measure and phrase.unit and label.lower().startswith(phrase.unit) and same_unit:
            # "27cm of snow …, with 26cm at Loch Glascarnoch": the list's label, not "Cm at …"
            head = re.split(r"\s+(?:at|in|on|for|from|across)\s+", same_unit[-1].label)[0]
            label = f"{head} {label[len(phrase.unit) :].strip()}".strip()
        if label.lower() in _BARE_LABELS and not tail:
            context = _context(toks, mention.before)
            label = context[:1].upper() + context[1:] if context else label
        if tail:
            label = f"{label} {tail}"
        previous = (phrase, verb, _token_at(toks, phrase.end))
        if not label or not (
            phrase.unit or mention.unit_hint or verb or mention.fraction or mention.ordinal
        ):
            continue
        claimant, attribution = claimant_at(mention.start)
        start = mention.start
        if 0 <= mention.qualifier_start < len(toks):
            start = min(start, toks[mention.qualifier_start].start)
        quote = _quote(sentence, Span(start, max(phrase.end, mention.end)), attribution)
        if not all(has_number(quote, v) for v in mention.values):
            quote = tidy(text)[:2000]
            if not all(has_number(quote, v) for v in mention.values):
                continue
        qualifier = mention.qualifier
        note = None
        if mention.qualifier_words and lossy_qualifier(mention.qualifier_words):
            # "less than 48 hours" is not "up to 48 hours": schema 1 has no such qualifier,
            # so the figure carries none and says so in its note
            qualifier = None
            note = f"The article says \u201c{mention.qualifier_words}\u201d."
            comments.append(
                f"review: the article says \u201c{mention.qualifier_words}\u201d, which no "
                "schema qualifier says; none is set (see note)"
            )
        claimed = bool(_CLAIMED.search(text[max(0, mention.start - 80) : mention.start]))
        status = _status(claimant, quote, conflict, claimed)
        if status == "claim" and claimant.side:
            comments.append(
                f"claim: by {claimant.name}, on one side of the conflict ({claimant.side})"
            )
        elif status == "claim":
            comments.append(f"claim: {claimant.name} claims it; the article does not confirm it")
        unit = phrase.unit
        if mention.below_zero:
            unit = f"{unit or 'degrees'} below zero"
        if mention.scale:
            unit = f"{mention.scale} {unit}" if unit else mention.scale
        last_unit = unit or last_unit
        out.append(
            (
                mention.start,
                FigureDraft(
                    label=label[:200],
                    values=mention.values,
                    qualifier=qualifier,
                    note=note,
                    unit=unit[:100] if unit else None,
                    status=status,
                    source=claimant.key,
                    quote=quote,
                    comments=comments,
                    sentence=sentence.index,
                ),
            )
        )
    return [figure for _start, figure in sorted(out, key=lambda pair: pair[0])]


_EARLIER = frozenset((("up", "from"), ("down", "from"), ("compared", "with"), ("compared", "to")))
_REPORTED = frozenset(wordlist("reported confirmed feared believed presumed"))
_LIST_PREP = frozenset(wordlist("in at on for from across without"))
_PRONOUN_PARTS = frozenset(wordlist("them those these whom which"))
_DETERMINER_PARTS = frozenset(wordlist("the its their his her our these those"))
_COPULA = frozenset(wordlist("were are was is"))


def _number_ahead(toks: list[Token], mention: Mention) -> bool:
    """A number within four words after this one ("three of their last five games")."""
    return any(t.kind == "num" for t in toks[mention.after : mention.after + 5]) or any(
        t.low in UNITS or t.low in TENS for t in toks[mention.after + 2 : mention.after + 5]
    )


def _partitive(
    toks: list[Token], mention: Mention, last_unit: str | None
) -> tuple[str, str, int, str] | None:
    """ "Eight of them were children", "29 of them in Sindh", "11 of the dead", "3,000 of its
    members": (unit, what is counted, where the phrase ends, the rest of the label)."""
    j = mention.after
    if j + 1 >= len(toks) or toks[j].low != "of":
        return None
    det = toks[j + 1]
    k = j + 2
    if det.low in _PRONOUN_PARTS:
        if k + 1 < len(toks) and toks[k].low in _COPULA and _plain_plural(toks[k + 1].low):
            noun = toks[k + 1]
            return noun.low, noun.text, noun.end, ""
        if last_unit:
            return last_unit, last_unit, det.end, _where(toks, k)
        return None
    if det.low not in _DETERMINER_PARTS:
        return None
    np, after = _noun_phrase(toks, k, 3)
    if not np:
        return None
    group = " ".join(t.text for t in np)
    if after + 1 < len(toks) and toks[after].low in _COPULA and _plain_plural(toks[after + 1].low):
        noun = toks[after + 1]  # "11 of the dead were children"
        return noun.low, noun.text, noun.end, f"among {det.text} {group}"
    return np[-1].low, group, np[-1].end, _where(toks, after)


def _plain_plural(word: str) -> bool:
    return _plural(word) and word not in _PARTICIPLES and not word.endswith("ed")


def _where(toks: list[Token], k: int) -> str:
    """A short place phrase after a figure ("in Sindh province", "at the mine")."""
    if k >= len(toks) or toks[k].low not in _LIST_PREP:
        return ""
    words = [toks[k].text]
    for tok in toks[k + 1 : k + 5]:
        if tok.kind != "word" or tok.low in ("and", "or", "but", "while", "as"):
            break
        if tok.low in _VERBS_AFTER or tok.low in _COPULA:
            break
        words.append(tok.text)
    while len(words) > 1 and words[-1].lower() in _STOP:
        words.pop()  # "in the 53 weeks": no place phrase
    return " ".join(words) if len(words) > 1 else ""


def _token_at(toks: list[Token], end: int) -> int:
    for n, tok in enumerate(toks):
        if tok.end >= end:
            return n
    return len(toks) - 1


def _quote(sentence: Sentence, figure: Span, attribution: Span | None) -> str:
    """The words around a figure, with the claimant's words when they stand close by."""
    text = sentence.text
    span = window(sentence, figure.start, figure.end)
    if attribution is not None and attribution.start >= span.end:
        wider = Span(span.start, attribution.end)  # "…, Volodymyr Zelensky, …, said"
        if len(text[wider.start : wider.end].split()) <= 24:
            span = wider
    elif attribution is not None and attribution.start < span.start:
        wider = Span(attribution.start, span.end)  # "Russia's defence ministry said … 1,000"
        if len(text[wider.start : wider.end].split()) <= 14:
            span = wider
    return tidy(text[span.start : span.end])[:2000]


def find_figures(article: Article, claimants: Claimants) -> list[FigureDraft]:
    conflict = bool(claimants.belligerents) or claimants.dispute
    out: list[FigureDraft] = []
    seen: set[tuple[tuple[Number, ...], str | None, str, str]] = set()
    last_unit: str | None = None
    for sentence in article.sentences:

        def claimant_at(offset: int, sentence: Sentence = sentence) -> tuple[Claimant, Span | None]:
            attribution = claimants.at(sentence, offset)
            span = attribution.span
            if span is not None and span.start <= offset < span.end:
                # "Walmart, valued at more than $1.2tn, said": the paper describes the speaker
                return claimants.publisher, None
            return claimants.by_key[attribution.key], span

        found = sentence_figures(sentence, claimant_at, conflict, article.text, last_unit)
        for figure in found:
            key = (figure.values, figure.unit, figure.source, figure.label)
            if key in seen:
                continue
            seen.add(key)
            out.append(figure)
        units = [f.unit for f in found if f.unit and f.unit not in ("%", "minute", "category")]
        last_unit = units[-1] if units else last_unit
    _mark_contested(article, claimants, out)
    return out


_MEASURED_LABELS = frozenset(
    ("magnitude", "depth", "crowd", "turnout", "death toll", "attendance", "wind speed")
)
"""Quantities of which there is one true value: two sources giving two values contest it."""
_CONTESTED_CUES = re.compile(
    r"\b(but|while|whereas|however|closer to|the figure|the number|the toll|the total|put the"
    r"|rejected|disputed|denied|own count|own figures?|instead)\b",
    re.IGNORECASE,
)


def _mark_contested(article: Article, claimants: Claimants, figures: list[FigureDraft]) -> None:
    """Two claimants giving the same kind of number side by side ("one agency put the
    magnitude at 5.6 but a national centre measured it at 6.1"): both figures are claims, and
    the draft says so, so that neither reads as the publisher's fact."""
    publisher = claimants.publisher.key
    for later in figures:
        if later.source == publisher or later.unit is None:
            continue
        text = article.sentences[later.sentence].text
        for earlier in figures:
            same_label = (
                earlier.label.casefold() == later.label.casefold()
                and earlier.label.casefold() in _MEASURED_LABELS
            )
            side_by_side = 0 <= later.sentence - earlier.sentence <= 1 and bool(
                _CONTESTED_CUES.search(text)
            )
            if (
                earlier is later
                or earlier.source in (publisher, later.source)
                or earlier.unit != later.unit
                or earlier.values == later.values
                or (later.sentence == earlier.sentence and earlier.quote == later.quote)
                or not (side_by_side or (same_label and later.sentence > earlier.sentence))
            ):
                continue
            for figure, other in ((earlier, later), (later, earlier)):
                if figure.status != "claim":
                    figure.status = "claim"
                    name = claimants.by_key[other.source].name
                    figure.comments.append(
                        f"claim: {claimants.by_key[figure.source].name}'s number; "
                        f"{name} gives {other.value()} {other.unit or ''}".rstrip()
                    )
