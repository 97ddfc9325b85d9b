"""Reply → Discord pages: the format, the escaping, and (hypothesis) that any reply fits
Discord's limits without losing a word."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.platforms.discord.render import (
    CONTENT_MAX,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    FOOTER_MAX,
    TITLE_MAX,
    escape,
    render,
    safe_url,
)
from bot.reply import Attribution, Line, Reply, Section

MINISTRY = Attribution("Russia's defence ministry", "The Telegraph", date(2024, 8, 9))
TELEGRAPH = Attribution("The Telegraph", "The Telegraph", date(2024, 8, 9))


def rejoin(descriptions: list[str]) -> str:
    text = "\n".join(descriptions)
    for mark, glue in ((" …\n> … ", " "), (" …\n… ", " "), ("…\n> …", ""), ("…\n…", "")):
        text = text.replace(mark, glue)
    return text


def test_an_item_shows_its_source_and_its_quote() -> None:
    reply = Reply(
        title="Kursk, day four",
        sections=(
            Section(
                None,
                (
                    Line(
                        "Russia's defence ministry claims Ukraine lost up to 945 soldiers.",
                        MINISTRY,
                        quote="Ukraine had lost up to 945 soldiers",
                    ),
                    Line("Moscow declared a state of emergency.", TELEGRAPH),
                ),
            ),
        ),
    )
    [page] = render(reply).pages
    assert page.title == "Kursk, day four"
    assert page.footer is None
    assert page.description == (
        "• Russia's defence ministry claims Ukraine lost up to 945 soldiers."
        " — Russia's defence ministry, via The Telegraph, 9 Aug 2024\n"
        "> “Ukraine had lost up to 945 soldiers”\n"
        "• Moscow declared a state of emergency. — The Telegraph, 9 Aug 2024"
    )


def test_the_source_links_to_the_article() -> None:
    source = Attribution("ISW", "The Telegraph", date(2024, 8, 9), "https://example.com/a_(b)<c>")
    [page] = render(Reply("t", (Section(None, (Line("x", source),)),))).pages
    assert page.description == (
        "• x — [ISW, via The Telegraph, 9 Aug 2024](https://example.com/a_%28b%29%3Cc%3E)"
    )
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://example.com/" + "x" * 600) is None


def test_headings_notes_and_plain_lines() -> None:
    reply = Reply(
        title="Sources",
        note="3 of 9 points",
        sections=(Section("The Telegraph (publisher)", (Line("plain line"),)),),
    )
    [page] = render(reply).pages
    assert page.description == "*3 of 9 points*\n**The Telegraph (publisher)**\n• plain line"


def test_escaping_defuses_markdown_and_mentions() -> None:
    text = "**b** _i_ `c` ||s|| [l](http://x) <@&123> <@456> @everyone @here # h ~~s~~ \\"
    assert escape(text) == (
        "\\*\\*b\\*\\* \\_i\\_ \\`c\\` \\|\\|s\\|\\| \\[l\\](http://x) \\<@&123\\> \\<@456\\>"
        " @\u200beveryone @\u200bhere \\# h \\~\\~s\\~\\~ \\\\"
    )
    assert escape("- not a list") == "\\- not a list"
    assert escape("1. not a list") == "1\\. not a list"
    assert escape("line\nbreaks\tcollapse") == "line breaks collapse"


def test_an_error_is_one_short_message() -> None:
    rendered = render(Reply.failure("no digest '@everyone' — try kursk"))
    assert rendered.pages == ()
    assert rendered.error == "no digest '@\u200beveryone' — try kursk"
    long = render(Reply.failure("x" * 5000)).error
    assert long is not None
    assert len(long) == CONTENT_MAX
    assert long.endswith("…")


def test_a_long_title_is_cut_visibly_and_shown_whole() -> None:
    title = "A very long title " * 30
    [page] = render(Reply(title, (Section(None, (Line("x"),)),))).pages
    assert len(page.title) <= TITLE_MAX
    assert page.title.endswith("…")
    assert page.description.startswith(f"**{escape(title)}**")


def test_long_answers_page_and_say_so() -> None:
    lines = tuple(Line(f"Point {n}: " + "word " * 150, TELEGRAPH) for n in range(40))
    pages = render(Reply("Long", (Section("Heading", lines),))).pages
    assert len(pages) > 5
    assert [p.footer for p in pages] == [f"Page {n} of {len(pages)}" for n in range(1, 41)][
        : len(pages)
    ]
    assert all(len(p.description) <= DESCRIPTION_MAX for p in pages)
    assert pages[0].description.startswith("**Heading**\n• Point 0")
    shown = rejoin([p.description for p in pages])
    assert all(escape(line.text) in shown for line in lines)


def test_an_item_longer_than_a_page_is_split_with_marks() -> None:
    line = Line("x" * 3000 + " " + "y " * 1500, TELEGRAPH, quote="z" * 5000)
    pages = render(Reply("Split", (Section(None, (line,)),))).pages
    descriptions = [p.description for p in pages]
    assert len(pages) >= 3
    assert all(len(d) <= DESCRIPTION_MAX for d in descriptions)
    assert descriptions[0].endswith(" …") or descriptions[0].endswith("…")
    assert descriptions[-1].endswith("”")
    assert any(d.startswith("> …") for d in descriptions)  # a quote stays a quote
    shown = rejoin(descriptions)
    assert escape(line.text) + " — The Telegraph, 9 Aug 2024" in shown
    assert "> “" + "z" * 5000 + "”" in shown


def test_a_cut_never_separates_an_escape() -> None:
    line = Line("*" * 2000 + "_" * 1500)
    pages = render(Reply("Escapes", (Section(None, (line,)),))).pages
    assert len(pages) >= 2
    for page in pages:
        assert not re.search(r"(?<!\\)\\(\\\\)*…$", page.description)
    assert escape(line.text) in rejoin([p.description for p in pages])


# -- any reply fits ----------------------------------------------------------------------------

tricky = st.sampled_from(
    ["*", "_", "`", "|", "\\", "@everyone", "@here", "<@&123>", "[a](http://b)", " ", "…", "> "]
)
texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=2000),
    st.lists(tricky, max_size=700).map("".join).map(lambda s: s[:2000]),
    st.text("ab \n", max_size=2000),
)
urls = st.one_of(st.none(), st.just("https://example.com/x(1)"), st.text(max_size=40))
attributions = st.one_of(
    st.none(),
    st.builds(
        Attribution,
        claimant=texts,
        publisher=st.text(min_size=1, max_size=100),
        published=st.dates(),
        url=urls,
    ),
)
lines = st.builds(Line, text=texts, source=attributions, quote=st.one_of(st.none(), texts))
sections = st.builds(
    Section,
    heading=st.one_of(st.none(), st.text(max_size=300)),
    lines=st.lists(lines, max_size=8).map(tuple),
)
replies = st.builds(
    Reply,
    title=st.text(max_size=600),
    sections=st.lists(sections, max_size=4).map(tuple),
    note=st.one_of(st.none(), st.text(max_size=300)),
    url=urls,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies)
def test_any_reply_fits_discords_limits_and_loses_nothing(reply: Reply) -> None:
    rendered = render(reply)
    assert rendered.error is None
    assert rendered.pages
    total = len(rendered.pages)
    for number, page in enumerate(rendered.pages, start=1):
        assert 1 <= len(page.title) <= TITLE_MAX
        assert len(page.description) <= DESCRIPTION_MAX
        assert len(page.footer or "") <= FOOTER_MAX
        assert page.length() <= EMBED_TOTAL_MAX
        assert (page.number, page.total) == (number, total)
        assert "@everyone" not in page.description
        assert "@here" not in page.description
        for text in page.description.split("\n"):
            assert not re.search(r"(?<!\\)\\(\\\\)*…$", text)
    shown = rejoin([page.description for page in rendered.pages])
    for line in reply.lines:
        assert escape(line.text) in shown
        if line.source is not None:
            assert escape(str(line.source)) in shown
        if line.quote is not None:
            assert escape(line.quote) in shown


def test_a_cut_title_or_error_keeps_its_escapes_whole() -> None:
    error = render(Reply.failure("x" * 1998 + "**")).error
    assert error == "x" * 1998 + "…"
    [page] = render(Reply("t" * 254 + "__", (Section(None, (Line("x"),)),))).pages
    assert page.title == "t" * 254 + "…"


@given(st.text(max_size=8000))
def test_any_error_fits_in_one_message(message: str) -> None:
    error = render(Reply.failure(message)).error
    assert error is not None
    assert 1 <= len(error) <= CONTENT_MAX
    assert "@everyone" not in error
    assert "@here" not in error
    assert not re.search(r"(?<!\\)\\(\\\\)*…$", error)
