"""``python -m bot ingest URL|FILE …`` and ``python -m bot review list|show|approve|reject``.

Both work on the configured database and digests folder, so a reviewer at a terminal and the
running bot share one queue: whoever decides first wins, and the other is told.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # The queue and its store (SQLAlchemy) load only for `ingest` and `review`, fetching and
    # extraction only for `ingest`: the bot's parser imports this module on every start.
    from bot.config import Config
    from bot.pipeline.ingest import Outcome
    from bot.pipeline.queue import DraftRow, Queue


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-08-09") from None


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="URL|FILE", help="an article page or feed URL, or a file")
    parser.add_argument("--publisher", help="who published it (a FILE needs it)")
    parser.add_argument(
        "--published", type=_date, metavar="YYYY-MM-DD", help="publication date (default: found)"
    )


def add_review_arguments(
    parser: argparse.ArgumentParser, common: argparse.ArgumentParser | None = None
) -> None:
    """``common``: the parent parser with the options every subcommand takes (``--config``)."""
    parents = [common] if common is not None else []
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser(
        "list", parents=parents, help="open drafts, recent decisions and ingest problems"
    )
    listing.add_argument("--all", action="store_true", help="every draft, decided ones too")
    show = sub.add_parser(
        "show", parents=parents, help="one draft: its items, claimants and review notes"
    )
    show.add_argument("id", type=int, metavar="ID")
    yes = sub.add_parser("approve", parents=parents, help="approve a draft: it goes live at once")
    yes.add_argument("id", type=int, metavar="ID")
    yes.add_argument("--as", dest="name", required=True, metavar="NAME", help="who approves")
    no = sub.add_parser("reject", parents=parents, help="reject a draft, saying why")
    no.add_argument("id", type=int, metavar="ID")
    no.add_argument("--as", dest="name", required=True, metavar="NAME", help="who rejects")
    no.add_argument("--why", required=True, metavar="TEXT", help="the reason, for the record")


def _report(outcome: Outcome) -> int:
    for row in outcome.queued:
        flag = f" [{row.flag}]" if row.flag else ""
        print(f"draft {row.id}: {row.title} ({row.digest_id}, revision {row.revision}){flag}")
    for line in outcome.problems:
        print(f"error: {line}", file=sys.stderr)
    if not outcome.queued and not outcome.problems:
        print(f"nothing new ({outcome.known} already queued or unchanged)")
    return 2 if outcome.problems and not outcome.queued else 0


async def _ingest(args: argparse.Namespace, config: Config, queue: Queue) -> Outcome:
    from bot.pipeline.fetch import Fetcher
    from bot.pipeline.ingest import IngestError, Ingestor

    fetcher = Fetcher()
    try:
        ingestor = Ingestor(queue, fetcher, config.digests, expire=config.review.expire)
        source: str = args.source
        if source.startswith(("http://", "https://")):
            return await ingestor.ingest_url(source, args.publisher, args.published)
        if not args.publisher:
            raise IngestError("a FILE needs --publisher (who published the article)")
        return await ingestor.ingest_file(Path(source), args.publisher, args.published)
    finally:
        await fetcher.close()


def ingest(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from bot.pipeline.ingest import IngestError
    from bot.pipeline.queue import Queue
    from bot.schedules.store import Store

    store = Store(config.database_url)
    try:
        outcome = asyncio.run(_ingest(args, config, Queue(store.engine)))
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return _report(outcome)


def show(row: DraftRow) -> str:
    head = [
        f"draft {row.id}: {row.title}",
        f"digest {row.digest_id}, revision {row.revision}" + (f" [{row.flag}]" if row.flag else ""),
        f"publisher {row.publisher}" + (f", {row.url}" if row.url else ""),
        f"article text digests/{row.article}",
        f"state: {row.decision()}",
        "",
    ]
    return "\n".join(head) + row.yaml


def listing(queue: Queue, *, everything: bool = False) -> list[str]:
    from bot.pipeline.board import summary_line
    from bot.pipeline.queue import ALL_STATES, utcnow

    now = utcnow()
    queue.expire(now)
    rows = queue.listed(ALL_STATES if everything else ("draft",))
    lines = [summary_line(r) for r in rows] or ["no drafts waiting for review"]
    problems = queue.problems()
    if problems:
        lines.append("")
        lines.append(f"ingest problems ({len(problems)}):")
        for problem in problems:
            times = f" ({problem.count} times)" if problem.count > 1 else ""
            lines.append(f"  {problem.message}{times}")
    return lines


def review(args: argparse.Namespace, config: Config) -> int:
    from bot.pipeline.queue import Queue, ReviewError, utcnow
    from bot.pipeline.review import NotApprovable, approve, publish_pending, reject
    from bot.schedules.store import Store

    store = Store(config.database_url)
    queue = Queue(store.engine)
    try:
        for done in publish_pending(queue, config.digests, utcnow()):
            print(f"finished an interrupted approval: {done.path}", file=sys.stderr)
        if args.action == "list":
            print("\n".join(listing(queue, everything=args.all)))
            return 0
        if args.action == "show":
            row = queue.get(args.id)
            if row is None:
                raise ReviewError(f"no draft {args.id} — `review list` shows the open ones")
            print(show(row), end="")
            return 0
        if args.action == "approve":
            approved = approve(
                queue, config.digests, args.id, by=args.name, via="cli", now=utcnow()
            )
            print(f"approved draft {args.id}: {approved.path} is live ({approved.row.decision()})")
            if approved.correction is not None:
                print(f"correction recorded: {approved.correction.what}")
            return 0
        row = reject(queue, args.id, by=args.name, why=args.why, via="cli", now=utcnow())
        print(f"rejected draft {row.id} ({row.decision()})")
        return 0
    except NotApprovable as exc:
        print(f"error: draft {args.id} fails `check` and cannot be approved:", file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
