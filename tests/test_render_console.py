from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.reply import Attribution, Line, Picture, Reply, Section
from bot.reply import plain as render


def test_every_sourced_line_shows_its_source_and_quote() -> None:
    source = Attribution("Russia's defence ministry", "The Telegraph", date(2024, 8, 9))
    reply = Reply(
        title="T",
        sections=(Section("Head", (Line("text", source, quote="q"), Line("plain"))),),
        note="a note",
        picture=Picture(Path("/tmp/m.png"), "Map: Kursk"),
        url="https://example.org/a",
    )
    out = render(reply)
    assert '• text — Russia\'s defence ministry, via The Telegraph, 9 Aug 2024\n    "q"' in out
    assert "• plain\n" in out
    assert "Map: /tmp/m.png\n    Map: Kursk" in out
    assert "Article: https://example.org/a" in out
    assert out.index("a note") < out.index("Head")


def test_publisher_as_claimant_is_not_repeated() -> None:
    assert str(Attribution("The Telegraph", "The Telegraph", date(2024, 8, 9))) == (
        "The Telegraph, 9 Aug 2024"
    )


def test_errors_render_as_one_line() -> None:
    assert render(Reply.failure("no place 'X'")) == "error: no place 'X'"
