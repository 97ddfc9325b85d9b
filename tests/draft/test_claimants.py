"""Who says it: attribution patterns, quotes that keep their speaker, sides, kinds."""

from __future__ import annotations

import pytest

from bot.draft.claimants import attribute, find_attribution
from bot.draft.text import read_article


def speakers(text: str, publisher: str = "The Courier") -> list[str]:
    article = read_article("Headline\n" + text)
    claimants = attribute(article, publisher)
    return [claimants.of(s).name for s in article.sentences]


@pytest.mark.parametrize(
    ("sentence", "phrase"),
    [
        (
            "Russia\u2019s defence ministry said on Thursday that 1,000 troops had joined.",
            "Russia\u2019s defence ministry",
        ),
        ("On Friday, the ministry claimed that Ukraine had lost 945 soldiers.", "the ministry"),
        (
            "Yesterday, Britain\u2019s Ministry of Defence said troops were near.",
            "Britain\u2019s Ministry of Defence",
        ),
        (
            "Mykhailo Podolyak, Ukraine\u2019s presidential adviser, has said the raid helps.",
            "Mykhailo Podolyak, Ukraine\u2019s presidential adviser",
        ),
        ("Up to 400 jobs are at risk, according to the GMB union.", "the GMB union"),
        ("\u201cIt is over,\u201d its analysts wrote in a daily update.", "its analysts"),
        (
            "\u201cMany dead,\u201d a Russian Telegram channel wrote of the strike.",
            "a Russian Telegram channel",
        ),
        (
            "The strike killed 12 people, Volodymyr Zelensky, Ukraine\u2019s president, said.",
            "Volodymyr Zelensky, Ukraine\u2019s president",
        ),
        (
            "Several jets were at the base, Ukraine\u2019s general staff said.",
            "Ukraine\u2019s general staff",
        ),
        (
            "\u201cStay off the roads,\u201d said Kathy Hochul, the governor.",
            "Kathy Hochul, the governor",
        ),
        (
            "The strike was described by military bloggers as one of the bloodiest.",
            "military bloggers",
        ),
    ],
)
def test_attribution_patterns(sentence: str, phrase: str) -> None:
    found = find_attribution(sentence)
    assert found is not None
    assert found[0] == phrase


@pytest.mark.parametrize(
    "sentence",
    [
        "Another image showed what officials claimed to be the remains of a child.",
        "The convoy was travelling to the settlement, the closest point Russian sources have "
        "reported combat.",
        "Ukrainian troops posted a picture of themselves inside Russia.",
        "State media aired footage of convoys heading to the border.",
    ],
)
def test_not_attributions(sentence: str) -> None:
    assert find_attribution(sentence) is None


def test_unattributed_sentences_belong_to_the_publisher() -> None:
    assert speakers("The harbour was closed on Monday.") == ["The Courier"]


def test_references_back_resolve_to_the_claimant_named_before() -> None:
    names = speakers(
        "Russia\u2019s defence ministry said 1,000 troops had joined.\n"
        "On Friday, the ministry claimed that 945 soldiers were lost.\n"
        "The Institute for the Study of War said units had advanced.\n"
        "However, they warned that the area was not controlled.\n"
        "Volodymyr Zelensky, Ukraine\u2019s president, said Russia would answer.\n"
        "\u201cWe will do everything,\u201d Mr Zelensky wrote.\n"
    )
    assert names == [
        "Russia\u2019s defence ministry",
        "Russia\u2019s defence ministry",
        "Institute for the Study of War",
        "Institute for the Study of War",
        "Volodymyr Zelensky",
        "Volodymyr Zelensky",
    ]


def test_a_quote_keeps_its_speaker_across_sentences_and_paragraphs() -> None:
    names = speakers(
        "Konrad Muzyka, a military analyst, said: \u201cIt appears they want land. "
        "They will dig in.\n"
        "\u201cIn this context, Kyiv could force Russia to spread its forces.\u201d\n"
        "\u201cMany dead, some burned. It looks like infantry,\u201d "
        "a Russian Telegram channel wrote.\n"
        "\u201cThey were armed.\n"
        "The harbour reopened on Monday.\n"
    )
    assert names == [
        "Konrad Muzyka",
        "Konrad Muzyka",
        "Konrad Muzyka",
        "Russian Telegram channel",
        "Russian Telegram channel",
        "Russian Telegram channel",
        "The Courier",
    ]


WAR = (
    "Russia\u2019s defence ministry said 1,000 Ukrainian troops had joined the fight.\n"
    "Ukraine\u2019s general staff said Russian troops had lost 50 tanks in the war.\n"
    "The Institute for the Study of War, a US-based think-tank, said Ukrainian troops advanced.\n"
    "Britain\u2019s Ministry of Defence said Russian soldiers were near Pokrovsk.\n"
    "Konrad Muzyka, a military analyst at Rochan Consulting, said the attack could work.\n"
    "Russian and Ukrainian drones attacked overnight as the war went on.\n"
)


def test_belligerents_get_a_side_and_others_do_not() -> None:
    article = read_article("Headline\n" + WAR)
    claimants = attribute(article, "The Telegraph")
    sources = {c.name: c.source() for c in claimants.by_key.values()}
    assert claimants.belligerents == ("RU", "UA") or set(claimants.belligerents) == {"RU", "UA"}
    assert sources["Russia\u2019s defence ministry"]["side"] == "Russia"
    assert sources["Ukraine\u2019s general staff"]["side"] == "Ukraine"
    assert "side" not in sources["Institute for the Study of War"]
    assert "side" not in sources["Britain\u2019s Ministry of Defence"]
    assert sources["Institute for the Study of War"]["kind"] == "think-tank"
    assert sources["Institute for the Study of War"]["role"] == "US-based think-tank"
    assert sources["Konrad Muzyka"]["kind"] == "analyst"
    assert sources["Ukraine\u2019s general staff"]["kind"] == "military"
    assert sources["Russia\u2019s defence ministry"]["kind"] == "government"
    assert sources["The Telegraph"] == {"name": "The Telegraph", "kind": "publisher"}


def test_no_conflict_no_sides() -> None:
    article = read_article(
        "Headline\nThe GMB union claimed that up to 400 jobs were at risk in Leeds.\n"
        "Leeds City Council said 180 posts would go.\n"
    )
    claimants = attribute(article, "The Courier")
    assert claimants.belligerents == ()
    assert all(c.side is None for c in claimants.by_key.values())


def test_keys_are_slugs_and_unique() -> None:
    article = read_article(
        "Headline\nJohn Smith, a farmer, said it rained.\nJane Smith, a teacher, said it did not.\n"
    )
    keys = list(attribute(article, "The Courier").by_key)
    assert keys == ["courier", "smith", "smith-2"]


def test_a_title_before_a_name_is_the_role() -> None:
    article = read_article(
        "Headline\nInterior minister Ali Yerlikaya said 1,200 rescuers were sent.\n"
        "Analysts at Peel Hunt estimated the cost at 150 pounds.\n"
    )
    sources = [c.source() for c in attribute(article, "Desk").by_key.values()]
    assert sources[1] == {"name": "Ali Yerlikaya", "kind": "official", "role": "Interior minister"}
    assert sources[2] == {"name": "Analysts at Peel Hunt", "kind": "analyst"}
