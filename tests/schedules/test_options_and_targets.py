"""Schedule options (publish, thread, forum tags, a role ping, a filter) and the checks against
what the platform says about the channel: each problem says what to do."""

from __future__ import annotations

import pytest

from bot.schedules.filters import Only
from bot.schedules.options import OptionError, PostOptions
from bot.schedules.targets import ChannelFacts, Role, needed, problems

ROLE = "123456789012345678"
ROLES = {
    ROLE: Role(ROLE, "news", mentionable=True),
    "223456789012345678": Role("223456789012345678", "staff", mentionable=False),
}
FORUM = ChannelFacts("world-news", "forum", tags=("ukraine", "russia"), roles=ROLES)
NEWS = ChannelFacts("news", "announcement", roles=ROLES)


def test_the_defaults_keep_the_schedule_id_and_json_round_trips() -> None:
    assert PostOptions().key() == ""
    assert PostOptions().describe() == ""
    options = PostOptions(
        only=Only(tags=("ukraine",)), thread=True, tags=("ukraine",), mention=f"role:{ROLE}"
    )
    assert PostOptions.from_json(options.to_json()) == options
    assert options.key() != PostOptions(thread=True).key()
    assert options.describe() == (
        f"only tags ukraine; a thread per post; forum tags ukraine; pings <@&{ROLE}>"
    )


@pytest.mark.parametrize(
    ("platform", "options", "fragment"),
    [
        ("matrix", PostOptions(tags=("x",)), "Discord forum tags"),
        ("discord", PostOptions(tags=tuple("abcdef")), "at most 5"),
        ("discord", PostOptions(tags=("a", "a")), "listed twice"),
        ("discord", PostOptions(mention="@everyone"), "use role:ID"),
        ("discord", PostOptions(mention="role:news"), "Copy Role ID"),
        ("matrix", PostOptions(mention="role:123456789012345678"), "only ping is room"),
        ("console", PostOptions(thread=True), "not in the console"),
    ],
)
def test_options_a_platform_cannot_do(platform: str, options: PostOptions, fragment: str) -> None:
    with pytest.raises(OptionError, match=fragment):
        options.check(platform)


def test_good_options_pass() -> None:
    PostOptions(tags=("ukraine",), mention=f"role:{ROLE}", thread=False).check("discord")
    PostOptions(mention="room", thread=True).check("matrix")
    assert PostOptions(mention=f"role:{ROLE}").role_id == ROLE


def test_a_forum_with_its_tags_is_fine() -> None:
    assert problems(PostOptions(tags=("ukraine",)), FORUM, "1") == []
    assert problems(PostOptions(mention=f"role:{ROLE}"), NEWS, "1") == []


@pytest.mark.parametrize(
    ("options", "facts", "fragment"),
    [
        (PostOptions(tags=("ukrain",)), FORUM, "forum #world-news has no tag 'ukrain'"),
        (PostOptions(tags=("ukraine",)), NEWS, "tags: apply to forum posts"),
        (PostOptions(thread=True), FORUM, "each digest already gets its own forum post"),
        (PostOptions(mention="role:323456789012345678"), NEWS, "no role 323456789012345678"),
        (PostOptions(mention="role:223456789012345678"), NEWS, "@staff is not mentionable"),
        (PostOptions(), ChannelFacts("general", "other"), "use a text, announcement or forum"),
        (
            PostOptions(),
            ChannelFacts("news", "announcement", missing=("Send Messages",)),
            "the bot lacks Send Messages in #news",
        ),
        (
            PostOptions(mention="room"),
            ChannelFacts("!r:x", "room", may_ping_room=False),
            "power level",
        ),
    ],
)
def test_each_problem_says_what_to_do(
    options: PostOptions, facts: ChannelFacts, fragment: str
) -> None:
    found = problems(options, facts, "1")
    assert any(fragment in line for line in found), found


def test_a_missing_channel_and_a_role_the_bot_may_ping_anyway() -> None:
    assert "does not exist" in problems(PostOptions(), None, "42")[0]
    facts = ChannelFacts("news", "text", roles=ROLES, may_mention_everyone=True)
    assert problems(PostOptions(mention="role:223456789012345678"), facts, "1") == []


def test_what_each_kind_of_channel_needs() -> None:
    assert "Send Messages in Threads" in needed(PostOptions(), "forum")
    assert "Create Public Threads" in needed(PostOptions(thread=True), "text")
    assert "Create Public Threads" not in needed(PostOptions(), "announcement")
