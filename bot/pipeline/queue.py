"""The review queue's state: stories, their draft revisions, dedup keys, feed validators, problems.

Tables are defined here on their own ``MetaData`` and created on the store's engine, so the
pipeline's state lives in the same database as the ledger (``state.sqlite3`` or
``DATABASE_URL``) without the store knowing about it.

A *story* is one article, whatever feeds it came through; each time its text changes it gets a
new *revision*, and each revision is one draft with its own number (what reviewers type and what
the chat buttons carry). Decisions are compare-and-set on the row (``state = 'draft'``, not
expired, no newer revision): of two reviewers at once exactly one wins, and the other is told.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from bot.schedules import migrations

DraftState = Literal["draft", "approved", "rejected", "expired", "superseded"]
ALL_STATES: tuple[DraftState, ...] = get_args(DraftState)
Via = Literal["cli", "console", "discord", "matrix", "desk"]

metadata = MetaData()

stories = Table(
    "pipeline_stories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest_id", String(80), nullable=False, unique=True),
    Column("publisher", String(2000), nullable=False),
    Column("url", String(2000)),
    Column("page_etag", String(500)),
    Column("page_last_modified", String(100)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

drafts = Table(
    "pipeline_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("story_id", Integer, ForeignKey("pipeline_stories.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("yaml", Text, nullable=False),
    Column("article", String(500), nullable=False),  # the saved text, relative to digests/
    Column("text_hash", String(64), nullable=False),
    Column("title", String(2000), nullable=False),
    Column("flag", String(200), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", DateTime(timezone=True)),
    Column("via", String(16)),
    Column("reason", Text),
    Column("live_at", DateTime(timezone=True)),  # when digests/<id>.yaml was written
    UniqueConstraint("story_id", "revision"),
)

keys = Table(
    "pipeline_keys",
    metadata,
    Column("key", String(2100), primary_key=True),  # guid:…, link:…, hash:…
    Column("story_id", Integer, ForeignKey("pipeline_stories.id"), nullable=False),
    Column("version", String(64), nullable=False, default=""),  # the entry's updated time
)

feeds = Table(
    "pipeline_feeds",
    metadata,
    Column("url", String(2000), primary_key=True),
    Column("etag", String(500)),
    Column("last_modified", String(100)),
    Column("polled_at", DateTime(timezone=True)),
    Column("failures", Integer, nullable=False, default=0),
)

problems = Table(
    "pipeline_problems",
    metadata,
    Column("where", String(2000), primary_key=True),  # a feed or page URL, or a file
    Column("message", Text, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("count", Integer, nullable=False, default=1),
)


review_posts = Table(
    "pipeline_review_posts",
    metadata,
    Column("draft_id", Integer, ForeignKey("pipeline_drafts.id"), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("channel", String(255), nullable=False),
    Column("message_id", String(255), nullable=False),
)


class ReviewError(Exception):
    """One line for the reviewer: why this decision cannot be made."""


class AlreadyDecided(ReviewError):
    pass


class Superseded(ReviewError):
    pass


@dataclass(frozen=True)
class DraftRow:
    id: int
    story_id: int
    digest_id: str
    publisher: str
    url: str | None
    revision: int
    state: DraftState
    yaml: str
    article: str
    text_hash: str
    title: str
    flag: str
    created_at: datetime
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    via: str | None = None
    reason: str | None = None
    live_at: datetime | None = None

    def decision(self) -> str:
        """'approved by alice, 9 Aug 2024 14:05 UTC, via discord' — or the open state."""
        if self.state == "draft":
            return f"waiting for review (expires {_when(self.expires_at)})"
        if self.state == "expired":
            return f"expired {_when(self.expires_at)} unreviewed (never auto-approved)"
        if self.state == "superseded":
            return "superseded by a newer revision"
        who = f"{self.state} by {self.decided_by}"
        if self.decided_at is not None:
            who += f", {_when(self.decided_at)}"
        if self.via:
            who += f", via {self.via}"
        if self.reason:
            who += f": {self.reason}"
        return who


@dataclass(frozen=True)
class NewStory:
    digest_id: str
    publisher: str
    url: str | None


@dataclass(frozen=True)
class FeedState:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    polled_at: datetime | None = None
    failures: int = 0


@dataclass(frozen=True)
class ProblemRow:
    where: str
    message: str
    first_at: datetime
    last_at: datetime
    count: int


def _when(at: datetime) -> str:
    at = _aware(at)
    return f"{at.day} {at:%b %Y %H:%M} UTC"


def _aware(at: datetime) -> datetime:
    """SQLite hands datetimes back naive; every time here is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _row(mapping: Any) -> DraftRow:
    data = dict(mapping)
    for name in ("created_at", "expires_at", "decided_at", "live_at"):
        if data[name] is not None:
            data[name] = _aware(data[name])
    return DraftRow(**data)


