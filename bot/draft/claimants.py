"""Who says what: the claimant of every sentence, and the digest's ``sources``.

Attribution comes from the sentence itself ("X said", "according to X", "X claimed that",
"…," X wrote", "…, X, Ukraine's president, said", "described by X as"), from an open quotation
(a quote's later sentences and paragraphs keep its speaker), or, failing those, is the publisher.
"the ministry", "its analysts", "they" and "Mr Zelensky" resolve to a claimant named before.

A claimant from a country that is a party to the article's conflict gets ``side``; its figures
are then claims.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.draft.geo import countries_in, short_country
from bot.draft.text import Article, Sentence, Span, wordlist

if TYPE_CHECKING:
    from bot.digest.model import SourceKind

VERBS = (
    r"said|says|say|claimed|claims|claim|wrote|writes|reported|reports|told|tells|added|adds"
    r"|warned|warns|stated|states|announced|announces|estimated|estimates|insisted|insists"
    r"|confirmed|confirms|alleged|alleges|argued|argues|noted|notes|explained|explains"
    r"|acknowledged|admitted|denied|predicted|revealed|suggested|confirmed|put|puts|measured"
    r"|recorded|counted|registered|heard|forecast|forecasts|calculated|tallied|indicated"
    r"|placed|pegged|puts|gave|gives|declared|declares"
)
_TIME = (
    r"(?:on|last|this|late|early|earlier|later)\s+(?:on\s+)?(?:monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday|week|month|year|night|morning|afternoon|evening)"
    r"|yesterday|today|tonight|overnight|on\s+\w+day"
)
_SUBJECT_TIME = re.compile(rf",?\s+(?:{_TIME})(?:\s+(?:morning|afternoon|evening|night))?,?$", re.I)
_LEADING = re.compile(
    r"^(?:(?:on|by|in|at|late|early|earlier|later|last|this|yesterday|today|tonight|overnight"
    r"|meanwhile|however|separately|elsewhere|still|now|but|and|also|then|since|after|before"
    r"|during|speaking|writing|asked|in a statement|in a post)\b[^,\u201c\u201d\"]{0,40},\s+)+",
    re.IGNORECASE,
)
_HEAD = re.compile(
    r"^(?P<subj>[^\u201c\u201d\"]{2,200}?)\s+(?:(?:has|have|had)\s+)?(?:also\s+|previously\s+|later\s+)?"
    rf"(?P<verb>{VERBS})\b",
    re.IGNORECASE,
)
_HEAD_AND = re.compile(
    r"^(?P<subj>(?:[Tt]he\s+)?(?:[A-Z][\w\u2019'.-]*\s+){0,4}[A-Z][\w\u2019'.-]*"
    r"(?:\s+(?:party|group|union|coalition|alliance|movement|council|commission|ministry"
    r"|agency|government|company|bloc|front|campaign))?"
    r"|the\s+[a-z]+)(?:,\s*(?:however|meanwhile|though|too),)?\s+"
    r"(?:[\w\u2019'-]+\s+){0,5}?[\w\u2019'-]+(?:\s+and\s+(?:also\s+)?|,\s*)"
    r"(?P<verb>said|says|told|claimed|warned|insisted|saying|claiming|adding|warning|insisting)\b"
)
"""'Mr Mondlane rejected the result and said …', 'The party, however, rejected the figures,
saying …': the subject of an earlier verb speaks."""
_RELAYS = re.compile(
    r"^(?:the\s+)?(?:afp|reuters|ap|the associated press|associated press|agence france-presse"
    r"|dpa|efe|ansa|anadolu|bloomberg|(?:a|the|state|local|official)\s+news agency|news agency"
    r"|(?:local|state)\s+media|local reports?)$",
    re.IGNORECASE,
)
"""Agencies that pass on what someone else said ('X declared …, AFP reported')."""
_NOUN_BEFORE = frozenset(
    wordlist("amid over despite after following about of with against from among denying")
)
_MID = re.compile(
    r",\s*(?P<subj>[^,\u201c\u201d\"]{2,80}?)\s+(?P<verb>said|says|added|reported|told\s+\w+(?:\s+\w+)?)"
    rf"(?:\s+(?:{_TIME}))?\s*,\s+\S",
    re.IGNORECASE,
)
"""'More than 300 houses were damaged, the agency said, and about 1,500 …'."""
_CONTRAST = re.compile(r"(?:,\s+|\s+)(?:while|but|whereas|and)\s+|;\s+", re.IGNORECASE)
_TAIL = re.compile(
    r"(?:,|[\u201d\"])\s*(?P<subj>[^,\u201c\u201d\"]{2,100}(?:,\s*[^,\u201c\u201d\"]{2,100})?),?\s+"
    rf"(?:(?:has|have)\s+)?(?P<verb>{VERBS})(?P<rest>(?:\s+[^\s,;:]+){{0,6}})$",
    re.IGNORECASE,
)
_INVERTED = re.compile(
    r"(?:,[\u201d\"]|[\u201d\"],?)\s*(?:said|added|wrote|says|adds)\s+"
    r"(?P<subj>[^,\u201c\u201d\"]{2,80}(?:,\s*[^,\u201c\u201d\"]{2,80})?)$",
    re.IGNORECASE,
)
_ACCORDING = re.compile(r"\baccording to (?P<subj>[^,.;:\u201c\u201d\"()]{2,100})", re.IGNORECASE)
_BY = re.compile(
    r"\b(?:described|reported|claimed|estimated|confirmed|announced)\s+by\s+"
    r"(?P<subj>[^,.;:\u201c\u201d\"()]{2,80}?)(?=\s+as\b|\s*[,.;:]|$)",
    re.IGNORECASE,
)
_ADVERBIAL_REST = re.compile(
    r"^\s*(?:on|in|at|of|to|about|after|before|during|from|via|yesterday|today|tonight|last"
    r"|this|earlier|later|late|previously|recently|overnight|afterwards|online|monday|tuesday"
    r"|wednesday|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)
_NOT_IN_SUBJECT = frozenset(
    wordlist(
        "what which that who whom whose when where if because was were is are been be being had "
        "have has could would should will can may might did do does not there it's as than"
    )
)
PRONOUNS = frozenset(wordlist("he she they it"))
_CLAIMANT_NOUNS = frozenset(
    wordlist(
        "official officials analyst analysts expert experts ministry police spokesman "
        "spokeswoman spokesperson council government authorities authority residents witnesses "
        "sources source blogger bloggers channel agency media army military staff service "
        "statement report researchers researcher economists economist company firm union "
        "committee office department commission board court judge minister president governor "
        "mayor chief head leader director manager chairman chair secretary coach captain "
        "forecasters forecaster meteorologists scientists scientist doctors doctor organisers "
        "organizers campaigners group institute think-tank observers monitors prosecutors "
        "prosecutor investigators lawyers lawyer watchdog regulator bank kremlin pentagon "
        "coastguard paramedics firefighters "
        "adviser advisers aide aides officer officers commander councillor councillors "
        "inspectors operator operators airline spokesmen charity utility survey centre center "
        "organisation organization monitor observatory estimate count tally figures data "
        "opposition party coalition alliance bureau network foundation retailer chain "
        "developer group union hospital rescuers medics force forces navy guard command "
        "administration survivors passengers witnesses villagers families relatives"
    )
)
_ACRONYM = re.compile(r"[A-Z][A-Z&]{1,7}")
_TITLES = ("mr ", "mrs ", "ms ", "dr ", "prof ", "professor ", "sir ", "dame ", "lord ")
_DETERMINERS = ("the ", "a ", "an ")

_KIND_WORDS: tuple[tuple[SourceKind, str], ...] = (
    ("think-tank", "think-tank|think tank|institute for|institute of"),
    ("agency", "news agency|wire service|agency"),
    ("social", "telegram|blogger|twitter|social media|facebook|tiktok|x account"),
    ("media", "state media|newspaper|broadcaster|television|tv|media|radio"),
    ("analyst", "analyst|expert|economist|researcher|professor|consultancy"),
    (
        "military",
        "general staff|army|armed forces|military|navy|air force|commander|"
        "security service|defence forces|defense forces|forces",
    ),
    (
        "government",
        "ministry|government|council|department|kremlin|pentagon|authorities|"
        "authority|white house|downing street|office|commission|police|"
        "regulator|administration",
    ),
    (
        "official",
        "president|minister|adviser|official|spokesman|spokeswoman|spokesperson|"
        "mayor|governor|councillor|chancellor|secretary|aide|leader|chief|"
        "prime minister",
    ),
)
_KINDS = tuple((kind, tuple(phrases.split("|"))) for kind, phrases in _KIND_WORDS)
_CONFLICT = re.compile(
    r"\b(war|troops|soldiers|attack|attacks|strike|strikes|missile|missiles|invasion|incursion"
    r"|offensive|shelling|drone|drones|battalion|brigades?|front lines?|ceasefire|airstrikes?"
    r"|militants?|hostages?|rockets?|fighting|fighters|paramilitary|militia|bombardment"
    r"|shelled|army bases?)\b",
    re.IGNORECASE,
)


@dataclass
class Claimant:
    key: str
    name: str
    kind: SourceKind
    side: str | None = None
    role: str | None = None
    sentences: list[int] = field(default_factory=list)
    aliases: set[str] = field(default_factory=set)
    """Other names it goes by in the article (an acronym: "NDMA", "BMKG"), folded."""
    generic: bool = False
    """Named only by a description ("a prominent rights group"): a name may come later."""

    def source(self) -> dict[str, str]:
        out = {"name": self.name, "kind": self.kind}
        if self.side:
            out["side"] = self.side
        if self.role:
            out["role"] = self.role
        return out


@dataclass(frozen=True)
class Attribution:
    key: str
    span: Span | None
    """The words naming the claimant in the sentence (kept in a figure's quote when near)."""
    explicit: bool


@dataclass
class Claimants:
    publisher: Claimant
    by_key: dict[str, Claimant]
    per_sentence: list[Attribution]
    belligerents: tuple[str, ...]
    clauses: dict[int, list[tuple[int, Attribution]]] = field(default_factory=dict)
    """Sentence index → (offset, attribution) of later clauses with a claimant of their own."""
    dispute: bool = False
    """The article is about a conflict or dispute (war, protest, strike, contested vote): a
    number from anyone but the publisher is then someone's word, never ``reported``."""

    def of(self, sentence: Sentence) -> Claimant:
        return self.by_key[self.per_sentence[sentence.index].key]

    def at(self, sentence: Sentence, offset: int) -> Attribution:
        """Who says the words at ``offset`` of ``sentence`` (its clause's claimant)."""
        current = self.per_sentence[sentence.index]
        for start, attribution in self.clauses.get(sentence.index, []):
            if offset >= start:
                current = attribution
        return current


def slug(text: str, limit: int = 40) -> str:
    base = re.sub(r"['\u2019]s\b", "", text.casefold())
    base = re.sub(r"[^a-z0-9]+", "-", base).strip("-")
    words = [w for w in base.split("-") if w not in ("the", "a", "an")]
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > limit:
            break
        out = f"{out}-{word}" if out else word
    return out


_ORG_WORDS = frozenset(
    wordlist(
        "agency authority bank board bureau centre center club commission committee company "
        "corporation council department fire forces foundation fund group health institute "
        "league media ministry motors news network observatory office organisation "
        "organization party police post press radio rescue service services survey times trust "
        "union united water power energy electric airlines airways group edison light "
        "association federation fc inc ltd plc corp army navy guard patrol"
    )
)


def _person(name: str) -> bool:
    words = name.split()
    return (
        2 <= len(words) <= 4
        and all(re.fullmatch(r"[A-Z][\w\u2019'.-]+", w) for w in words)
        and not any(w.casefold() in _ORG_WORDS for w in words)
    )


def _kind(phrase: str) -> SourceKind:
    low = f" {phrase.casefold()} "
    for kind, words in _KINDS:
        if any(re.search(rf"(?<![\w-]){re.escape(w)}s?(?![\w-])", low) for w in words):
            return kind
    return "other"


def _strip_determiner(text: str) -> str:
    low = text.casefold()
    for det in _DETERMINERS:
        if low.startswith(det):
            return text[len(det) :]
    return text


def plausible_subject(phrase: str) -> bool:
    """Could ``phrase`` name who says something (not "Another image showed what officials")?"""
    words = re.findall(r"[\w\u2019'&-]+", phrase)
    if not words or len(words) > 14:
        return False
    bare = words[1:] if words[0].casefold() in ("the", "a", "an") and len(words) > 1 else words
    if len(bare) == 1 and _ACRONYM.fullmatch(bare[0]):
        return True  # "WHO", "the NDMA"
    low = [re.sub(r"['\u2019]s?$", "", w.casefold()) for w in words]  # "firefighters' association"
    if any(w in _NOT_IN_SUBJECT for w in low):
        return False
    if low[0] in PRONOUNS and len(low) == 1:
        return True
    if low[0] in ("its", "their", "his", "her") and len(low) <= 3:
        return True
    if any(w.isdigit() for w in words):
        return False
    if any(w in _CLAIMANT_NOUNS or w.rstrip("s") in _CLAIMANT_NOUNS for w in low):
        return True
    if _title_before_name(phrase)[1] is not None:
        return True  # "Erie County executive Mark Poloncarz"
    # otherwise a proper name: every word capitalised but the small ones ("Unite", "Kathy Hochul")
    small = {"the", "a", "an", "of", "for", "and", "at", "de", "van", "von", "al", "&"}
    if words[0].casefold() in ("the", "a", "an") and len(words) > 1:
        words = words[1:]
    return all(w[:1].isupper() or w.casefold() in small for w in words) and words[0] not in small


_SPEECH = frozenset(
    wordlist("said says told tells reported reports announced warned claimed confirmed added")
)


def _description(phrase: str, verb: str) -> bool:
    """ "the carmaker said", "the city's power distributor said": a described speaker (a
    determiner or possessive, then a few lower-case words) with a verb of saying."""
    words = phrase.split()
    return (
        verb.casefold() in _SPEECH
        and 2 <= len(words) <= 6
        and words[0].casefold() in ("the", "its", "their", "a", "an")
        and all(w[:1].islower() for w in words[1:])
        and not any(w.casefold() in _NOT_IN_SUBJECT for w in words)
        and not any(ch.isdigit() for ch in phrase)
    )


_ROLE_NOUNS = frozenset(
    wordlist(
        "coach manager minister executive president secretary chief director spokesman "
        "spokeswoman spokesperson leader governor mayor analyst economist professor adviser "
        "commander chairman chairwoman chair captain officer councillor inspector ambassador "
        "senator official striker midfielder defender goalkeeper founder owner editor"
    )
)


def _title_before_name(phrase: str) -> tuple[str, str | None]:
    """ "Interior minister Ali Yerlikaya" → ("Ali Yerlikaya", "Interior minister");
    "the research firm Kantar" → ("Kantar", "research firm")."""
    words = phrase.split()
    cut = len(words)
    while cut > 0 and re.fullmatch(r"[A-Z][\w\u2019'.&-]*", words[cut - 1]):
        cut -= 1
    if 2 <= len(words) - cut <= 3 and cut > 0 and words[cut - 1].casefold() in _ROLE_NOUNS:
        return " ".join(words[cut:]), _strip_determiner(" ".join(words[:cut]))
    head = words[:cut]
    if head and head[0].casefold() in ("the", "a", "an"):
        head = head[1:]
    if (
        cut < len(words)
        and head
        and head[-1].casefold() not in ("of", "for", "in", "at", "to", "from", "and", "on")
        and all(w[:1].islower() or w.isupper() or w.endswith("-based") for w in head)
        and any(w[:1].islower() for w in head)
    ):
        return " ".join(words[cut:]), " ".join(head)  # "the charity Médecins Sans …"
    return phrase, None


def _split_role(phrase: str) -> tuple[str, str | None]:
    parts = [p.strip() for p in phrase.split(",") if p.strip()]
    if len(parts) == 2 and _person(parts[1]) and not _person(parts[0]):
        return parts[1], re.sub(r"^(?:its|their|his|her|the|a|an)\s+", "", parts[0], flags=re.I)
    if len(parts) >= 2:
        return parts[0], _strip_determiner(", ".join(parts[1:]))
    return phrase.strip(), None


def find_attribution(text: str) -> tuple[str, Span] | None:
    """The claimant phrase a sentence names and where it stands, if it names one."""
    body = text.rstrip()
    trimmed = body.rstrip('.!?\u201d"\u2019 ')
    for pattern in (_TAIL, _INVERTED):
        match = pattern.search(trimmed)
        if match is None:
            continue
        subj = re.sub(r"^(?:and|but|while|as|so|whereas)\s+", "", match.group("subj").strip())
        rest = match.groupdict().get("rest") or ""
        verb = (match.groupdict().get("verb") or "").casefold()
        if rest.strip() and verb != "told" and not _ADVERBIAL_REST.match(rest):
            continue
        parts = [p.strip() for p in subj.split(",")]
        if len(parts) == 2 and (
            not plausible_subject(parts[0])
            or not (
                (_person(parts[0]) and parts[1][:1].islower())
                or "\u2019s" in parts[1]
                or "'s" in parts[1]
            )
        ):
            subj = parts[1]
        name, _role = _split_role(subj)
        if plausible_subject(name) or _description(name, verb):
            start = match.start("subj") + match.group("subj").find(subj)
            if _RELAYS.match(name.strip()):
                inner = head_attribution(body)  # "X declared that …, AFP reported": X says it
                if inner is not None and inner[1].end <= start:
                    return inner
            return subj, Span(start, match.end())
    head = None if re.match(r"according to\b", body, re.I) else head_attribution(body)
    if head is not None:
        return head
    match = _MID.search(body)
    if match is not None:
        subj = match.group("subj").strip()
        if plausible_subject(_split_role(subj)[0]) and len(subj.split()) <= 8:
            return subj, Span(match.start("subj"), match.end("verb"))
    for pattern in (_ACCORDING, _BY):
        match = pattern.search(body)
        if match is not None:
            subj = re.split(r"\s+(?:on|in|at)\s+(?:a|an|the)\s", match.group("subj"))[0].strip()
            subj = _SUBJECT_TIME.sub("", subj)
            if plausible_subject(subj):
                return subj, Span(match.start(), match.start("subj") + len(subj))
    return None


_ADJECTIVES_IN_ED = frozenset(
    wordlist(
        "armed united combined retired unnamed detained elected appointed licensed registered "
        "concerned affected based dedicated organised organized unidentified"
    )
)


def _clause_like(name: str) -> bool:
    """A subject that holds a verb of its own is a clause, not who speaks."""
    verbs = [w for w in re.findall(r"(?<![\w-])[a-z]+ed\b", name) if w not in _ADJECTIVES_IN_ED]
    return bool(verbs) or bool(re.search(r"\b(?:used|fired|made|took|sent|gave)\b", name))


def head_attribution(body: str, limit: int = 16) -> tuple[str, Span] | None:
    """A claimant that opens the sentence: "The health agency on Monday confirmed …",
    "The survey put the magnitude at …", "Mr Mondlane rejected the result and said …"."""
    lead = _LEADING.match(body)
    offset = lead.end() if lead else 0
    for pattern in (_HEAD, _HEAD_AND):
        match = pattern.match(body[offset:])
        if match is None:
            continue
        subj = _SUBJECT_TIME.sub("", match.group("subj").strip().rstrip(","))
        name, _role = _split_role(subj)
        plausible = plausible_subject(name) or _description(name, match.group("verb"))
        before_verb = body[offset : offset + match.start("verb")].split()
        if before_verb and before_verb[-1].casefold() in _NOUN_BEFORE:
            continue  # "amid claims the vote …": a noun, not a verb of saying
        if _clause_like(name):
            continue  # "Police fired tear gas, while …", "The majority … refused to …"
        if plausible and len(subj.split()) <= limit:
            return subj, Span(offset + match.start("subj"), offset + match.end("verb"))
    return None


def clause_attributions(text: str) -> list[tuple[int, str, Span]]:
    """Later clauses with a claimant of their own: "X put it at 6.1, but Y measured 5.6" →
    [(where the clause "Y measured 5.6" starts, "Y", its span)]."""
    out: list[tuple[int, str, Span]] = []
    for match in _CONTRAST.finditer(text):
        clause = text[match.end() :]
        head = head_attribution(clause, limit=8)
        if head is None or head[1].start != 0:
            continue
        subj, span = head
        out.append((match.end(), subj, Span(match.end() + span.start, match.end() + span.end)))
    return out


_DISPUTE = re.compile(
    r"\b(protests?|protesters|demonstrators|march(?:ed|es)?|rally|rallies|strikes?|walk-?out"
    r"|walked out|dispute|election|vote|ballots?|fraud|opposition|union|rebels?|clashes"
    r"|riot police|tear gas|crackdown)\b",
    re.IGNORECASE,
)
_PARTY = re.compile(
    r"\b(army|military|armed forces|forces|troops|rebels?|militants?|militia|paramilitary"
    r"|state media|state news agency|state television|government|ministry|police|opposition"
    r"|organisers"
    r"|organizers|protesters|campaigners|union|junta|regime)\b",
    re.IGNORECASE,
)


def is_dispute(article: Article) -> bool:
    return len(_CONFLICT.findall(article.text)) + len(_DISPUTE.findall(article.text)) >= 3


def belligerents(article: Article) -> tuple[str, ...]:
    """The two countries most named in an article about armed conflict (else none)."""
    if len(_CONFLICT.findall(article.text)) < 3:
        return ()
    counts = Counter(countries_in(article.text))
    top = [code for code, n in counts.most_common(2) if n >= 3]
    return tuple(top) if len(top) == 2 else ()


_GENERIC_ORGS = frozenset(
    wordlist(
        "company firm agency group organisation organization utility chain retailer body "
        "operator charity monitor observatory centre center bureau authority service carrier "
        "airline developer insurer lender bank broadcaster"
    )
)
"""'the company said': the organisation named last, whatever its name."""
_SPELLINGS = {
    "centre": ("center",),
    "center": ("centre",),
    "organisation": ("organization",),
    "organization": ("organisation",),
    "defence": ("defense",),
    "defense": ("defence",),
}


def initials(name: str) -> str:
    """ "Rapid Support Forces" → "RSF"; "the World Health Organization" → "WHO"."""
    words = [w for w in re.findall(r"[\w\u2019'-]+", name) if w[:1].isupper()]
    return "".join(w[0] for w in words).upper()


def _named(name: str) -> bool:
    """A proper name, not a description: two capitalised words, or an acronym."""
    words = name.split()
    capitals = [w for w in words if w[:1].isupper()]
    return len(capitals) >= 2 or any(_ACRONYM.fullmatch(w) for w in words)


class _Registry:
    def __init__(self, publisher: Claimant, sides: tuple[str, ...], text: str) -> None:
        self.publisher = publisher
        self.by_key: dict[str, Claimant] = {publisher.key: publisher}
        self.recent: list[str] = []
        self.sides = sides
        self.text = text
        self.text_of_sentence = ""
        """The sentence being attributed (for "its governor": the place it names)."""
        self.pending: tuple[str, int] | None = None
        """A claimant named only by description, and the sentence where it was: the named
        claimant introduced just after it is the same one ("a rights group said …" then "The
        Syrian Observatory, a monitor, said …")."""
        self.sentence = 0

    def resolve(self, phrase: str) -> Claimant | None:
        parts = [p.strip() for p in phrase.split(",") if p.strip()]
        if len(parts) == 2 and re.fullmatch(r"(?i:the)\s+[a-z-]+", parts[0]) and _named(parts[1]):
            described = self._described(parts[0].casefold().split()[-1])
            if described is not None and described.generic:  # "The group, Human Rights Watch"
                return self._rename(described, parts[1], None)
        name, role = _split_role(phrase)
        low = name.casefold().strip()
        words = low.split()
        if (
            words
            and words[0] in ("its", "their")
            and words[-1] in ("governor", "governors", "mayor")
        ):
            # "…over the region of Mykolaiv, its governor said": the place's official, a new one
            place = re.findall(r"\b[A-Z][\w\u2019'-]+", self.text_of_sentence)
            where = f" of {place[-1]}" if place else ""
            return self._new(f"{' '.join(name.split()[1:])}{where}", role)
        if low in PRONOUNS or (words and words[0] in ("its", "their", "his", "her")):
            return self.by_key[self.recent[-1]] if self.recent else None
        bare = _strip_determiner(name).strip()
        if _ACRONYM.fullmatch(bare):
            for claimant in self.by_key.values():
                if bare.casefold() in claimant.aliases or initials(claimant.name) == bare:
                    return claimant
        if low.startswith(_TITLES) or (len(words) == 1 and name[:1].isupper()):
            surname = bare.split()[-1].casefold() if bare.split() else ""
            for key in reversed(self.recent):
                if self.by_key[key].name.casefold().split()[-1:] == [surname]:
                    return self.by_key[key]
        if low.startswith("the ") and len(words) <= 3 and not _named(name):
            described = self._described(words[-1], words[1:-1])
            if described is not None:
                return described
        if bare.casefold() == self.publisher.name.casefold() or phrase.casefold() == (
            self.publisher.name.casefold()
        ):
            return self.publisher
        for claimant in self.by_key.values():
            if claimant.name.casefold() == bare.casefold() or bare.casefold() in claimant.aliases:
                return claimant
        if _named(bare) or (len(words) == 1 and name[:1].isupper()):
            for key in reversed(self.recent):  # "Xinhua" after "the Xinhua News Agency"
                other = self.by_key[key].name.split()
                if (
                    not _person(self.by_key[key].name)
                    and other[: len(bare.split())] == (bare.split())
                    and len(other) > len(bare.split())
                ):
                    return self.by_key[key]
        if self.pending is not None and _named(bare) and self.sentence - self.pending[1] <= 2:
            pending = self.by_key[self.pending[0]]
            if pending.generic and not _person(bare):
                return self._rename(pending, bare, role)
        claimant = self._new(bare, role)
        if claimant.generic and low.startswith(("a ", "an ")):
            self.pending = (claimant.key, self.sentence)
        return claimant

    def _described(self, head: str, modifiers: Sequence[str] = ()) -> Claimant | None:
        """The claimant "the <modifiers> <head>" refers back to: the latest whose name or role
        has the word (and the modifiers: "the regional governor" is not "the governor of
        Mykolaiv"), or for a generic word ("the company") the latest organisation."""
        spellings = {head, *_SPELLINGS.get(head, ())}
        for key in reversed(self.recent):
            claimant = self.by_key[key]
            described = f"{claimant.name} {claimant.role or ''}".casefold()
            if any(word in described for word in spellings) and all(
                m in described for m in modifiers
            ):
                return claimant
        if head in _GENERIC_ORGS:
            for key in reversed(self.recent):
                claimant = self.by_key[key]
                if not _person(claimant.name) and claimant.kind not in ("official",):
                    return claimant
        return None

    def _rename(self, claimant: Claimant, name: str, role: str | None) -> Claimant:
        """A described claimant gets its name; the description becomes its role."""
        description = claimant.name
        claimant.name = name[:200]
        claimant.role = ", ".join(r for r in (description, role) if r)[:200]
        claimant.generic = False
        claimant.aliases.add(description.casefold())
        self.pending = None
        if claimant.kind == "other":
            claimant.kind = _kind(f"{name} {claimant.role}")
        return claimant

    def _new(self, name: str, role: str | None) -> Claimant:
        aliases: set[str] = set()
        bracket = re.search(r"\s*\(([A-Z][A-Z&]{1,7})\)\s*$", name)
        if bracket is not None:  # "the European Mediterranean Seismological Centre (EMSC)"
            aliases.add(bracket.group(1).casefold())
            name = name[: bracket.start()]
        name, title = _title_before_name(name[:200])
        role = ", ".join(r for r in (title, role) if r) or None
        if role and _ACRONYM.fullmatch(role):
            aliases.add(role.casefold())  # "Indonesia's meteorology agency, BMKG"
        if _ACRONYM.fullmatch(name):
            expansion = self._expansion(name)
            if expansion:
                aliases.add(name.casefold())
                name = expansion
        key = slug(name.split()[-1]) if _person(name) else slug(name)
        if not key or not re.match(r"[a-z0-9]", key):
            key = "source"
        base, number = key, 2
        while key in self.by_key:
            key = f"{base}-{number}"
            number += 1
        phrase = f"{name} {role or ''}"
        side = None
        for code in countries_in(phrase):
            if code in self.sides:
                side = short_country(code)
                break
        claimant = Claimant(
            key,
            name,
            _kind(phrase),
            side,
            role[:200] if role else None,
            aliases=aliases,
            generic=not _named(name) and not _person(name),
        )
        self.by_key[key] = claimant
        return claimant

    def _expansion(self, acronym: str) -> str | None:
        """The article's spelled-out name of an acronym ("Rapid Support Forces" for RSF)."""
        for match in re.finditer(
            r"(?:[A-Z][\w\u2019'-]*\s+(?:(?:of|for|and|the|de)\s+)*){1,7}[A-Z][\w\u2019'-]*",
            self.text,
        ):
            words = match.group().split()
            for start in range(len(words)):
                candidate = " ".join(words[start:])
                if candidate[:1].isupper() and initials(candidate) == acronym:
                    return candidate
        return None

    def use(self, claimant: Claimant) -> None:
        if claimant is not self.publisher:
            if claimant.key in self.recent:
                self.recent.remove(claimant.key)
            self.recent.append(claimant.key)


def attribute(article: Article, publisher: str) -> Claimants:
    """The claimant of every sentence of ``article``."""
    sides = belligerents(article)
    owner = Claimant(slug(publisher) or "publisher", publisher, "publisher")
    registry = _Registry(owner, sides, article.text)
    found: list[Attribution | None] = []
    clauses: dict[int, list[tuple[int, Attribution]]] = {}
    for sentence in article.sentences:
        registry.sentence = sentence.index
        hit = find_attribution(sentence.text)
        registry.text_of_sentence = sentence.text[: hit[1].start] if hit else sentence.text
        claimant = registry.resolve(hit[0]) if hit else None
        if claimant is None:
            found.append(None)
        else:
            registry.use(claimant)
            found.append(Attribution(claimant.key, hit[1] if hit else None, True))
        for offset, phrase, span in clause_attributions(sentence.text):
            if hit is not None and span.start <= hit[1].start:
                continue  # the sentence's own claimant
            other = registry.resolve(phrase)
            if other is not None:
                registry.use(other)
                clauses.setdefault(sentence.index, []).append(
                    (offset, Attribution(other.key, span, True))
                )
    # a quote's opening sentences take the speaker named at its end (""…. …," X wrote")
    for sentence in reversed(article.sentences):
        after = sentence.index + 1
        if (
            found[sentence.index] is None
            and after < len(found)
            and article.sentences[after].inside_quote
            and article.sentences[after].paragraph == sentence.paragraph
            and found[after] is not None
        ):
            speaker = found[after]
            assert speaker is not None
            found[sentence.index] = Attribution(speaker.key, None, False)
    out: list[Attribution] = []
    for sentence in article.sentences:
        current = found[sentence.index]
        if current is None and out:
            previous = out[-1]
            opens_quote = sentence.first_in_paragraph and sentence.text[:1] in '\u201c"'
            if (sentence.inside_quote or opens_quote) and previous.key != owner.key:
                before = article.paragraphs[article.sentences[sentence.index - 1].paragraph]
                if sentence.inside_quote or any(q in before.text for q in '\u201c\u201d"'):
                    current = Attribution(previous.key, None, False)
        current = current or Attribution(owner.key, None, False)
        registry.by_key[current.key].sentences.append(sentence.index)
        out.append(current)
    dispute = is_dispute(article)
    if dispute:
        for claimant in registry.by_key.values():
            phrase = f"{claimant.name} {claimant.role or ''}"
            if claimant.side is None and claimant is not owner and not countries_in(phrase):
                party = _PARTY.search(phrase)
                if party is not None:
                    claimant.side = _strip_determiner(claimant.name)[:200]
    return Claimants(owner, registry.by_key, out, sides, clauses, dispute)
