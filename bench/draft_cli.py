"""The whole ``digest-bot draft`` process, cold: ``python -m bench draft_cli [-n N] [ARTICLE …]``.

What an editor waits for: a fresh interpreter starts, imports the CLI and the drafter, drafts
the article and writes the YAML. Each article is drafted N times (default 9) in new processes,
after one run that is not counted (it leaves the gazetteer index and the byte-code on disk, as
any earlier run would). Printed per article: wall time (min, median, max) and CPU time (user +
system, median) in milliseconds, beside the target. Default articles: the Kursk article (the
longest) and two fixtures. ``bench draft_score`` times ``draft()`` alone.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = [
    ROOT / "tests" / "data" / "kursk" / "articles" / "kursk-2024-08-09.txt",
    ROOT / "tests" / "draft" / "fixtures" / "articles" / "heatwave-india.txt",
    ROOT / "tests" / "draft" / "fixtures" / "articles" / "football.txt",
]
TARGET_MS = 300.0


def command() -> list[str]:
    """The installed ``digest-bot`` script beside this interpreter, else ``python -m bot``."""
    script = Path(sys.executable).with_name("digest-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(article: Path, folder: Path) -> tuple[float, float]:
    """Wall and CPU milliseconds of one ``digest-bot draft ARTICLE -o …`` process."""
    output = folder / "draft.yaml"
    output.unlink(missing_ok=True)
    argv = [*command(), "draft", str(article), "--publisher", "Bench", "--published", "2024-08-09"]
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run([*argv, "-o", str(output)], cwd=folder, check=True, capture_output=True)
    wall = time.perf_counter() - started
    return 1000 * wall, 1000 * (_children_cpu() - cpu)


def measure(article: Path, runs: int) -> tuple[list[float], list[float]]:
    folder = Path(tempfile.mkdtemp(prefix="draft-cli-"))
    try:
        copy = folder / "articles" / article.name
        copy.parent.mkdir()
        shutil.copyfile(article, copy)
        run_once(copy, folder)  # not counted
        walls, cpus = zip(*(run_once(copy, folder) for _ in range(runs)), strict=True)
        return list(walls), list(cpus)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench draft_cli")
    parser.add_argument("-n", "--runs", type=int, default=9, help="counted runs per article")
    parser.add_argument("articles", nargs="*", type=Path, help="article texts (default: three)")
    args = parser.parse_args(argv)
    name = " ".join(Path(c).name for c in command())
    print(f"draft_cli: the whole `{name} draft` process, cold, {args.runs} runs per article")
    print(f"after one uncounted; target: median wall <= {TARGET_MS:.0f} ms")
    print(f"{'article':<28}{'wall min':>9}{'median':>8}{'max':>7}{'cpu median':>11}  target")
    medians = []
    for article in args.articles or ARTICLES:
        walls, cpus = measure(article.resolve(), args.runs)
        median = statistics.median(walls)
        medians.append(median)
        verdict = "met" if median <= TARGET_MS else "NOT met"
        print(
            f"{article.stem[:27]:<28}{min(walls):>9.0f}{median:>8.0f}{max(walls):>7.0f}"
            f"{statistics.median(cpus):>11.0f}  {verdict} ({TARGET_MS:.0f} ms)"
        )
    print(f"largest median: {max(medians):.0f} ms (target {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main(sys.argv[1:])
