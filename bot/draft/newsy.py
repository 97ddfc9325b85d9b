"""Does a text read like news? A README, a recipe or a how-to must not be drafted silently.

News reports what someone said or did, when: verbs of saying ("said", "according to"),
references to days and dates, verbs in the past tense. Instructions address the reader:
imperatives ("Heat the oven", "Run the tool"), quantities of ingredients, markup and commands.
"""

from __future__ import annotations

import re

from bot.draft.text import Article

_SAYING = re.compile(
    r"\b(said|says|told|according to|reported|announced|confirmed|warned|claimed|stated"
    r"|added|estimated)\b",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tonight"
    r"|overnight|last (?:week|month|year|night)|this (?:week|month|year)|january|february"
    r"|march|april|june|july|august|september|october|november|december|\d{4})\b",
    re.IGNORECASE,
)
_PAST = re.compile(r"\b(?:was|were|had|has been|have been|\w{3,}ed)\b", re.IGNORECASE)
_IMPERATIVE = re.compile(
    r"^(?:heat|preheat|beat|mix|add|stir|bake|serve|fold|whisk|chop|place|pour|cook|line"
    r"|season|simmer|boil|fry|grease|sift|knead|remove|leave|cover|combine|run|install|use"
    r"|click|open|select|enter|type|set|see|read|download|copy|paste|press|make sure|do not"
    r"|don't|note)\b",
    re.IGNORECASE,
)
_MARKUP = re.compile(
    r"^\s*(?:#{1,6}\s|```|\$\s|>>>|pip install|npm |git clone|[-*]\s+\[|\|.*\|)"
    r"|(?<![\w-])--[a-z][\w-]*|(?-i:\b\d+\s?(?:g|kg|ml|tbsp|tsp|oz|cups?)\s+(?:of\s+)?[a-z])",
    re.IGNORECASE | re.MULTILINE,
)


def not_news(article: Article) -> str | None:
    """Why the text does not look like a news article (None when it does)."""
    sentences = [s.text for s in article.sentences]
    if not sentences:
        return "it has no sentences"
    body = " ".join(sentences)
    saying = len(_SAYING.findall(body))
    when = len(_WHEN.findall(body))
    past = sum(bool(_PAST.search(s)) for s in sentences)
    instructions = sum(bool(_IMPERATIVE.match(s)) for s in sentences)
    lines = [line for line in article.text.splitlines() if line.strip()]
    markup = sum(bool(_MARKUP.search(line)) for line in lines)
    share = (instructions + markup) / len(sentences)
    if markup >= 3 and markup >= 0.1 * len(lines):
        return (
            f"{markup} of its {len(lines)} lines are markup, commands or quantities "
            "(a README, a recipe or a how-to?)"
        )
    if share >= 0.3 and saying <= 1:
        return (
            f"{instructions} of its {len(sentences)} sentences are instructions and it has "
            f"{markup} lines of markup or quantities (a README, a recipe or a how-to?)"
        )
    if saying == 0 and when == 0 and past < max(2, len(sentences) // 3):
        return "it reports nobody saying anything, no day or date, and few past events"
    return None
