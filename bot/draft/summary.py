"""Summary candidates: one sentence per thread of the article, verbatim, with its claimant.

A thread is a run of paragraphs about one thing. A paragraph joins the thread before it when
the same claimant is still speaking (a quotation running on), when it opens with a reference
back ("However, they", "The ministry") or when it shares many names and content words with the
paragraph before; a transition ("Meanwhile,", "Elsewhere,") always starts a new one. From each
thread the drafter proposes the sentence that best stands for it (carrying figures or places,
the lead, not a quotation), and keeps the strongest threads, about one per two paragraphs.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from bot.draft.claimants import Claimants
from bot.draft.text import Article, Sentence, tidy, wordlist

_STOPWORDS = frozenset(
    wordlist(
        "about above after again against all also although among another any are around aside "
        "away back been before being below between both but came can cannot could does doing "
        "done down during each either even ever every from further had has have having here "
        "hers herself himself however into itself just like made make many meanwhile more most "
        "much must near never next none not now only other others over said says same several "
        "should since some still such than that their theirs them themselves then there these "
        "they this those though through thus under until upon very want were what when where "
        "whether which while whom whose will with within without would your yours also told "
        "added according friday monday tuesday wednesday thursday saturday sunday yesterday "
        "today week month year years"
    )
)
_TRANSITION = re.compile(
    r"^[\u201c\"]?(meanwhile|elsewhere|separately|in other news|in a separate|on another front"
    r"|away from|at the same time)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][\w\u2019'-]+")


@dataclass
class SummaryDraft:
    text: str
    source: str
    quote: str
    sentence: int
    comments: list[str] = field(default_factory=list)

    @property
    def words(self) -> str:
        return self.text

    @property
    def numbers(self) -> tuple[float, ...]:
        return ()


def _terms(text: str) -> Counter[str]:
    out: Counter[str] = Counter()
    for word in _WORD.findall(text):
        low = re.sub(r"['\u2019]s$", "", word.lower())
        if len(low) < 4 or low in _STOPWORDS:
            continue
        stem = low[:-1] if low.endswith("s") and not low.endswith("ss") else low
        out[stem] += 2 if word[:1].isupper() else 1
    return out


def _similarity(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    shared = sum(min(a[k], b[k]) for k in a.keys() & b.keys())
    return shared / min(sum(a.values()), sum(b.values()))


_BACK_REFERENCE = re.compile(
    r"^(?:however,\s+|but\s+|and\s+)?(?:he|she|they|it|this|that|these|those|the ministry"
    r"|the council|the company|the agency|the report)\b",
    re.IGNORECASE,
)


def threads(article: Article, claimants: Claimants, threshold: float = 0.2) -> list[list[int]]:
    """Paragraph indices grouped into threads, in reading order.

    A paragraph joins the thread before it when it continues a quotation, has the same claimant
    speaking, opens with a back-reference ("However, they …", "The ministry …") or shares many
    names and content words with the paragraph before; anything else starts a thread.
    """
    by_paragraph: dict[int, list[Sentence]] = {}
    for sentence in article.sentences:
        by_paragraph.setdefault(sentence.paragraph, []).append(sentence)
    order = sorted(by_paragraph)
    terms = {p: _terms(" ".join(s.text for s in by_paragraph[p])) for p in order}
    groups: list[list[int]] = []
    for position, p in enumerate(order):
        if not groups:
            groups.append([p])
            continue
        first = by_paragraph[p][0]
        last = order[position - 1]
        speaker = claimants.per_sentence[first.index]
        before = claimants.per_sentence[by_paragraph[last][-1].index]
        same = speaker.key == before.key != claimants.publisher.key
        joins = (
            same
            or _BACK_REFERENCE.search(first.text) is not None
            or _similarity(terms[p], terms[last]) >= threshold
        )
        if joins and not _TRANSITION.search(first.text):
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def _score(sentence: Sentence, items: int) -> float:
    words = sentence.words()
    score = min(items, 3) * 1.0
    if sentence.index == 0:
        score += 3.0
    if sentence.inside_quote or sentence.text[:1] in '\u201c"\u2018':
        score -= 2.0
    if _TRANSITION.search(sentence.text) and items == 0:
        score -= 1.0
    if words > 45:
        score -= 1.0
    if words < 8:
        score -= 2.0
    return score - 0.01 * sentence.index


def find_summary(article: Article, claimants: Claimants, items: Counter[int]) -> list[SummaryDraft]:
    """One candidate point per thread, the strongest threads first kept, in reading order;
    each third of the article gives at least one when it has a thread of its own."""
    groups = threads(article, claimants)
    limit = min(15, max(3, round(len(article.paragraphs) / 2)))
    picks: list[tuple[float, Sentence]] = []
    for group in groups:
        sentences = [s for s in article.sentences if s.paragraph in group]
        best = max(sentences, key=lambda s: _score(s, items[s.index]))
        picks.append((_score(best, items[best.index]), best))
    kept = sorted(picks, key=lambda p: -p[0])[:limit]
    total = len(article.sentences)
    for third in range(3):  # candidates from the whole article, not only its first part
        low, high = third * total / 3, (third + 1) * total / 3
        if not any(low <= s.index < high for _score, s in kept):
            here = [s for s in article.sentences if low <= s.index < high and s.words() >= 8]
            if here:  # the best sentence of that part, even inside a long thread
                best = max(here, key=lambda s: _score(s, items[s.index]))
                kept.append((_score(best, items[best.index]), best))
    out: list[SummaryDraft] = []
    for sentence in sorted((s for _score, s in kept), key=lambda s: s.index):
        text = sentence.text.strip()
        words = list(re.finditer(r"\S+", text))
        quote = tidy(text[: words[29].end()] if len(words) > 40 else text)
        speaker = claimants.of(sentence)
        comments = []
        if sentence.inside_quote or sentence.text[:1] in '\u201c"\u2018':
            comments.append(f"review: a quotation; reword it as a point that names {speaker.name}")
        out.append(
            SummaryDraft(
                text=tidy_text(text),
                source=speaker.key,
                quote=quote[:2000],
                sentence=sentence.index,
                comments=comments,
            )
        )
    return out


def tidy_text(text: str) -> str:
    """A sentence as a summary point: stripped of unbalanced quotation marks, at most 2000."""
    out = tidy(text)
    if out and out[-1] not in '.!?\u201d"\u2019':
        out += "."
    return out[:2000]
