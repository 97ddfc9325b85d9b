"""Reading an article: headline, body, sentences, and scraping debris set aside."""

from __future__ import annotations

import pytest

from bot.draft.text import read_article, tidy, window

SCRAPED = """Council approves budget
The council approved a budget of £12m on Monday.
Click here to view this content.
Share this article
Mr Smith, the council leader, said the plan was fair. Dr Jones disagreed.
Read more: Council tax bills to rise across Yorkshire
\u201cWe will cut 40 posts,\u201d she said.
Advertisement
Related articles
Bradford schools face £8m shortfall
Harrogate bypass plan shelved again
"""


def test_headline_is_the_first_line_and_not_a_sentence() -> None:
    article = read_article(SCRAPED)
    assert article.headline == "Council approves budget"
    assert all(s.text != "Council approves budget" for s in article.sentences)


def test_given_headline_still_drops_an_identical_first_line() -> None:
    article = read_article(SCRAPED, headline="Council approves budget")
    assert article.sentences[0].text.startswith("The council approved")


def test_debris_is_set_aside() -> None:
    article = read_article(SCRAPED)
    body = " ".join(s.text for s in article.sentences)
    for scrap in (
        "Click here",
        "Share this",
        "Read more",
        "Advertisement",
        "Bradford",
        "Harrogate",
    ):
        assert scrap not in body
    assert "Click here to view this content." in article.debris
    assert "Harrogate bypass plan shelved again" in article.debris


def test_a_trailing_list_of_headlines_is_debris_without_a_marker() -> None:
    text = (
        "Title\nThe storm closed 14 roads on Monday, police said.\n"
        "Man jailed for fraud\nNew bridge opens\n"
    )
    article = read_article(text)
    assert [s.text for s in article.sentences] == [
        "The storm closed 14 roads on Monday, police said."
    ]
    assert article.debris == ("Man jailed for fraud", "New bridge opens")


def test_sentences_split_but_not_after_titles() -> None:
    article = read_article(SCRAPED)
    texts = [s.text for s in article.sentences]
    assert "Mr Smith, the council leader, said the plan was fair." in texts
    assert "Dr Jones disagreed." in texts


def test_sentences_are_spans_of_the_original_text() -> None:
    article = read_article(SCRAPED)
    for sentence in article.sentences:
        assert SCRAPED[sentence.start : sentence.end] == sentence.text


def test_a_quote_spanning_sentences_and_paragraphs_is_tracked() -> None:
    text = "T\nHe said: \u201cOne. Two.\n\u201cThree.\u201d\nAfter.\n"
    article = read_article(text)
    flags = [(s.text, s.inside_quote) for s in article.sentences]
    assert flags == [
        ("He said: \u201cOne.", False),
        ("Two.", True),
        ("\u201cThree.\u201d", False),
        ("After.", False),
    ]


@pytest.mark.parametrize(
    ("raw", "tidied"),
    [
        ("\u201crapid advance\u201d", "\u201crapid advance\u201d"),
        ("\u201cUkrainian forces are present", "Ukrainian forces are present"),
        ("up to 945 soldiers.", "up to 945 soldiers"),
        ("  leaving 15 vehicles,  ", "leaving 15 vehicles"),
        ("Oktyabr\u2019skoe", "Oktyabr\u2019skoe"),
    ],
)
def test_tidy_trims_without_changing_the_inside(raw: str, tidied: str) -> None:
    assert tidy(raw) == tidied


def test_window_keeps_a_long_clause_short_around_the_number() -> None:
    text = (
        "The convoy was likely travelling to reinforce the Russian presence in the settlement "
        "of Korenevo about 12 miles away, the closest point Russian sources have reported combat."
    )
    sentence = read_article("T\n" + text).sentences[0]
    start = text.index("about 12")
    span = window(sentence, start, start + len("about 12 miles away"))
    assert text[span.start : span.end] == "in the settlement of Korenevo about 12 miles away,"
