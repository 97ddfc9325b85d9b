"""A year of digests: ``python -m bench archive [--digests 20000] [--repeat 2000]``.

Generates N digests (default 20,000: a year at 55 a day), each with its own article — distinct
texts, numbers and places, not copies of one — plus the Kursk digest as the newest, into a
temporary folder. Each generated digest has 4 summary points, 6 figures, 3 places and 4 sources
quoting a 15-sentence article (about a third of the Kursk digest). Prints, each in a fresh
process: the cold load+verify time (empty cache) and the restart time (cache filled by the cold
run), wall and CPU, with RSS after each; then, with the library loaded, p50/p99 of
answer()+render() for the command mix of ``bench answers`` (on the Kursk digest, the newest) and
of ``/digests`` autocomplete for a spread of partial ids.

Targets (issue 16): first load ≤ 20 s, restart ≤ 3 s, RSS ≤ 300 MiB, answer p99 ≤ 1 ms,
autocomplete p99 ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from bench.answers import KURSK, MIX, ROOT, percentiles, rss_kib
from bot.commands.base import parse
from bot.commands.registry import Commands
from bot.digest.library import Library
from bot.draft.emit import quoted, scalar
from bot.reply import plain as render

_FIRST = [
    "Ash",
    "Bram",
    "Kel",
    "Mor",
    "Dun",
    "Fen",
    "Hol",
    "Lin",
    "Tor",
    "Wes",
    "Cal",
    "Pen",
    "Ros",
    "Har",
    "Elm",
    "Gar",
    "Nor",
    "Sel",
    "Tre",
    "Vel",
]
_LAST = [
    "well",
    "ford",
    "ton",
    "by",
    "ham",
    "mouth",
    "stead",
    "bridge",
    "field",
    "wick",
    "moor",
    "dale",
    "port",
    "combe",
    "gate",
]
_REGIONS = ["Northshire", "Eastmoor", "Westvale", "Southcombe", "the Lowlands", "the Fells"]
_PUBLISHERS = ["The Portwell Post", "The Northshire Courier", "Valley Times", "The Coast Herald"]
_TOPICS = {
    "storm": ("storm", "homes", "damaged", "the coastguard", "official"),
    "flood": ("flood", "properties", "flooded", "the environment agency", "agency"),
    "strike": ("strike", "workers", "on strike", "the union", "other"),
    "budget": ("budget", "posts", "cut", "the council", "official"),
    "fire": ("fire", "hectares", "burned", "the fire service", "official"),
    "outbreak": ("outbreak", "patients", "treated", "the health board", "official"),
}
_QUALIFIERS = [None, None, "about", "up to", "more than", "at least"]


def _town(rng: random.Random) -> str:
    return rng.choice(_FIRST) + rng.choice(_LAST)


def _sentence(rng: random.Random, parts: list[str]) -> str:
    return " ".join(parts) + rng.choice([".", ".", ", officials said.", ", according to reports."])


def generate(index: int, published: date) -> tuple[str, str, str]:
    """(digest id, digest YAML, article text) for digest ``index``; the same index, the same."""
    rng = random.Random(index)
    topic = rng.choice(sorted(_TOPICS))
    event, things, verb, claimant, kind = _TOPICS[topic]
    towns: list[str] = []
    while len(towns) < 4:
        town = _town(rng)
        if town not in towns:
            towns.append(town)
    publisher = rng.choice(_PUBLISHERS)
    region = rng.choice(_REGIONS)
    digest_id = f"{topic}-{towns[0].lower()}-{published.isoformat()}-{index:05d}"
    headline = f"{event.capitalize()} hits {towns[0]}: {things} {verb}"
    facts: list[tuple[str, int, str | None, str, str]] = []  # label, value, qualifier, unit, quote
    sentences = [headline]
    used: set[int] = set()
    for n in range(14):
        value = rng.randrange(3, 9000)
        while value in used:
            value = rng.randrange(3, 9000)
        used.add(value)
        qualifier = rng.choice(_QUALIFIERS)
        town = towns[n % len(towns)]
        said = rng.choice(["said", "reported", "confirmed", "estimated"])
        number = f"{qualifier} {value:,}" if qualifier else f"{value:,}"
        quote = f"{number} {things} were {verb} in {town}"
        sentences.append(_sentence(rng, [f"{claimant.capitalize()} {said} that {quote}"]))
        if n % 2 == 0:
            sentences.append(
                _sentence(
                    rng,
                    [
                        f"Residents of {town} in {region} described the {event} as the worst",
                        f"since {rng.randrange(1950, 2020)}, and {rng.randrange(2, 40)} roads",
                        f"stayed closed on day {rng.randrange(2, 9)} ({index:05d}-{n})",
                    ],
                )
            )
        facts.append((f"{things.capitalize()} {verb} in {town}", value, qualifier, things, quote))
    article = "\n".join(sentences) + "\n"
    src = {"paper": publisher, "claim": claimant.capitalize(), "mayor": f"The mayor of {towns[0]}"}
    lines = [
        "schema: 1",
        f"id: {digest_id}",
        f"title: {scalar(headline)}",
        f"published: {published.isoformat()}",
        "article:",
        f"  publisher: {scalar(publisher)}",
        f"  headline: {scalar(headline)}",
        "  url: null",
        f"  text: articles/{digest_id}.txt",
        "sources:",
        f"  paper: {{name: {scalar(src['paper'])}, kind: publisher}}",
        f"  claim: {{name: {scalar(src['claim'])}, kind: {kind}}}",
        f"  mayor: {{name: {scalar(src['mayor'])}, kind: official}}",
        f"  residents: {{name: Residents of {towns[0]}, kind: other, side: residents}}",
        "summary:",
    ]
    for label, _value, _qualifier, _unit, quote in facts[:4]:
        lines += [
            f"  - text: {scalar(label + ', as ' + claimant + ' reported.')}",
            "    source: claim",
            f"    quote: {quoted(quote)}",
        ]
    lines.append("figures:")
    for label, value, qualifier, unit, quote in facts[4:10]:
        lines += [f"  - label: {scalar(label)}", f"    value: {value}"]
        if qualifier:
            lines.append(f"    qualifier: {qualifier}")
        lines += [
            f"    unit: {unit}",
            f"    status: {rng.choice(['reported', 'estimate', 'claim'])}",
            "    source: claim",
            f"    quote: {quoted(quote)}",
        ]
    lines.append("places:")
    for town in towns[:3]:
        lines += [
            f"  - name: {town}",
            f"    region: {scalar(region)}",
            f"    lat: {rng.uniform(49.9, 58.6):.4f}",
            f"    lon: {rng.uniform(-6.3, 1.7):.4f}",
            f"    what: {scalar('where ' + things + ' were ' + verb)}",
            "    source: paper",
            f"    quote: {quoted(things + ' were ' + verb + ' in ' + town)}",
        ]
    return digest_id, "\n".join(lines) + "\n", article


def make_archive(folder: Path, count: int) -> None:
    """``count`` generated digests over the year before the Kursk digest, and Kursk itself."""
    articles = folder / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    shutil.copy(KURSK, folder / KURSK.name)
    shutil.copy(KURSK.parent / "articles" / "kursk-2024-08-09.txt", articles)
    last = date(2024, 8, 8)
    for index in range(count):
        published = last - timedelta(days=index * 365 // count)
        digest_id, text, article = generate(index, published)
        (articles / f"{digest_id}.txt").write_text(article, "utf-8")
        (folder / f"{digest_id}.yaml").write_text(text, "utf-8")


def child(folder: str, cache: str) -> None:
    """One start of the bot's library, in a fresh process: its time and its memory."""
    before = rss_kib()
    started, cpu = time.perf_counter(), time.process_time()
    library = Library(Path(folder), cache=Path(cache))
    changes = library.refresh()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert not changes.problems, changes.problems[:3]
    after, count = rss_kib(), len(library.all())
    print(
        json.dumps(
            {"seconds": seconds, "cpu": cpu, "before": before, "after": after, "count": count}
        )
    )


