"""Answer + render latency, cold load+verify time and memory, on the Kursk digest.

    python -m bench answers [--digests 5000] [--cold 1000] [--repeat 2000]

Prints p50/p99 of answer()+render() for the command mix on the Kursk digest alone and with
N generated digests loaded (copies of Kursk under new ids, each verified against its article);
the cold load+verify time of 1,000 digest files; and RSS with 1,000 loaded (a fresh process).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.commands.base import parse
from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.reply import plain as render

ROOT = Path(__file__).resolve().parents[1]
KURSK = ROOT / "digests" / "kursk-2024-08-09.yaml"
KURSK_ID = "kursk-incursion-2024-08-09"
MIX = [
    "/summary",
    "/summary 5 quotes:yes",
    "/figures",
    "/figures soldiers",
    "/where",
    "/where Korenevo",
    "/sources",
    "/digests",
]


def make_folder(folder: Path, count: int) -> None:
    """``count`` digests: the Kursk one plus copies with new ids and dates, one shared article."""
    (folder / "articles").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "digests" / "articles" / "kursk-2024-08-09.txt", folder / "articles")
    text = KURSK.read_text("utf-8")
    (folder / KURSK.name).write_text(text, "utf-8")
    for i in range(1, count):
        copy = text.replace(f"id: {KURSK_ID}", f"id: generated-{i:05d}").replace(
            "published: 2024-08-09", f"published: 2023-{1 + i % 12:02d}-{1 + i % 28:02d}"
        )
        (folder / f"generated-{i:05d}.yaml").write_text(copy, "utf-8")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def latency(library: Library, repeat: int) -> tuple[float, float]:
    requests = [parse(line) for line in MIX]
    answer = Commands(library).answer_now
    samples: list[float] = []
    for i in range(repeat):
        request = requests[i % len(requests)]
        start = time.perf_counter()
        reply = answer(request)
        render(reply)
        samples.append((time.perf_counter() - start) * 1000)
        assert reply.error is None, reply.error
    return percentiles(samples)


def rss_child(folder: str) -> None:
    def rss_kib() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    before = rss_kib()
    library = Library(Path(folder))
    library.refresh()
    print(json.dumps({"before": before, "after": rss_kib(), "count": len(library.all())}))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench answers")
    parser.add_argument("--digests", type=int, default=5000)
    parser.add_argument("--cold", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child)
        return

    one = Library(KURSK.parent)
    one.refresh()
    p50, p99 = latency(one, args.repeat)
    print(f"answer+render, Kursk only:          p50 {p50:.3f} ms  p99 {p99:.3f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        cold = Path(tmp) / "cold"
        make_folder(cold, args.cold)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            library = Library(cold)
            library.refresh()
            runs.append(time.perf_counter() - start)
            assert len(library.all()) == args.cold
        median = statistics.median(runs)
        print(
            f"cold load+verify of {args.cold} digests: median {median:.2f} s over 3 runs "
            f"({median / args.cold * 1000:.2f} ms per digest)"
        )
        child = subprocess.run(
            [sys.executable, "-m", "bench", "answers", "--rss-child", str(cold)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        rss = json.loads(child.stdout)
        print(
            f"RSS with {rss['count']} loaded:            {rss['after'] / 1024:.1f} MiB "
            f"(after imports {rss['before'] / 1024:.1f} MiB; "
            f"{(rss['after'] - rss['before']) / rss['count']:.1f} KiB per digest)"
        )

        many = Path(tmp) / "many"
        make_folder(many, args.digests)
        big = Library(many)
        big.refresh()
        assert len(big.all()) == args.digests
        p50, p99 = latency(big, args.repeat)
        print(f"answer+render, {args.digests} loaded:      p50 {p50:.3f} ms  p99 {p99:.3f} ms")
