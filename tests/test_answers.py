"""Answers on the Kursk digest: every item carries its source; every claim names its claimant."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.commands.base import Request, parse
from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.digest.model import Digest, Place
from tests.helpers import KURSK, answer, reading_commands

COMMANDS = reading_commands()


def suggest(library: Library, kind: str, partial: str, digest_id: str | None = None) -> list[str]:
    return Commands(library).suggest(kind, partial, digest_id)


KURSK_ID = "kursk-incursion-2024-08-09"


@pytest.fixture(scope="module")
def library() -> Library:
    lib = Library(KURSK.parent)
    lib.refresh()
    assert lib.get(KURSK_ID) is not None
    return lib


def ask(library: Library, line: str) -> str:
    reply = answer(library, parse(line))
    assert reply.error is None, reply.error
    return "\n".join(line.text for line in reply.lines)


def test_parse_words_options_and_quotes() -> None:
    request = parse('/where digest:x "Lipetsk air base" quotes:yes')
    assert request == Request("where", ("Lipetsk air base",), {"digest": "x", "quotes": "yes"})
    assert parse("/where Oktyabr'skoe").args == ("Oktyabr'skoe",)
    assert parse("!figures soldiers").command == "figures"


def test_summary_every_point_has_its_source(library: Library) -> None:
    reply = answer(library, Request("summary"))
    digest = library.get(KURSK_ID)
    assert digest is not None
    assert len(reply.lines) == len(digest.summary)
    for line, point in zip(reply.lines, digest.summary, strict=True):
        assert line.source is not None
        assert line.source.claimant == digest.sources[point.source].name
        assert line.source.publisher == "The Telegraph"
        assert line.quote is None
    assert str(reply.lines[0].source).endswith("9 Aug 2024")


def test_summary_points_and_quotes(library: Library) -> None:
    reply = answer(library, parse("/summary 3 quotes:yes"))
    assert len(reply.lines) == 3
    assert all(line.quote for line in reply.lines)
    assert reply.note is not None
    assert "3 of" in reply.note
    assert answer(library, parse(f"/summary {KURSK_ID} 2 quotes:yes")).lines == reply.lines[:2]
    assert answer(library, parse("/summary digest:kursk 2")).lines[0].quote is None


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("/summary 0", "points must be a whole number"),
        ("/summary many", "points must be a whole number"),
        ("/summary quotes:maybe", "quotes:yes or quotes:no"),
        ("/summary digest:kursc", "no digest 'kursc' — did you mean kursk-incursion"),
        ("/where Kursck", "no place 'Kursck' — did you mean Kursk"),
        ("/figures unicorns", "no figure matches 'unicorns'"),
        ("/summary colour:red", "unknown option 'colour:'"),
        ("/sumary", "did you mean /summary"),
        ("/help nothing", "no command 'nothing'"),
        ("/digests unicorns", "no digest matches 'unicorns'"),
    ],
)
def test_user_errors_are_one_clear_line(library: Library, line: str, fragment: str) -> None:
    reply = answer(library, parse(line))
    assert reply.error is not None
    assert fragment in reply.error
    assert "\n" not in reply.error


def test_claims_name_the_claimant_in_the_sentence(library: Library) -> None:
    reply = answer(library, parse("/figures 945"))
    line = reply.lines[0]
    assert line.text.startswith("Claimed by Russia's defence ministry: ")
    assert "up to 945 soldiers" in line.text
    assert line.source is not None
    assert line.source.claimant == "Russia's defence ministry"
    assert str(line.source) == "Russia's defence ministry, via The Telegraph, 9 Aug 2024"


def test_every_claim_figure_names_its_claimant(library: Library) -> None:
    digest = library.get(KURSK_ID)
    assert digest is not None
    reply = answer(library, Request("figures"))
    for line, figure in zip(reply.lines, digest.figures, strict=True):
        if figure.status == "claim":
            assert line.text.startswith(f"Claimed by {digest.sources[figure.source].name}: ")


@pytest.mark.parametrize(("query", "expect"), [("miles", "Pokrovsk"), ("Unian", "490")])
def test_figures_filter(library: Library, query: str, expect: str) -> None:
    text = ask(library, f"/figures {query}")
    assert expect in text


def test_where_lists_every_place(library: Library) -> None:
    digest = library.get(KURSK_ID)
    assert digest is not None
    text = ask(library, "/where")
    for place in digest.places:
        assert place.name in text


def test_where_one_place_shows_details_and_mentions(library: Library) -> None:
    reply = answer(library, parse("/where korenevo quotes:yes"))
    assert reply.title.startswith("Korenevo")
    detail = reply.sections[0].lines[0]
    assert "51.41° N, 34.91° E" in detail.text
    assert detail.quote == "the settlement of Korenevo about 12 miles away"
    assert len(reply.sections) == 2
    assert reply.sections[1].lines


def test_where_asks_the_map_source(library: Library, tmp_path: Path) -> None:
    drawn: list[tuple[str, str | None]] = []

    class Maps:
        def picture(self, digest: Digest, focus: Place | None = None) -> Path:
            drawn.append((digest.id, focus.name if focus else None))
            return tmp_path / "map.png"

        def describe(self, digest: Digest, focus: Place | None = None) -> str:
            return f"Map of {focus.name if focus else digest.title}"

    reply = answer(library, parse("/where Pokrovsk"), Maps())
    assert drawn == [(KURSK_ID, "Pokrovsk")]
    assert reply.picture is not None
    assert reply.picture.path == tmp_path / "map.png"
    assert reply.picture.alt == "Map of Pokrovsk"


def test_a_failing_map_leaves_the_places_answer(library: Library) -> None:
    class Broken:
        def picture(self, digest: Digest, focus: Place | None = None) -> Path:
            raise OSError("disk full")

        def describe(self, digest: Digest, focus: Place | None = None) -> str:
            return ""

    reply = answer(library, parse("/where"), Broken())
    assert reply.error is None
    assert reply.picture is None
    assert reply.note is not None
    assert "could not be drawn" in reply.note
    assert len(reply.lines) >= 6


def test_sources_groups_items_by_claimant(library: Library) -> None:
    reply = answer(library, Request("sources"))
    headings = [s.heading or "" for s in reply.sections]
    assert any(
        h.startswith("Russia's defence ministry (government, side: Russia)") for h in headings
    )
    for section in reply.sections:
        claimants = {line.source.claimant for line in section.lines if line.source}
        assert len(claimants) == 1


def test_digests_and_help(library: Library) -> None:
    assert KURSK_ID in ask(library, "/digests")
    text = ask(library, "/help")
    for name in COMMANDS:
        assert f"/{name}" in text
    assert "place:" in ask(library, "/help where")


def test_empty_library_says_what_to_do(tmp_path: Path) -> None:
    reply = answer(Library(tmp_path), Request("summary"))
    assert reply.error is not None
    assert "no digests" in reply.error


def test_suggest(library: Library) -> None:
    assert suggest(library, "digest", "kur") == [KURSK_ID]
    assert suggest(library, "place", "kor") == ["Korenevo"]
    assert "Korenevo" in suggest(library, "place", "enev")
    assert len(suggest(library, "figure", "")) <= 25
    assert suggest(library, "place", "x", "no-such-digest") == []


def test_digests_lists_the_newest_25_and_filters(tmp_path: Path) -> None:
    from bench.answers import make_folder

    make_folder(tmp_path, 30)
    library = Library(tmp_path)
    library.refresh()
    reply = answer(library, Request("digests"))
    assert len(reply.lines) == 25
    assert reply.lines[0].text.startswith(KURSK_ID)  # the newest
    assert reply.note is not None
    assert "25 of 30" in reply.note
    assert len(answer(library, parse("/digests generated-00017")).lines) == 1
