"""An article as the drafter sees it: headline, body paragraphs, sentences and clauses.

Every piece is a span of the original text, so anything quoted from it is verbatim by
construction. Scraping leftovers (the loader's ``is_debris`` lines, share and "read more" links,
blocks of unrelated headlines) are set aside here and never reach the extractors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.digest.text import is_debris


def wordlist(text: str) -> list[str]:
    """The words of a space-separated word list (keeps long vocabularies readable)."""
    return text.split()


OPEN_QUOTES = "\u201c\u2018\u00ab"
CLOSE_QUOTES = "\u201d\u2019\u00bb"
QUOTE_CHARS = OPEN_QUOTES + CLOSE_QUOTES + "\"'"

_LINK_LINE = re.compile(
    r"^\W*(read more|related|see also|more on this( story)?|also read|watch|listen|recommended"
    r"|most read|more stories|more from [\w .'-]+|you may also like|trending|latest news"
    r"|top stories|explore more|in pictures)\b\s*[:|>\u00bb-]?",
    re.IGNORECASE,
)
_BLOCK_START = re.compile(
    r"^\W*(related( articles| stories| content| links)?|read more|more on this( story)?"
    r"|most read|more stories|more from [\w .'-]+|you may also like|recommended( for you)?"
    r"|trending( now)?|latest news|top stories|explore more|see also)\W*$",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"^\W*(share (this|on|via)\b|tweet\b|email\b.*\blink|copy link|copyright\b|©"
    r"|all rights reserved"
    r"|image (source|caption)|photo(graph)?:|picture:|credit:|getty images|listen to this article"
    r"|skip (advert|ad)|sign up\b|subscribe\b|follow (us|@)|updated:? \d|published:? \d"
    r"|view comments|comments?\s*\(\d+\)|advertisement|this article is more than"
    r"|categor(y|ies)\s*:|tags?\s*:|filed under\b|topics?\s*:|last updated\b"
    r"|(updated|published)\s*:|\W*\d+\s*min(ute)?s?\s+read\b|(additional )?reporting by\b"
    r"|editing by\b|writing by\b|our standards\b|file photo\b|more to come\W*$"
    r"|some information for this (story|report)|contributed to this (story|report)"
    r"|published \d+ (hours?|minutes?|days?) ago|\d+ (hours?|minutes?|days?) ago\W*$"
    r"|(ap|afp|reuters|dpa)(\s*[,/&]\s*(ap|afp|reuters|dpa))*\W*$)",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^\W*(?i:by|words(?: and pictures)? by|reporting by|written by)\s+"
    r"[A-Z][\w.'\u2019-]*(?:(?:\s+|\s*,\s*|\s+and\s+|\s*&\s*)[A-Z][\w.'\u2019-]*){0,6}\W*$"
)
DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'\u2019-]+(?:[ -][A-Z][A-Z.'\u2019-]+){0,3})"
    r"(?:,\s*[A-Z][\w.'\u2019-]*(?:\s+(?:of\s+)?[A-Z][\w.'\u2019-]*){0,4})?"
    r"(?:\s*\([^()]{1,40}\))?\s*(?::|\s[\u2014\u2013-]{1,2}|\u2014|\u2013)\s*"
)
"""A dateline ("BEIRUT:", "LONDON —", "GOMA, Democratic Republic of Congo (AP) —"): where the
story was filed, not a place of the story."""
_TERMINAL = '.!?\u2026"\u201d\u2019)'
_CARRY_WORDS = frozenset(
    wordlist(
        "a an the of in on at to for from by with and or but as that when which who whose "
        "into onto than its their his her our this these those was were is are be been had "
        "has have said told about after before over under near"
    )
)
_SENTENCE_END = re.compile(r"[.!?][\u201d\"\u2019)\]]*\s+")
_ABBREVIATIONS = frozenset(
    wordlist(
        "mr mrs ms dr st gen lt col capt sgt prof rev jr sr no vs etc eg ie co inc ltd corp "
        "dept est approx fig jan feb mar apr jun jul aug sep sept oct nov dec mt ft"
    )
)
_CLAUSE_BREAK = re.compile(r"[,;:][\u201d\"\u2019]?\s+|\s+[\u2013\u2014-]{1,2}\s+|\s*[()]\s*")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    index: int
    paragraph: int
    start: int
    end: int
    text: str
    inside_quote: bool
    """The sentence starts inside quotation marks opened earlier (a continuing quote)."""
    first_in_paragraph: bool
    clauses: tuple[Span, ...] = field(default=())
    """Clause spans relative to ``text``."""

    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Paragraph:
    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Article:
    text: str
    headline: str
    paragraphs: tuple[Paragraph, ...]
    sentences: tuple[Sentence, ...]
    debris: tuple[str, ...]
    """Lines set aside as scraping leftovers (for the draft's review comment)."""


def tidy(fragment: str) -> str:
    """Trim a verbatim fragment: outer space, trailing clause punctuation, unbalanced quotes
    (runs of spaces, left where line breaks were joined, become one: the loader folds them)."""
    out = " ".join(fragment.split())
    for _ in range(4):
        before = out
        out = out.strip().rstrip(",;:\u2013\u2014-").strip()
        if out.endswith(".") and not re.search(r"\b\w\.\w\.$|\b(?:Mr|Dr|St|etc)\.$", out):
            out = out[:-1]
        if out and out[0] in QUOTE_CHARS and not _closes(out, 0):
            out = out[1:]
        if out and out[-1] in QUOTE_CHARS and not _opened(out, len(out) - 1):
            out = out[:-1]
        if out == before:
            break
    return out


def _closes(text: str, at: int) -> bool:
    opener = text[at]
    closer = {"\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb", '"': '"', "'": "'"}.get(
        opener
    )
    return closer is not None and closer in text[at + 1 :]


def _opened(text: str, at: int) -> bool:
    closer = text[at]
    if closer in "\u2019'" and at > 0 and text[at - 1].isalpha():
        return True  # an apostrophe (Oktyabr' or soldiers'), not a quotation mark
    opener = {"\u201d": "\u201c", "\u2019": "\u2018", "\u00bb": "\u00ab", '"': '"', "'": "'"}.get(
        closer
    )
    return opener is not None and opener in text[:at]


def _headline_like(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 16 and line.rstrip()[-1:] not in '.!?\u201d"\u2019:'


def _body_like(line: str) -> bool:
    return len(line.split()) >= 8 and line.rstrip()[-1:] in '.!?\u201d"\u2019'


def is_scrap(line: str) -> bool:
    """One line of scraping leftovers or page furniture: the loader's debris, share/credit
    lines, link lines, bylines ("By AFP"), "Categories: …", "Updated: …", a lone dateline."""
    if is_debris(line) or _BOILERPLATE.search(line) or _LINK_LINE.search(line):
        return True
    if _BYLINE.match(line) and len(line.split()) <= 8:
        return True
    if re.fullmatch(r"[A-Z][A-Z.'\u2019-]+(?:\s+[A-Z][A-Z.'\u2019-]+){1,3}", line.strip()):
        return True  # "FRANK JORDANS": a byline in capitals, alone on its line
    dateline = DATELINE.match(line)
    return dateline is not None and not line[dateline.end() :].strip()


def _continues(line: str, following: str) -> bool:
    """Whether ``following`` carries on the sentence that ``line`` breaks off (hard-wrapped
    text): the line ends without a full stop and the next starts in lower case or with a digit,
    or the line ends on a comma or on a word that cannot end a sentence ("when a")."""
    end = line.rstrip()
    if not end or not following or end[-1] in _TERMINAL or end[-1] == ":":
        return False
    if following[0].islower() or following[0].isdigit():
        return True
    last = re.findall(r"[\w']+$", end)
    return end[-1] in ",;" or (bool(last) and last[0].lower() in _CARRY_WORDS)


def dateline_end(paragraph: str) -> int:
    """Where the story starts after a dateline at the head of a paragraph (0: none)."""
    match = DATELINE.match(paragraph)
    if match is None or len(match.group("place").replace(".", "")) < 3:
        return 0
    rest = paragraph[match.end() :]
    return match.end() if rest[:1].isupper() or rest[:1] in QUOTE_CHARS else 0


def _lines(text: str) -> list[Span]:
    out: list[Span] = []
    position = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            out.append(Span(position + lead, position + lead + len(stripped)))
        position += len(raw)
    return out


def _split_sentences(paragraph: str) -> list[Span]:
    spans: list[Span] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[start : match.start()]
        last = re.findall(r"[\w.]+$", before)
        word = last[0].lower().rstrip(".") if last else ""
        if word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word) or "." in word:
            continue
        rest = paragraph[match.end() :]
        if not rest or not (rest[0].isupper() or rest[0].isdigit() or rest[0] in QUOTE_CHARS):
            continue
        end = match.end()
        spans.append(Span(start, len(paragraph[:end].rstrip())))
        start = end
    if paragraph[start:].strip():
        spans.append(Span(start, len(paragraph.rstrip())))
    return spans


def _clauses(sentence: str) -> tuple[Span, ...]:
    spans: list[Span] = []
    start = 0
    for match in _CLAUSE_BREAK.finditer(sentence):
        if match.start() > start:
            spans.append(Span(start, match.start()))
        start = match.end()
    if start < len(sentence):
        spans.append(Span(start, len(sentence)))
    return tuple(s for s in spans if sentence[s.start : s.end].strip()) or (Span(0, len(sentence)),)


def _quote_depth(text: str, depth: int) -> int:
    for char in text:
        if char in "\u201c\u00ab":
            depth += 1
        elif char in "\u201d\u00bb":
            depth = max(0, depth - 1)
        elif char == '"':
            depth = 0 if depth else 1
    return depth


def read_article(text: str, headline: str | None = None) -> Article:
    """Split ``text`` into headline, body paragraphs and sentences; set scraping debris aside.

    The headline is the first non-empty line unless ``headline`` is given; a given headline that
    equals the first line still removes that line from the body.
    """
    lines = _lines(text)
    first = text[lines[0].start : lines[0].end] if lines else ""
    if headline is None:
        headline = first
        lines = lines[1:]
    elif lines and " ".join(first.split()) == " ".join(headline.split()):
        lines = lines[1:]
    debris: list[str] = []
    body: list[Span] = []
    in_block = False
    for number, span in enumerate(lines):
        line = text[span.start : span.end]
        if _BLOCK_START.search(line):
            in_block = True
            debris.append(line)
            continue
        if in_block and not _body_like(line):
            debris.append(line)
            continue
        in_block = False
        if is_scrap(line):
            debris.append(line)
            continue
        rest = [text[s.start : s.end] for s in lines[number:]]
        if len(rest) >= 2 and all(_headline_like(r) for r in rest):
            debris.extend(rest)  # a trailing list of headlines
            break
        body.append(span)
    joined: list[Span] = []
    for span in body:
        if joined and _continues(
            text[joined[-1].start : joined[-1].end], text[span.start : span.end]
        ):
            joined[-1] = Span(joined[-1].start, span.end)
        else:
            joined.append(span)
    paragraphs: list[Paragraph] = []
    sentences: list[Sentence] = []
    depth = 0
    for span in joined:
        start = span.start + (dateline_end(text[span.start : span.end]) if not paragraphs else 0)
        flat = re.sub(r"[\r\n]", " ", text[start : span.end])  # same length: offsets hold
        paragraph = Paragraph(len(paragraphs), start, span.end, flat)
        paragraphs.append(paragraph)
        depth = 0  # a quote that runs on reopens the next paragraph with its own mark
        for number, part in enumerate(_split_sentences(paragraph.text)):
            raw = paragraph.text[part.start : part.end]
            lead = len(raw) - len(raw.lstrip())
            body_text = raw.strip()
            if not tidy(body_text) or is_scrap(body_text):
                continue
            sentences.append(
                Sentence(
                    index=len(sentences),
                    paragraph=paragraph.index,
                    start=paragraph.start + part.start + lead,
                    end=paragraph.start + part.start + lead + len(body_text),
                    text=body_text,
                    inside_quote=depth > 0,
                    first_in_paragraph=number == 0,
                    clauses=_clauses(body_text),
                )
            )
            depth = _quote_depth(body_text, depth)
    return Article(
        text=text,
        headline=headline.strip(),
        paragraphs=tuple(paragraphs),
        sentences=tuple(sentences),
        debris=tuple(debris),
    )


def headline_sentence(article: Article) -> Sentence | None:
    """The headline as a sentence (index -1), when it stands verbatim in the text."""
    at = article.text.find(article.headline) if article.headline else -1
    if at < 0:
        return None
    end = at + len(article.headline)
    return Sentence(-1, -1, at, end, article.headline, False, True, _clauses(article.headline))


def window(
    sentence: Sentence,
    start: int,
    end: int,
    min_words: int = 6,
    max_words: int = 16,
    lead: int = 5,
) -> Span:
    """A short verbatim span around ``text[start:end]``: its clause, widened to ``min_words``
    (rightwards first), or, when the clause is long, ``lead`` words before it and the words of it.
    """
    text = sentence.text
    words = [Span(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if not words:
        return Span(0, len(text))
    start = max(0, min(start, len(text) - 1))
    end = max(start + 1, min(end, len(text)))
    first_word = next((n for n, w in enumerate(words) if w.end > start), len(words) - 1)
    last_word = next((n for n, w in enumerate(words) if w.end >= end), len(words) - 1)
    clauses = sentence.clauses
    first = next((n for n, c in enumerate(clauses) if c.end > start), len(clauses) - 1)
    last = next((n for n, c in enumerate(clauses) if c.end >= end), len(clauses) - 1)
    last = max(first, last)

    def count(a: int, b: int) -> int:
        return len(text[clauses[a].start : clauses[b].end].split())

    while count(first, last) < min_words and (first > 0 or last + 1 < len(clauses)):
        if last + 1 < len(clauses):
            last += 1
        else:
            first -= 1
    lo = next(n for n, w in enumerate(words) if w.end > clauses[first].start)
    hi = next((n for n, w in enumerate(words) if w.end >= clauses[last].end), len(words) - 1)
    if hi - lo + 1 > max_words:
        lo = max(lo, first_word - lead)
        hi = max(last_word, min(hi, lo + min_words - 1))
    for _ in range(4):  # never stop on "a", "the", "by" or inside a name ("Erling | Haaland")
        word = re.sub(r"\W+$", "", text[words[hi].start : words[hi].end])
        if hi + 1 >= len(words) or text[words[hi].end - 1] in ",;:.":
            break
        following = text[words[hi + 1].start : words[hi + 1].end]
        in_name = word[:1].isupper() and following[:1].isupper() and hi > lo
        if word.lower() not in _CARRY_WORDS and not in_name:
            break
        hi += 1
    return Span(max(words[lo].start, 0), words[hi].end)
