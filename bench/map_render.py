"""Cold render time of ``/where`` maps (a new, empty cache directory for every render).

    python -m bench map_render [--runs 30]

Prints median and p99 for the full Kursk-like map (8 places, 4 shaded oblasts) and for the map
zoomed on Korenevo; the one-off cost of the first map in a fresh process (loading the Natural
Earth clip and the fonts), measured in a subprocess; and a cache hit for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.digest.model import Digest
from bot.maps import MapMaker
from bot.maps.geodata import geodata
from tests.maps.sample import KURSK_LIKE, make_digest

FIRST_IN_PROCESS = """
import time
t0 = time.perf_counter()
import tempfile
from pathlib import Path
from bench.map_render import kursk_digest
from bot.maps import MapMaker
digest = kursk_digest()
t1 = time.perf_counter()
MapMaker(Path(tempfile.mkdtemp())).picture(digest)
print(f"{(time.perf_counter() - t1) * 1000:.1f} {(t1 - t0) * 1000:.1f}")
"""


def kursk_digest() -> Digest:
    """The Kursk digest's places, built directly: the benchmark times the map, not the loader."""
    return make_digest(
        KURSK_LIKE, "kursk-incursion-2024-08-09", "Ukraine's Kursk incursion, day four"
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench map_render", description=__doc__)
    parser.add_argument("--runs", type=int, default=30, help="renders per map (default 30)")
    args = parser.parse_args(argv)

    root = Path(__file__).resolve().parents[1]
    fresh = subprocess.run(
        [sys.executable, "-c", FIRST_IN_PROCESS],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    first_ms, import_ms = (float(v) for v in fresh.stdout.split())
    print(
        f"first map in a fresh process: {first_ms:.0f} ms "
        f"(includes loading borders + fonts; imports before it: {import_ms:.0f} ms)"
    )

    started = time.perf_counter()
    geodata()
    print(f"loading the Natural Earth clip alone: {(time.perf_counter() - started) * 1000:.0f} ms")

    digest = kursk_digest()
    korenevo = next(p for p in digest.places if p.name == "Korenevo")
    MapMaker(Path(tempfile.mkdtemp())).picture(digest)  # warm fonts, as a running bot has them
    with tempfile.TemporaryDirectory() as scratch:
        for label, focus in (("full Kursk-like map", None), ("zoomed on Korenevo", korenevo)):
            times = []
            size = 0
            for i in range(args.runs):
                maker = MapMaker(Path(scratch) / f"{label[:4]}-{i}")
                t0 = time.perf_counter()
                path = maker.picture(digest, focus)
                times.append((time.perf_counter() - t0) * 1000)
                size = path.stat().st_size
            t0 = time.perf_counter()
            maker.picture(digest, focus)
            hit = (time.perf_counter() - t0) * 1000
            print(
                f"{label}: cold render median {statistics.median(times):.0f} ms, "
                f"p99 {percentile(times, 99):.0f} ms over {args.runs} runs "
                f"(new cache dir each; PNG {size / 1000:.0f} kB); cache hit {hit:.2f} ms"
            )