def _start(folder: Path, cache: Path) -> dict[str, float]:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "archive", "--child", str(folder), str(cache)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(run.stdout)
    return result


def timed(calls: list[Callable[[], object]], repeat: int) -> str:
    """p50/p99 of wall time, and p99 of the thread's CPU time (which a busy machine's other
    processes do not inflate: a wall-time p99 far above it is time spent waiting for a core)."""
    wall: list[float] = []
    cpu: list[float] = []
    for n in range(repeat):
        started, cpu_started = time.perf_counter(), time.thread_time()
        calls[n % len(calls)]()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
    p50, p99 = percentiles(wall)
    return f"p50 {p50:.3f} ms  p99 {p99:.3f} ms (CPU p99 {percentiles(cpu)[1]:.3f} ms)"


def _answer(commands: Commands, line: str) -> Callable[[], object]:
    request = parse(line)

    def call() -> object:
        reply = commands.answer_now(request)
        assert reply.error is None, reply.error
        return render(reply)

    return call


def _partials(library: Library) -> list[str]:
    ids = library.ids()
    rng = random.Random(0)
    partials = ["", "s", "st", "flood-", "zzz", "2024-03", "kursk"]
    partials += [i[: rng.randrange(1, len(i))] for i in rng.sample(ids, 50)]
    return partials + [i[5:12] for i in rng.sample(ids, 20)]  # the middle of an id


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench archive")
    parser.add_argument("--digests", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder, cache = Path(tmp) / "digests", Path(tmp) / "cache"
        started = time.perf_counter()
        make_archive(folder, args.digests)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(
            f"generated {args.digests:,} digests with distinct articles + Kursk "
            f"({size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s"
        )
        for what, target in (("cold load+verify", 20), ("restart with cache", 3)):
            run = _start(folder, cache)
            print(
                f"{what:<19} {run['count']:,.0f} digests: {run['seconds']:6.2f} s "
                f"({run['cpu']:.2f} s CPU; target ≤ {target} s)   "
                f"RSS {run['after'] / 1024:.0f} MiB "
                f"(after imports {run['before'] / 1024:.0f} MiB; target ≤ 300 MiB)"
            )
        library = Library(folder, cache=cache)
        library.refresh()
        gc.collect()  # the one collection after a start: not part of any answer
        commands = Commands(library)
        answers = timed([_answer(commands, line) for line in MIX], args.repeat)
        print(f"answer+render ({len(library.all()):,} loaded): {answers} (target p99 ≤ 1 ms)")
        suggest = functools.partial(commands.suggest, "digest")
        completions = [functools.partial(suggest, p) for p in _partials(library)]
        print(f"/digests autocomplete:       {timed(completions, args.repeat)} (target p99 ≤ 5 ms)")
