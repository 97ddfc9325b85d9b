"""The Matrix renderer: every sourced item shows its source, digest text is escaped, long answers
are split into events that Matrix accepts, and nothing is ever cut."""

from __future__ import annotations

import html
import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands.base import parse
from bot.digest.library import Library
from bot.platforms.matrix.render import (
    PART_LIMIT,
    bang,
    content_size,
    message_content,
    render_matrix,
    render_parts,
    safe_url,
)
from bot.reply import Attribution, Line, Reply, Section
from tests.helpers import KURSK, WriteDigest, answer, base_digest, reading_commands

COMMANDS = reading_commands()

SOURCE = Attribution("Russia's defence ministry", "The Telegraph", date(2024, 8, 9))


def kursk() -> Library:
    library = Library(KURSK.parent)
    library.refresh()
    return library


def test_every_sourced_line_shows_its_source_in_body_and_html() -> None:
    library = kursk()
    for command in ("summary", "figures", "where", "sources"):
        reply = answer(library, parse(f"!{command} quotes:yes"))
        assert reply.error is None
        body, formatted = render_matrix(reply)
        for line in reply.lines:
            assert line.source is not None
            assert f"\u2022 {line.text} \u2014 {line.source}" in body
            item = f"<li>{html.escape(line.text)} \u2014 <em>{html.escape(str(line.source))}</em>"
            assert item in formatted
            assert line.quote is not None
            assert f"<blockquote>{html.escape(line.quote)}</blockquote>" in formatted


def test_the_source_links_to_the_article_only_for_http_urls() -> None:
    linked = Attribution("A", "B", date(2024, 1, 1), url="https://example.org/a?x=1&y=2")
    evil = Attribution("A", "B", date(2024, 1, 1), url="javascript:alert(1)")
    reply = Reply("T", (Section(None, (Line("one", linked), Line("two", evil))),))
    _, formatted = render_matrix(reply)
    assert '<a href="https://example.org/a?x=1&amp;y=2">A, via B, 1 Jan 2024</a>' in formatted
    assert 'href="javascript' not in formatted
    assert formatted.count("<a href=") == 1
    assert safe_url("http://x.test/") == "http://x.test/"
    assert safe_url("data:text/html,<b>") is None
    assert safe_url('https://e.org/"onmouseover="x') is None


def test_digest_text_is_escaped_and_mentions_nobody(write_digest: WriteDigest) -> None:
    data = base_digest()
    data["summary"][0]["text"] = 'Harbour <script>alert("x")</script> closed; @room & <b>all</b>.'
    data["sources"]["post"]["name"] = "The <img src=x onerror=alert(1)> Post"
    path = write_digest(data)
    library = Library(path.parent)
    library.refresh()
    body, formatted = render_matrix(answer(library, parse("!summary")))
    assert "<script" not in formatted
    assert "<img" not in formatted
    assert "<b>all" not in formatted
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in formatted
    assert "&lt;img src=x onerror=alert(1)&gt;" in formatted
    assert '<script>alert("x")</script>' in body  # the plain body is plain text, shown as is
    content = message_content(body, formatted, "m.notice")
    assert content["m.mentions"] == {}
    assert content["format"] == "org.matrix.custom.html"


def test_errors_are_one_short_line() -> None:
    body, formatted = render_matrix(answer(kursk(), parse("!where Atlantis")))
    assert body.startswith("error: no place 'Atlantis'")
    assert "\n" not in body
    assert formatted.startswith("<strong>error:</strong> no place &#x27;Atlantis&#x27;")


def test_help_shows_bang_commands_but_digest_text_is_never_rewritten() -> None:
    body, _ = render_matrix(answer(kursk(), parse("!help")))
    for name in COMMANDS:
        assert f"\u2022 !{name}" in body
    assert "/summary" not in body
    sourced = Reply("T /summary", (Section(None, (Line("see /summary now", SOURCE),)),))
    body, _ = render_matrix(sourced)
    assert "see /summary now" in body
    assert body.startswith("T /summary")
    assert bang("try /where Kursk, or a/where") == "try !where Kursk, or a/where"


def big_reply(lines: int, size: int) -> Reply:
    items = tuple(Line(f"item {i:04d} " + "x\u00e9<" * (size // 3), SOURCE) for i in range(lines))
    return Reply("Big digest", (Section("Heading", items),), note="a note", url="https://e.org")


def test_a_long_answer_is_split_into_parts_that_fit_and_lose_nothing() -> None:
    reply = big_reply(300, 400)
    parts = render_parts(reply)
    assert len(parts) > 1
    for number, (body, formatted) in enumerate(parts, 1):
        assert content_size(body, formatted) <= PART_LIMIT
        assert body.startswith(f"Big digest (part {number} of {len(parts)})")
        assert formatted.count("<ul>") == formatted.count("</ul>")
        event = json.dumps(message_content(body, formatted, "m.notice"))
        assert len(event.encode()) < 65_536 - 2_000  # room for the event's envelope
    bodies = "\n".join(b for b, _ in parts)
    for line in reply.lines:
        assert f"{line.text} \u2014 {line.source}" in bodies
    assert bodies.index("item 0000") < bodies.index("item 0299")


def test_one_huge_item_is_cut_into_pieces_not_truncated() -> None:
    text = "word " * 20_000
    reply = Reply("Huge", (Section(None, (Line(text, SOURCE),)),))
    parts = render_parts(reply)
    assert len(parts) > 2
    assert all(content_size(*p) <= PART_LIMIT for p in parts)
    joined = "".join(b.split("\n", 1)[1].replace("\n", "") for b, _ in parts)
    assert joined == f"\u2022 {text} \u2014 {SOURCE}"


lines = st.builds(
    Line,
    st.text(min_size=1, max_size=300),
    st.one_of(st.none(), st.just(SOURCE)),
    st.one_of(st.none(), st.text(min_size=1, max_size=200)),
)
replies = st.builds(
    Reply,
    st.text(min_size=1, max_size=200),
    st.lists(
        st.builds(Section, st.one_of(st.none(), st.text(max_size=80)), st.tuples(*[lines] * 3)),
        max_size=4,
    ).map(tuple),
    st.one_of(st.none(), st.text(max_size=200)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies, st.sampled_from([600, 2_000, PART_LIMIT]))
def test_any_reply_renders_within_the_limit_with_every_item(reply: Reply, limit: int) -> None:
    parts = render_parts(reply, limit)
    assert all(content_size(*part) <= limit for part in parts)
    formatted = "".join(h for _, h in parts)
    body = "".join(b for b, _ in parts)
    for tag in ("script", "img", "iframe"):
        assert f"<{tag}" not in formatted.lower()
    if len(parts) == 1:
        for line in reply.lines:
            assert (line.text if line.source else bang(line.text)) in body
            if line.source is not None:
                assert str(line.source) in body


def test_render_matrix_is_the_unsplit_form() -> None:
    reply = answer(kursk(), parse("!sources"))
    body, formatted = render_matrix(reply)
    parts = render_parts(reply, limit=10**9)
    assert parts == [(body, formatted)]
