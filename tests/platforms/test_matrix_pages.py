"""◀ ▶ paging of a long Matrix answer for its asker, and the relation/mention contents."""

from __future__ import annotations

from bot.platforms.matrix.pages import (
    NEXT,
    PAGE_TIMEOUT,
    PREVIOUS,
    Pager,
    edit_content,
    ping_room,
    room_ping_level,
    thread_relation,
)

PAGES = [("one", "<p>one</p>"), ("two", "<p>two</p>"), ("three", "<p>three</p>")]


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_only_the_asker_turns_the_pages() -> None:
    pager = Pager(Clock())
    pager.add("!r", "$answer", "@alice:x", PAGES)
    assert pager.reaction("!r", "@bob:x", "$b1", "$answer", NEXT) is None
    turned = pager.reaction("!r", "@alice:x", "$a1", "$answer", NEXT)
    assert turned is not None
    assert turned.index == 1
    assert pager.reaction("!r", "@alice:x", "$a2", "$answer", "👍") is None
    assert pager.reaction("!r", "@alice:x", "$a3", "$other", NEXT) is None


def test_taking_a_reaction_back_is_a_press_too() -> None:
    pager = Pager(Clock())
    pager.add("!r", "$answer", "@alice:x", PAGES)
    pager.reaction("!r", "@alice:x", "$a1", "$answer", NEXT)
    turned = pager.redaction("!r", "@alice:x", "$a1")
    assert turned is not None
    assert turned.index == 2
    assert pager.redaction("!r", "@alice:x", "$a1") is None  # once
    assert pager.reaction("!r", "@alice:x", "$a2", "$answer", NEXT) is None  # the last page
    back = pager.reaction("!r", "@alice:x", "$a3", "$answer", PREVIOUS)
    assert back is not None
    assert back.index == 1


def test_pages_stop_turning_after_the_timeout() -> None:
    clock = Clock()
    pager = Pager(clock)
    pager.add("!r", "$answer", "@alice:x", PAGES)
    clock.now += PAGE_TIMEOUT + 1
    assert pager.reaction("!r", "@alice:x", "$a1", "$answer", NEXT) is None


def test_contents() -> None:
    edit = edit_content("$e", {"msgtype": "m.notice", "body": "b", "formatted_body": "<b>b</b>"})
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$e"}
    assert edit["m.new_content"]["body"] == "b"
    assert edit["body"] == "* b"
    assert thread_relation("$root")["rel_type"] == "m.thread"
    pinged = ping_room({"body": "digest", "formatted_body": "digest", "m.mentions": {}})
    assert pinged["m.mentions"] == {"room": True}
    assert pinged["body"].startswith("@room")
    assert room_ping_level({}) == 50
    assert room_ping_level({"notifications": {"room": 0}}) == 0