_COLUMNS = (
    drafts.c.id,
    drafts.c.story_id,
    stories.c.digest_id,
    stories.c.publisher,
    stories.c.url,
    drafts.c.revision,
    drafts.c.state,
    drafts.c.yaml,
    drafts.c.article,
    drafts.c.text_hash,
    drafts.c.title,
    drafts.c.flag,
    drafts.c.created_at,
    drafts.c.expires_at,
    drafts.c.decided_by,
    drafts.c.decided_at,
    drafts.c.via,
    drafts.c.reason,
    drafts.c.live_at,
)


def _select() -> Any:
    return select(*_COLUMNS).join(stories, stories.c.id == drafts.c.story_id)


class Queue:
    """Blocking and short, like the store: async callers use ``asyncio.to_thread``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        migrations.create_all(engine, metadata)
        self._lock = threading.Lock()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._lock, self.engine.begin() as conn:
            yield conn

    # -- stories and dedup keys ---------------------------------------------------------------
    def find(self, candidates: Sequence[str]) -> tuple[int, str] | None:
        """The story one of these keys already belongs to, and that key's stored version."""
        if not candidates:
            return None
        with self._tx() as conn:
            for key in candidates:
                row = conn.execute(
                    select(keys.c.story_id, keys.c.version).where(keys.c.key == key)
                ).first()
                if row is not None:
                    return row.story_id, row.version
        return None

    def remember(self, story_id: int, candidates: Sequence[str], version: str = "") -> None:
        """Attach keys to a story (new ones), and record the entry version on all of them."""
        with self._tx() as conn:
            _remember(conn, story_id, candidates, version)

    def digest_taken(self, digest_id: str) -> bool:
        with self._tx() as conn:
            found = conn.execute(select(stories.c.id).where(stories.c.digest_id == digest_id))
            return found.first() is not None

    def story(self, story_id: int) -> dict[str, Any]:
        with self._tx() as conn:
            row = conn.execute(select(stories).where(stories.c.id == story_id)).one()
            return dict(row._mapping)

    def set_page_validators(
        self, story_id: int, etag: str | None, last_modified: str | None
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                update(stories)
                .where(stories.c.id == story_id)
                .values(page_etag=etag, page_last_modified=last_modified)
            )

    # -- drafts -------------------------------------------------------------------------------
    def latest(self, story_id: int) -> DraftRow | None:
        with self._tx() as conn:
            row = conn.execute(
                _select().where(drafts.c.story_id == story_id).order_by(drafts.c.revision.desc())
            ).first()
            return _row(row._mapping) if row else None

    def next_revision(self, story_id: int) -> int:
        with self._tx() as conn:
            found = conn.execute(
                select(func.max(drafts.c.revision)).where(drafts.c.story_id == story_id)
            ).scalar()
            return int(found or 0) + 1

    def add_draft(
        self,
        story_id: int | NewStory,
        revision: int,
        *,
        yaml: str,
        article: str,
        text_hash: str,
        title: str,
        now: datetime,
        expire: timedelta,
        remember: Sequence[str] = (),
        version: str = "",
    ) -> DraftRow:
        """Queue a revision (of a new story, made here); an open draft of the same story is
        superseded by it. The story, the draft and the dedup keys are one transaction: after a
        crash the entry is either queued and known, or neither."""
        with self._tx() as conn:
            if isinstance(story_id, NewStory):
                made = conn.execute(
                    insert(stories).values(
                        digest_id=story_id.digest_id,
                        publisher=story_id.publisher,
                        url=story_id.url,
                        created_at=now,
                    )
                ).inserted_primary_key
                assert made is not None
                story_id = int(made[0])
            previous = conn.execute(
                select(drafts.c.state)
                .where(drafts.c.story_id == story_id)
                .order_by(drafts.c.revision.desc())
            ).first()
            flag = ""
            if previous is not None:
                flag = "article updated"
                if previous.state == "approved":
                    flag += " after approval"
            conn.execute(
                update(drafts)
                .where(drafts.c.story_id == story_id, drafts.c.state == "draft")
                .values(state="superseded")
            )
            done = conn.execute(
                insert(drafts).values(
                    story_id=story_id,
                    revision=revision,
                    state="draft",
                    yaml=yaml,
                    article=article,
                    text_hash=text_hash,
                    title=title,
                    flag=flag,
                    created_at=now,
                    expires_at=now + expire,
                )
            )
            key = done.inserted_primary_key
            assert key is not None
            draft_id = int(key[0])
            _remember(conn, story_id, remember, version)
        found = self.get(draft_id)
        assert found is not None
        return found

    def get(self, draft_id: int) -> DraftRow | None:
        with self._tx() as conn:
            row = conn.execute(_select().where(drafts.c.id == draft_id)).first()
            return _row(row._mapping) if row else None

    def listed(self, states: Sequence[DraftState] = ("draft",)) -> list[DraftRow]:
        with self._tx() as conn:
            rows = conn.execute(
                _select().where(drafts.c.state.in_(tuple(states))).order_by(drafts.c.id)
            )
            return [_row(r._mapping) for r in rows]

    def newer(self, row: DraftRow) -> DraftRow | None:
        with self._tx() as conn:
            found = conn.execute(
                _select()
                .where(drafts.c.story_id == row.story_id, drafts.c.revision > row.revision)
                .order_by(drafts.c.revision.desc())
            ).first()
            return _row(found._mapping) if found else None

    def decide(
        self,
        draft_id: int,
        state: Literal["approved", "rejected"],
        *,
        by: str,
        via: Via,
        now: datetime,
        reason: str | None = None,
    ) -> DraftRow:
        """Compare-and-set ``draft`` → ``state``; raise ``ReviewError`` saying why not."""
        with self._tx() as conn:
            done = conn.execute(
                update(drafts)
                .where(
                    drafts.c.id == draft_id,
                    drafts.c.state == "draft",
                    drafts.c.expires_at > now,
                )
                .values(state=state, decided_by=by, decided_at=now, via=via, reason=reason)
            )
            won = bool(done.rowcount)
        row = self.get(draft_id)
        if row is None:
            raise ReviewError(f"no draft {draft_id} — `review list` shows the open ones")
        if won:
            return row
        raise refusal(row, now)

    def undo_approval(self, draft_id: int) -> None:
        """The digest could not be written after all: the draft is open again."""
        with self._tx() as conn:
            conn.execute(
                update(drafts)
                .where(drafts.c.id == draft_id, drafts.c.live_at.is_(None))
                .values(state="draft", decided_by=None, decided_at=None, via=None, reason=None)
            )

    def mark_live(self, draft_id: int, now: datetime) -> None:
        with self._tx() as conn:
            conn.execute(update(drafts).where(drafts.c.id == draft_id).values(live_at=now))

    def approved_not_live(self) -> list[DraftRow]:
        """Approvals a crash interrupted before the file was written: finished on start."""
        with self._tx() as conn:
            rows = conn.execute(
                _select()
                .where(drafts.c.state == "approved", drafts.c.live_at.is_(None))
                .order_by(drafts.c.id)
            )
            return [_row(r._mapping) for r in rows]

    def expire(self, now: datetime) -> list[int]:
        with self._tx() as conn:
            ids = [
                r.id
                for r in conn.execute(
                    select(drafts.c.id).where(drafts.c.state == "draft", drafts.c.expires_at <= now)
                )
            ]
            if ids:
                conn.execute(update(drafts).where(drafts.c.id.in_(ids)).values(state="expired"))
            return ids

    # -- review cards posted in chat ------------------------------------------------------------
    def review_post(self, draft_id: int, platform: str) -> tuple[str, str] | None:
        """(channel, message id) of the draft's card on ``platform``, if posted."""
        with self._tx() as conn:
            row = conn.execute(
                select(review_posts.c.channel, review_posts.c.message_id).where(
                    review_posts.c.draft_id == draft_id, review_posts.c.platform == platform
                )
            ).first()
            return (row.channel, row.message_id) if row else None

    def save_review_post(self, draft_id: int, platform: str, channel: str, message_id: str) -> None:
        """Insert, or fill in the message id of the row claimed before sending."""
        with self._tx() as conn:
            done = conn.execute(
                update(review_posts)
                .where(review_posts.c.draft_id == draft_id, review_posts.c.platform == platform)
                .values(channel=channel, message_id=message_id)
            )
            if not done.rowcount:
                conn.execute(
                    insert(review_posts).values(
                        draft_id=draft_id,
                        platform=platform,
                        channel=channel,
                        message_id=message_id,
                    )
                )

    def draft_of_review_post(self, platform: str, message_id: str) -> int | None:
        with self._tx() as conn:
            row = conn.execute(
                select(review_posts.c.draft_id).where(
                    review_posts.c.platform == platform, review_posts.c.message_id == message_id
                )
            ).first()
            return int(row.draft_id) if row else None

    # -- feeds and problems -------------------------------------------------------------------
    def feed(self, url: str) -> FeedState:
        with self._tx() as conn:
            row = conn.execute(select(feeds).where(feeds.c.url == url)).first()
        if row is None:
            return FeedState(url)
        polled = row.polled_at
        return FeedState(
            url,
            row.etag,
            row.last_modified,
            _aware(polled) if polled is not None else None,
            row.failures,
        )

    def save_feed(self, state: FeedState) -> None:
        values = {
            "etag": state.etag,
            "last_modified": state.last_modified,
            "polled_at": state.polled_at,
            "failures": state.failures,
        }
        with self._tx() as conn:
            done = conn.execute(update(feeds).where(feeds.c.url == state.url).values(**values))
            if not done.rowcount:
                conn.execute(insert(feeds).values(url=state.url, **values))

    def note_problem(self, where: str, message: str, now: datetime) -> bool:
        """Record a problem; True when it is new or different (then it is worth a log line)."""
        with self._tx() as conn:
            row = conn.execute(select(problems).where(problems.c.where == where)).first()
            if row is None:
                conn.execute(
                    insert(problems).values(
                        where=where, message=message, first_at=now, last_at=now, count=1
                    )
                )
                return True
            if row.message != message:
                conn.execute(
                    update(problems)
                    .where(problems.c.where == where)
                    .values(message=message, first_at=now, last_at=now, count=1)
                )
                return True
            conn.execute(
                update(problems)
                .where(problems.c.where == where)
                .values(last_at=now, count=problems.c.count + 1)
            )
            return False

    def clear_problem(self, where: str) -> bool:
        with self._tx() as conn:
            return bool(conn.execute(delete(problems).where(problems.c.where == where)).rowcount)

    def problems(self) -> list[ProblemRow]:
        with self._tx() as conn:
            rows = conn.execute(select(problems).order_by(problems.c.last_at.desc()))
            return [
                ProblemRow(
                    r.where,
                    r.message,
                    _aware(r.first_at),
                    _aware(r.last_at),
                    int(r._mapping["count"]),
                )
                for r in rows
            ]


