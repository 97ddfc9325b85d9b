"""A change to a live digest is logged and edits every message already posted, once."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.digest.library import Library
from bot.digest.load import load_digest
from bot.digest.model import Correction
from bot.reply import Reply
from bot.schedules.corrections import Corrector, with_correction
from bot.schedules.delivery import ChannelGone, Limits
from bot.schedules.options import AS_CONFIGURED, Placement, Posted
from bot.schedules.scheduler import Scheduler
from bot.schedules.spec import ScheduleSpec
from bot.schedules.store import LEASE, Store
from tests.helpers import WriteDigest, base_digest, dump

DIGEST = "storm-2024-01-08"


class Desk:
    """A Poster that can edit; a paged post is two messages; some messages can be deleted."""

    def __init__(self) -> None:
        self.posts: dict[str, list[str]] = {}
        self.edits: list[tuple[str, tuple[str, ...], Reply]] = []
        self.deleted: set[str] = set()

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: Placement = AS_CONFIGURED
    ) -> Posted:
        ids = [f"{channel}-m1", f"{channel}-m2"]
        self.posts[channel] = ids
        return Posted(ids[0], more_ids=tuple(ids[1:]))

    async def edit(self, channel: str, message_ids: Sequence[str], reply: Reply) -> list[str]:
        if message_ids[0] in self.deleted:
            raise ChannelGone("404 Unknown Message")
        self.edits.append((channel, tuple(message_ids), reply))
        return list(message_ids)


async def setup(
    write_digest: WriteDigest,
    db: Path,
    desk: Desk,
    channels: int = 3,
    clock: Callable[[], datetime] | None = None,
) -> tuple[Library, Scheduler, Corrector, list[ScheduleSpec]]:
    path = write_digest()
    library = Library(path.parent)
    library.refresh()
    scheduler = Scheduler(library, Store(f"sqlite:///{db}", clock=clock))
    scheduler.attach("console", desk, Limits(per_second=1000, channel_count=100))
    specs = [ScheduleSpec("console", f"news{i}", "0 8 * * mon-fri") for i in range(channels)]
    await scheduler.load(specs)
    await scheduler.start(run_jobs=False)
    corrector = Corrector(library, scheduler.store, scheduler)
    await corrector.start()
    return library, scheduler, corrector, specs


async def settle(scheduler: Scheduler) -> None:
    for deliverer in scheduler.deliverers.values():
        await asyncio.wait_for(deliverer.join(), 10)


def edit_file(path: Path, value: int) -> None:
    data = copy.deepcopy(base_digest())
    data["figures"][0]["value"] = value
    data["figures"][0]["quote"] = f"a storm damaged {value} boats"
    path.write_text(dump(data), encoding="utf-8")


async def test_a_hand_edit_is_logged_and_every_posted_message_edited(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    desk = Desk()
    library, scheduler, corrector, specs = await setup(write_digest, tmp_path / "s.db", desk)
    for spec in specs:
        await scheduler.deliver(spec, "2024-01-08T08:00Z")
    await settle(scheduler)
    assert scheduler.store.messages(("console", "news0", DIGEST, "2024-01-08T08:00Z")) == [
        "news0-m1",
        "news0-m2",
    ]
    # The article says 14; an editor corrects it to 15 in the article and the digest.
    article = tmp_path / "articles" / "storm.txt"
    article.write_text(article.read_text().replace("14 boats", "15 boats"), encoding="utf-8")
    path = tmp_path / "storm.yaml"
    edit_file(path, 15)
    library.refresh()
    [(digest_id, entry)] = await corrector.check()
    assert digest_id == DIGEST
    assert entry.what == "Boats damaged: 14 boats \u2192 15 boats"
    await settle(scheduler)
    assert sorted(c for c, _, _ in desk.edits) == ["news0", "news1", "news2"]
    for channel, ids, reply in desk.edits:
        assert ids == (f"{channel}-m1", f"{channel}-m2")  # every message of the paged post
        assert reply.note is not None
        assert reply.note.startswith("Corrected ")
        assert reply.note.endswith("UTC: Boats damaged: 14 boats \u2192 15 boats")
    # The log is in the file now, and the file still passes the loader.
    logged = load_digest(path).digest
    assert [c.what for c in logged.corrections] == [entry.what]
    assert library.get(DIGEST) is not None
    assert library.get(DIGEST).corrections
    # Nothing more to do: checking again, or reloading the same file, repeats nothing.
    library.refresh()
    assert await corrector.check() == []
    await settle(scheduler)
    assert len(desk.edits) == 3
    await scheduler.stop()


async def test_a_deleted_message_is_noted_not_retried(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    desk = Desk()
    library, scheduler, corrector, specs = await setup(write_digest, tmp_path / "s.db", desk, 2)
    for spec in specs:
        await scheduler.deliver(spec, "2024-01-08T08:00Z")
    await settle(scheduler)
    desk.deleted.add("news1-m1")  # a moderator deleted the post in news1
    edit_file(tmp_path / "storm.yaml", 14)  # same value, but the claimant changes:
    text = (tmp_path / "storm.yaml").read_text().replace("source: coastguard", "source: post", 1)
    (tmp_path / "storm.yaml").write_text(text, encoding="utf-8")
    library.refresh()
    [(_, entry)] = await corrector.check()
    assert "People evacuated: claimed by The coastguard \u2192 The Portwell Post" in entry.what
    await settle(scheduler)
    states = sorted((key[1], state) for key, _, state in scheduler.store.edit_states(DIGEST))
    assert states == [("news0", "done"), ("news1", "gone")]
    assert [c for c, _, _ in desk.edits] == ["news0"]
    await scheduler.stop()


async def test_a_restart_in_the_middle_resumes_the_edits_once(
    write_digest: WriteDigest, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    desk = Desk()
    library, scheduler, corrector, specs = await setup(write_digest, db, desk)
    for spec in specs:
        await scheduler.deliver(spec, "2024-01-08T08:00Z")
    await settle(scheduler)
    # The edit rows are claimed, then the process dies before any edit is sent.
    await scheduler.deliverers["console"].stop()
    edit_file(tmp_path / "storm.yaml", 14)
    text = (tmp_path / "storm.yaml").read_text().replace("status: claim", "status: reported")
    (tmp_path / "storm.yaml").write_text(text, encoding="utf-8")
    library.refresh()
    assert len(await corrector.check()) == 1
    assert desk.edits == []
    scheduler.store.close()
    # Restarted once the dead process's edit leases ran out: the pending edits are resumed,
    # the change is not logged or sent twice.
    fresh = Desk()

    def later() -> datetime:
        return datetime.now(UTC) + LEASE + timedelta(seconds=1)

    _, scheduler2, corrector2, _ = await setup(write_digest_again(tmp_path), db, fresh, clock=later)
    await settle(scheduler2)
    assert sorted(c for c, _, _ in fresh.edits) == ["news0", "news1", "news2"]
    assert await corrector2.check() == []
    assert len(load_digest(tmp_path / "storm.yaml").digest.corrections) == 1
    await scheduler2.stop()


def write_digest_again(tmp_path: Path) -> WriteDigest:
    """The same folder as before the restart, untouched."""

    def keep(*_args: object, **_kwargs: object) -> Path:
        return tmp_path / "storm.yaml"

    return keep


def test_with_correction_keeps_the_file_and_appends_to_the_log() -> None:
    first = Correction(at=datetime(2024, 8, 9, 14, 5, tzinfo=UTC), what="A: 1 \u2192 2")
    second = Correction(at=first.at + timedelta(hours=1), what='B: "x" \u2192 y')
    text = "# my comment\nschema: 1\nid: x\n"
    once = with_correction(text, first)
    assert once == (
        "# my comment\nschema: 1\nid: x\ncorrections:\n  - at: 2024-08-09T14:05:00Z\n"
        '    what: "A: 1 \u2192 2"\n'
    )
    twice = with_correction(once + "places: []\n", second)
    assert twice.endswith(
        '    what: "A: 1 \u2192 2"\n  - at: 2024-08-09T15:05:00Z\n    what: "B: \\"x\\" \u2192 y"\n'
        "places: []\n"
    )
    assert with_correction("corrections: []\nid: x\n", first).startswith("corrections:\n  - at:")
