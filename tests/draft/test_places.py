"""Places: candidates, metonyms, disambiguation by country and distance, unresolved names."""

from __future__ import annotations

from bot.draft.claimants import attribute
from bot.draft.places import PlaceDraft, Unresolved, resolve
from bot.draft.text import read_article
from tests.draft.conftest import FakeGazetteer, entry

GAZETTEER = FakeGazetteer(
    [
        entry("Kursk", 51.727, 36.185, "RU", 448_733, "41"),
        entry("Korenevo", 51.411, 34.900, "RU", 6_236, "41"),
        entry("Korenevo", 55.672, 38.008, "RU", 5_555, "47"),
        entry("Pokrovsk", 48.280, 37.177, "UA", 60_127, "05"),
        entry("Pokrovsk", 61.479, 129.139, "RU", 9_763, "63"),
        entry("Engels", 51.484, 46.105, "RU", 196_011, "67", ("Pokrovsk",)),
        entry("Donetsk", 48.023, 37.802, "UA", 901_645, "05"),
        entry("Donetsk", 48.337, 39.952, "RU", 50_851, "61"),
        entry("Moscow", 55.752, 37.618, "RU", 10_381_222, "48"),
        entry("Kyiv", 50.455, 30.524, "UA", 2_952_301, "12"),
        entry("Oktyabr\u2019skoye", 54.412, 62.732, "RU", 0, "13", ("Oktyabrskoe",)),
        entry("Shakhove", 48.460, 37.350, "UA", 899, "05", ("Oktyabrskoe",)),
        entry("Lipetsk", 52.588, 39.552, "RU", 509_735, "43"),
        entry("Telegraph", 31.0, -98.0, "US", 900, "TX"),
        entry("Many", 31.56, -93.48, "US", 2_800, "LA"),
        entry("Syracuse", 43.048, -76.147, "US", 144_142, "NY"),
        entry("Siracusa", 37.075, 15.286, "IT", 121_605, "15", ("Syracuse",)),
        entry("Buffalo", 42.886, -78.878, "US", 258_071, "NY"),
        entry("Buffalo", 45.172, -93.875, "US", 16_026, "MN"),
        entry("Erie", 42.129, -80.085, "US", 99_475, "PA"),
        entry("Erie", 40.050, -105.050, "US", 21_420, "CO"),
        entry("Leeds", 53.797, -1.548, "GB", 536_280, "ENG"),
        entry("Leeds", 33.548, -86.544, "US", 11_936, "AL"),
        entry("Harwell", 51.600, -1.293, "GB", 1_998, "ENG"),
        entry("Munich", 48.135, 11.582, "DE", 1_505_005, "02"),
    ]
)

KURSK_LIKE = """Russia sends reinforcements to Kursk
Vladimir Putin rushed reinforcements to Kursk on Friday as Moscow\u2019s forces regrouped.
Moscow declared a state of emergency in the Kursk region, The Telegraph reported.
Military and political officials in Kyiv have remained tight-lipped.
Russia\u2019s troops and Ukraine\u2019s troops fought on in the war as drones struck.
Britain\u2019s Ministry of Defence said Russian soldiers were within 10 miles of \
Pokrovsk, a key Ukrainian garrison town in the Donetsk region.
The Telegraph geolocated the clips to the Russian town of Oktyabr\u2019skoe.
The convoy was travelling to the settlement of Korenevo about 12 miles away.
Many dead were reported, a Russian Telegram channel wrote.
Ukraine\u2019s SBU attacked Russia\u2019s Lipetsk air base overnight.
"""


def run(
    text: str, publisher: str = "The Telegraph"
) -> tuple[dict[str, PlaceDraft], list[Unresolved]]:
    article = read_article(text)
    claimants = attribute(article, publisher)
    places, unresolved = resolve(article, claimants, publisher, GAZETTEER)
    return {p.name: p for p in places}, unresolved


def test_kursk_like_places() -> None:
    places, unresolved = run(KURSK_LIKE)
    assert set(places) == {
        "Kursk region",
        "Pokrovsk",
        "Donetsk region",
        "Korenevo",
        "Lipetsk air base",
    }
    assert places["Korenevo"].lat == 51.411  # the one near the others, not near Moscow
    assert places["Korenevo"].region == "Kursk region, Russia"
    assert places["Pokrovsk"].region == "Donetsk region, Ukraine"
    assert places["Pokrovsk"].lat == 48.28  # Ukraine's, not Yakutia's or Engels (old name)
    assert places["Pokrovsk"].what == "a key Ukrainian garrison town in the Donetsk region"
    assert places["Donetsk region"].lat == 48.023
    assert "region" in (places["Kursk region"].note or "")
    assert "air base" in (places["Lipetsk air base"].note or "")
    assert [u.name for u in unresolved] == ["Oktyabr\u2019skoe"]