def _remember(conn: Connection, story_id: int, candidates: Sequence[str], version: str) -> None:
    for key in candidates:
        found = conn.execute(select(keys.c.story_id).where(keys.c.key == key)).first()
        if found is None:
            conn.execute(insert(keys).values(key=key, story_id=story_id, version=version))
        elif found.story_id == story_id:
            conn.execute(update(keys).where(keys.c.key == key).values(version=version))


def _problem(row: Any) -> ProblemRow:
    return ProblemRow(
        row["where"], row["message"], _aware(row["first_at"]), _aware(row["last_at"]), row["count"]
    )


def refusal(row: DraftRow, now: datetime) -> ReviewError:
    """Why ``row`` cannot be decided now, in the reviewer's words."""
    if row.state in ("approved", "rejected"):
        return AlreadyDecided(f"draft {row.id} was already {row.decision()}")
    if row.state == "superseded":
        return Superseded(
            f"draft {row.id} changed underneath: the article was updated and a newer revision "
            "replaced it — `review list` shows it"
        )
    if row.state == "expired" or row.expires_at <= now:
        return ReviewError(
            f"draft {row.id} expired {_when(row.expires_at)} unreviewed; ingest the article again"
        )
    return ReviewError(f"draft {row.id} cannot be decided ({row.state})")


def utcnow() -> datetime:
    return datetime.now(UTC)
