"""Fixture articles written for these tests (fiction; no publisher's text is copied)."""

from __future__ import annotations

from html import escape

FERRY = (
    "Ferry service to Carrow Island suspended after hull damage",
    [
        "The ferry between Portwell and Carrow Island was suspended on Tuesday after its hull "
        "was damaged on rocks near the harbour mouth.",
        "The operator, Westway Ferries, said 212 passengers were brought ashore by lifeboat "
        "and that nobody was hurt.",
        "The island council claimed that up to 40 businesses would lose trade while the "
        "crossing stayed closed.",
        "Repairs are expected to take about three weeks, according to the harbour master.",
        "Residents of Carrow Island rely on the crossing for food deliveries and for "
        "hospital appointments on the mainland.",
    ],
)

BRIDGE = (
    "Old Mill bridge to close for eight months of repairs",
    [
        "The Old Mill bridge in Hallam will close to traffic next month for repairs that are "
        "expected to last eight months.",
        "The county highways department said the work would cost 4.2 million pounds and "
        "would replace the bridge's corroded steel beams.",
        "A group of shopkeepers on Mill Street claimed that at least 30 shops would lose "
        "customers during the closure.",
        "Buses will be diverted through the ring road, adding about 15 minutes to each "
        "journey, the bus company said.",
    ],
)


def page(headline: str, paragraphs: list[str], *, charset: str = "utf-8") -> str:
    """A news page with the clutter real pages have: navigation, share links, a footer."""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="{charset}">
<title>{escape(headline)} | The Portwell Post</title></head>
<body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<main><article>
<h1>{escape(headline)}</h1>
<p class="byline">By Staff Reporter</p>
{body}
</article></main>
<aside><h2>Most read</h2><ul><li><a href="/x">Another headline</a></li></ul></aside>
<footer>Copyright The Portwell Post. All rights reserved.</footer>
</body></html>
"""


def numbered(n: int) -> tuple[str, list[str]]:
    """The n-th of many distinct small articles (for dedup and the ingest benchmark)."""
    return (
        f"Harbour report number {n}: the tide gauge at berth {n} was replaced",
        [
            f"The harbour authority replaced the tide gauge at berth {n} on Monday after it "
            f"failed during a storm, a spokesperson said.",
            f"Engineers said the new gauge cost about {n + 1000} pounds and would report the "
            f"water level every {n % 9 + 1} minutes.",
            "Fishermen's representatives claimed that at least 12 boats had been delayed "
            "while the old gauge was out of action.",
        ],
    )