def test_metonyms_are_not_places() -> None:
    places, _ = run(KURSK_LIKE)
    assert "Moscow" not in places and "Kyiv" not in places


def test_words_that_are_also_place_names_are_not_places() -> None:
    places, unresolved = run(KURSK_LIKE)
    assert "Many" not in places and "Telegraph" not in places
    assert not any(u.name in ("Many", "Telegraph") for u in unresolved)


def test_the_sentence_country_beats_a_nearer_namesake() -> None:
    # Shakhove (Ukraine) once was "Oktyabrskoe" and lies near Pokrovsk, but the article says
    # "the Russian town of": the Russian namesake is 2,000 km away, so the name stays unresolved.
    _places, unresolved = run(KURSK_LIKE)
    [item] = unresolved
    assert "km from the article's other places" in item.reason
    assert item.quote.endswith("Oktyabr\u2019skoe")


def test_a_name_not_in_the_gazetteer_is_reported_not_guessed() -> None:
    places, unresolved = run(
        "Flood scheme opens\nWork on the flood defence scheme in Kirkstall will finish in spring.\n"
        "The scheme protects homes in Leeds.\n"
    )
    assert set(places) == {"Leeds"}
    assert [(u.name, u.reason) for u in unresolved] == [
        ("Kirkstall", "not in the offline gazetteer")
    ]


def test_state_and_distance_pick_the_namesake() -> None:
    places, _ = run(
        "Storm\nThe storm hit Buffalo on Sunday.\n"
        "Another 12 inches could fall near Erie, Pennsylvania, on Monday.\n"
        "Temperatures will fall overnight in Syracuse.\n",
        publisher="Great Lakes Daily",
    )
    assert places["Erie"].lat == 42.129 and places["Erie"].region == "Pennsylvania, US"
    assert places["Buffalo"].lat == 42.886
    assert places["Syracuse"].lat == 43.048  # the US one: no country named, the others are US


def test_a_county_resolves_to_the_namesake_near_the_story() -> None:
    places, unresolved = run(
        "Storm\nThe storm hit Buffalo and Erie on Sunday.\nMost cuts were in Erie County.\n",
        publisher="Great Lakes Daily",
    )
    county = places["Erie County"]
    assert (county.lat, county.lon) == (42.8865, -78.8784)  # New York's, whose seat is Buffalo
    assert county.region == "New York, US" and "Buffalo" in (county.note or "")
    assert unresolved == []


def test_company_names_are_not_places() -> None:
    places, _ = run(
        "Jobs\nHarwell Motors will cut jobs at its plant in Leeds.\n"
        "Shares in Harwell fell 7.5% as its rival, based in Munich, gained.\n",
        publisher="Business Post",
    )
    assert set(places) == {"Leeds", "Munich"}


def test_a_council_names_its_place() -> None:
    places, _ = run("Budget\nLeeds City Council has approved a budget.\n", publisher="Courier")
    assert set(places) == {"Leeds"}


def test_debris_names_never_become_places() -> None:
    places, unresolved = run(
        "Budget\nThe budget protects bins in Leeds.\nRelated articles\nBuffalo schools face cuts\n"
        "Munich market reopens\n",
        publisher="Courier",
    )
    assert set(places) == {"Leeds"} and unresolved == []


def test_a_state_is_pinned_at_its_capital() -> None:
    places, _ = run(
        "Heat\nSchools in Kerala will stay closed, India's weather office said on Monday.\n",
        publisher="Wire",
    )
    kerala = places["Kerala"]
    assert (kerala.lat, kerala.lon) == (8.4855, 76.9492)  # Thiruvananthapuram, not Kozhikode
    assert "Thiruvananthapuram, its capital" in (kerala.note or "")
    assert not [c for c in kerala.comments if c.startswith("review: no capital")]
    places, _ = run(
        "Storms\nCrews in California braced for storms, US forecasters said.\n"
        "Snow closed roads across New York state.\n",
        publisher="Wire",
    )
    assert "Sacramento, its capital" in (places["California"].note or "")  # not Los Angeles
    assert "Albany, its capital" in (places["New York state"].note or "")  # not New York City


def test_a_region_without_a_marked_capital_says_so() -> None:
    # GeoNames marks no seat in Vermont's cities15000 rows (Montpelier is too small for them)
    places, _ = run("Snow\nSchools across Vermont stay shut, US forecasters said.\n")
    vermont = places["Vermont"]
    assert "not necessarily its capital" in (vermont.note or "")
    assert any(c.startswith("review: no capital") for c in vermont.comments)


def test_a_capital_outside_its_state_is_still_its_capital() -> None:
    places, _ = run("Heat\nSchools in Punjab stay shut, India's weather office said.\n")
    punjab = places["Punjab"]
    assert "Chandigarh, its capital" in (punjab.note or "")  # a territory of its own
    assert not [c for c in punjab.comments if c.startswith("review: no capital")]
