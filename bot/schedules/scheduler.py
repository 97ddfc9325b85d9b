"""Schedules: cron slots (APScheduler 3) → ledger rows → built posts → paced deliveries.

Time comes from an injected clock so tests can walk through days without sleeping. APScheduler
only wakes us at each slot; *which* slots are due is decided here from the persisted mark
(the time up to which every slot was handled), which is also how downtime is caught up:
slots missed by less than ``catch_up`` are posted late, older ones are skipped with a log line.
A post is built here, by the same content builders as /summary, and handed to the platform's
``Deliverer`` with its ledger row; a post that cannot be built is marked failed with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.commands import content
from bot.commands.base import MapSource, UserError
from bot.digest.diff import correction_line
from bot.digest.library import Library
from bot.digest.model import Digest
from bot.reply import Reply
from bot.schedules.delivery import Deliverer, EditJob, Inspector, Limits, Outcome, Poster
from bot.schedules.filters import Only
from bot.schedules.health import Health, HealthState, Notice
from bot.schedules.options import Placement
from bot.schedules.pacing import Pacer
from bot.schedules.sender import election_for
from bot.schedules.spec import (
    Delivery,
    ScheduleError,
    ScheduleSpec,
    Status,
    slot_key,
    slots,
)
from bot.schedules.store import Store
from bot.schedules.tables import StateTables
from bot.schedules.targets import NotSeenHere, problems

log = logging.getLogger(__name__)

NEW_PER_SLOT = 10
"""At most this many not-yet-posted digests go out in one slot (the rest wait for the next)."""
ROWS_PER_WRITE = 500
"""Ledger rows written per transaction when a slot's rows are written together."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _job_key(spec: ScheduleSpec) -> str:
    """The APScheduler job that wakes this schedule: one per cron and time zone."""
    return f"slot {spec.cron} {spec.timezone}"


@dataclass
class Scheduler:
    """Owns the schedules (config + chat), the APScheduler jobs and the catch-up logic."""

    library: Library
    store: Store
    deliverers: dict[str, Deliverer] = field(default_factory=dict)
    catch_up: timedelta = timedelta(hours=1)
    clock: Callable[[], datetime] = utcnow
    maps: MapSource | None = None
    """Draws the map of posts whose schedule asks for it (``parts: [..., map]``)."""
    specs: dict[str, ScheduleSpec] = field(default_factory=dict)
    tables: StateTables | None = None
    """Digest threads (forum posts, Matrix thread roots) per channel."""
    notify: dict[str, str] = field(default_factory=dict)
    """platform → admin channel that hears one notice when a schedule fails, one on recovery."""
    health: Health = field(default_factory=Health)
    _built: dict[tuple[str, tuple[str, ...]], tuple[Digest, Reply]] = field(default_factory=dict)
    """The last post built per (digest, parts): a fan-out to many channels builds it once."""
    _aps: AsyncIOScheduler | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _checks: asyncio.Task[dict[str, list[str]]] | None = None

    # -- set-up -------------------------------------------------------------------------------
    async def load(self, configured: Sequence[ScheduleSpec]) -> None:
        for spec in configured:
            self.specs[spec.id] = spec
        for schedule_id, data in await asyncio.to_thread(self.store.load_schedules):
            try:
                spec = ScheduleSpec.from_json(data)
            except (ScheduleError, TypeError) as exc:
                log.error("stored schedule %s is invalid and was not loaded: %s", schedule_id, exc)
                continue
            self.specs[spec.id] = spec
        await self._adopt_old_ids()
        flagged = await asyncio.to_thread(self.store.flagged)
        self.health.restore([HealthState(sid, 0, why) for sid, why in flagged.items()])

    async def _adopt_old_ids(self) -> None:
        """A database from a release with shorter ids: each schedule takes over what its old id
        holds. Two schedules that shared an old id (the reason ids grew): the first takes it,
        the other starts afresh."""
        old = await asyncio.to_thread(self.store.old_ids)
        for spec in list(self.specs.values()):
            if spec.old_id in old:
                old.discard(spec.old_id)
                await asyncio.to_thread(self.store.adopt, spec.old_id, spec.id)
                log.info("schedule %s was %s (ids are longer now)", spec.id, spec.old_id)

    async def start(self, *, run_jobs: bool = True) -> None:
        """Resume unfinished posts, catch up on missed slots, then wait for the next ones.

        The deliverers lease unfinished rows themselves (also rows a dead process held)."""
        for deliverer in self.deliverers.values():
            deliverer.start()
        for row in await asyncio.to_thread(self.store.unfinished):
            if row.platform not in self.deliverers:
                log.warning("pending post %s waits: platform %s not running", row.key, row.platform)
        await self.tick_many(list(self.specs))
        if run_jobs:
            self._aps = AsyncIOScheduler(timezone=UTC)
            for spec in self.specs.values():
                self._add_job(spec)
            self._aps.start()
        self._checks = asyncio.create_task(self.check_targets(), name="schedule-checks")

    async def check_targets(self) -> dict[str, list[str]]:
        """Check every schedule against what its platform says about the channel (forum tags,
        channel kind, roles, permissions): a problem is logged with where the schedule is
        written (``config.yaml:12: schedules[0]: …``) and flags it, now rather than at 08:00."""
        found: dict[str, list[str]] = {}
        for spec in list(self.specs.values()):
            deliverer = self.deliverers.get(spec.platform)
            if deliverer is None or not isinstance(deliverer.poster, Inspector):
                continue
            try:
                facts = await deliverer.poster.inspect(spec.channel, spec.options)
            except NotSeenHere:
                continue
            except Exception as exc:  # a platform that is not ready: checked at the next post
                log.warning("schedule %s: could not check its channel: %s", spec.id, exc)
                continue
            lines = problems(spec.options, facts, spec.channel)
            if not lines:
                continue
            found[spec.id] = lines
            where = spec.where or f"schedule {spec.id}"
            for line in lines:
                log.error("%s: %s", where, line)
            await asyncio.to_thread(self.store.flag, spec.id, lines[0])
            _, notice = self.health.failed(spec.id, lines[0], permanent=True)
            if notice is not None:
                await self._notify(notice)
        return found

    async def stop(self) -> None:
        if self._checks is not None:
            self._checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checks
            self._checks = None
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        for deliverer in self.deliverers.values():
            await deliverer.stop()

    def _add_job(self, spec: ScheduleSpec) -> None:
        """One APScheduler job per cron and time zone, shared by every schedule that has them:
        10,000 channels at 08:00 are one wake-up and one batch (``tick_many``), not 10,000 jobs
        that each cost the scheduler's own loop a next-fire-time computation at the slot."""
        if self._aps is None:
            return
        key = _job_key(spec)
        if self._aps.get_job(key) is not None:
            return
        self._aps.add_job(
            self._tick_group,
            spec.trigger,
            args=[key],
            id=key,
            misfire_grace_time=None,  # lateness is judged by tick() against catch_up
            coalesce=True,
        )

    async def _tick_group(self, key: str) -> None:
        await self.tick_many([i for i, spec in self.specs.items() if _job_key(spec) == key])

    # -- the slots ----------------------------------------------------------------------------
    async def tick(self, schedule_id: str) -> None:
        await self.tick_many([schedule_id])

    async def tick_many(self, schedule_ids: Sequence[str]) -> None:
        """Handle every due slot of these schedules, in a few transactions for all of them: a
        slot shared by 10,000 schedules (each process ticks them all) is a handful of batched
        statements, not 40,000 round trips, and the first post goes out within a second."""
        async with self._lock:
            specs = [
                spec
                for schedule_id in schedule_ids
                if (spec := self.specs.get(schedule_id)) is not None
                and spec.platform in self.deliverers  # else its slots wait for a run that has it
            ]
            if not specs:
                return
            now = self.clock()
            marks = await asyncio.to_thread(self.store.last_slots, [s.id for s in specs])
            due: list[tuple[ScheduleSpec, str]] = []
            skipped: list[tuple[Delivery, str]] = []
            # The slots since a mark, per cron and zone: schedules that share both and their
            # mark share them (computed once, not once per channel).
            owed: dict[tuple[str, str, str], list[datetime]] = {}
            for spec in specs:
                mark = marks.get(spec.id)
                if mark is None:  # a new schedule starts now; it owes nothing from before
                    continue
                key = (spec.cron, spec.timezone, mark)
                if key not in owed:
                    owed[key] = list(slots(spec.trigger, datetime.fromisoformat(mark), now))
                for slot in owed[key]:
                    late = now - slot
                    if late <= self.catch_up:
                        due.append((spec, slot_key(slot)))
                        continue
                    log.warning(
                        "schedule %s skipped the %s slot: missed by %s, beyond catch_up %s",
                        spec.id,
                        slot_key(slot),
                        str(late).split(".")[0],
                        self.catch_up,
                    )
                    row = Delivery(
                        spec.platform, spec.channel, "", slot_key(slot), spec.id, "skipped"
                    )
                    skipped.append((row, f"missed by {str(late).split('.')[0]} (bot was down)"))
            if skipped:
                rows = [replace(row, error=error) for row, error in skipped]
                await asyncio.to_thread(self.store.claim_many, rows)
            await self._deliver_all(due)
            await asyncio.to_thread(
                self.store.set_last_slots, [s.id for s in specs], now.isoformat()
            )

    def _digests_for(
        self,
        spec: ScheduleSpec,
        posted: set[str],
        passing: dict[Only, list[Digest]] | None = None,
    ) -> list[str]:
        """Newest first; only digests that pass the schedule's filter (``only:``). ``passing``
        keeps each filter's digests across the schedules of one batch: a year of digests is
        filtered once per filter, not once per channel."""
        only = spec.options.only
        passing = {} if passing is None else passing
        if only not in passing:
            passing[only] = [d for d in reversed(self.library.all()) if only.matches(d)]
        digests = passing[only]
        if spec.post == "latest":
            return [digests[0].id] if digests else []
        fresh = (d.id for d in digests if d.id not in posted)
        return list(itertools.islice(fresh, NEW_PER_SLOT))

    async def deliver(self, spec: ScheduleSpec, slot: str) -> list[Delivery]:
        """Write a ledger row per digest for this slot; whichever process leases a row first
        (this one's deliverer is woken) sends it."""
        if spec.platform not in self.deliverers:
            log.warning("schedule %s: platform %s is not running", spec.id, spec.platform)
            return []
        return await self._deliver_all([(spec, slot)])

    async def _deliver_all(self, due: Sequence[tuple[ScheduleSpec, str]]) -> list[Delivery]:
        """The rows of many (schedule, slot) pairs, written in one go; the ones this call
        created. A channel's posted digests are read once for all its schedules, and a digest
        planned for a channel counts as posted there for the next schedule (as it would once
        its row is written): two schedules of one channel never both post it."""
        if not due:
            return []
        posted: dict[tuple[str, str], set[str]] = {}
        for platform in {spec.platform for spec, _ in due}:
            channels = [s.channel for s, _ in due if s.platform == platform and s.post != "latest"]
            if channels:
                found = await asyncio.to_thread(self.store.posted_by_channel, platform, channels)
                posted.update(((platform, channel), ids) for channel, ids in found.items())
        planned: list[Delivery] = []
        quiet: list[tuple[ScheduleSpec, str]] = []
        passing: dict[Only, list[Digest]] = {}
        for spec, slot in due:
            seen = posted.setdefault((spec.platform, spec.channel), set())
            digest_ids = self._digests_for(spec, seen, passing)
            if not digest_ids:
                quiet.append((spec, slot))
            for digest_id in digest_ids:
                seen.add(digest_id)
                planned.append(
                    Delivery(spec.platform, spec.channel, digest_id, slot, spec.id, "pending")
                )
        # Rows that exist already (sent, failed, or another process's) are not created again.
        # A few hundred at a time, the sender woken after each: the first post of a 10,000-
        # channel slot goes out while the last rows are being written.
        queued: list[Delivery] = []
        for start in range(0, len(planned), ROWS_PER_WRITE):
            chunk = planned[start : start + ROWS_PER_WRITE]
            created = await asyncio.to_thread(self.store.claim_many, chunk)
            queued.extend(created)
            for platform in {row.platform for row in created}:
                self.deliverers[platform].wake()
        quiet = [(spec, slot) for spec, slot in quiet if spec.post == "latest"]
        if quiet and self.library.newest() is None:  # one line for a slot's 10,000, not 10,000
            ids = ", ".join(spec.id for spec, _ in quiet[:3]) + (", …" if len(quiet) > 3 else "")
            slots_of = ", ".join(sorted({slot for _, slot in quiet}))
            log.warning(
                "no digest loaded: nothing posted for %s (%d schedule%s: %s)",
                slots_of,
                len(quiet),
                "" if len(quiet) == 1 else "s",
                ids,
            )
        elif quiet:
            for spec, slot in quiet:
                log.info(
                    "schedule %s: no digest passes its filter (%s), nothing posted for %s",
                    spec.id,
                    spec.options.only.describe(),
                    slot,
                )
        return queued

    # -- management (/schedule) ---------------------------------------------------------------
    async def add(self, spec: ScheduleSpec) -> ScheduleSpec:
        if spec.id in self.specs:
            raise ScheduleError(f"that schedule exists already as {spec.id}")
        await asyncio.to_thread(self.store.save_schedule, spec.id, spec.to_json())
        self.specs[spec.id] = spec
        await asyncio.to_thread(self.store.set_last_slot, spec.id, self.clock().isoformat())
        self._add_job(spec)
        return spec

    async def remove(self, schedule_id: str) -> ScheduleSpec:
        spec = self.specs.get(schedule_id)
        if spec is None:
            raise ScheduleError(f"no schedule '{schedule_id}' — /schedule list shows the ids")
        if spec.origin == "config":
            raise ScheduleError(f"{schedule_id} comes from config.yaml: remove it there")
        await asyncio.to_thread(self.store.remove_schedule, schedule_id)
        del self.specs[schedule_id]
        self.health.states.pop(schedule_id, None)
        key = _job_key(spec)
        shared = any(_job_key(other) == key for other in self.specs.values())
        if self._aps is not None and not shared and self._aps.get_job(key) is not None:
            self._aps.remove_job(key)
        return spec

    async def test(self, schedule_id: str) -> list[Delivery]:
        spec = self.specs.get(schedule_id)
        if spec is None:
            raise ScheduleError(f"no schedule '{schedule_id}' — /schedule list shows the ids")
        slot = "test-" + self.clock().strftime("%Y%m%dT%H%M%S")
        if self.library.newest() is None:
            raise ScheduleError("no digest is loaded, so there is nothing to post")
        passing = self._digests_for(replace(spec, post="latest"), set())
        if not passing:
            raise ScheduleError(
                f"no loaded digest passes this schedule's filter ({spec.options.only.describe()})"
            )
        newest = self.library.get(passing[0])
        assert newest is not None
        deliverer = self.deliverers.get(spec.platform)
        if deliverer is None:  # checked before the claim: a later start must not send it stale
            raise ScheduleError(f"platform {spec.platform} is not running here")
        row = Delivery(spec.platform, spec.channel, newest.id, slot, spec.id, "pending")
        claimed, _ = await asyncio.to_thread(self.store.claim, row)
        deliverer.wake()
        return [claimed]

    def sending(self) -> list[str]:
        """The platforms this process is the sender for (posts and edits go out from it)."""
        return [name for name, deliverer in self.deliverers.items() if deliverer.sending]

    def ids(self, platform: str | None = None) -> list[str]:
        return sorted(i for i, s in self.specs.items() if platform in (None, s.platform))

    async def statuses(self, platform: str | None = None) -> list[Status]:
        out = []
        now = self.clock()
        flagged = await asyncio.to_thread(self.store.flagged)
        for spec in sorted(self.specs.values(), key=lambda s: s.id):
            if platform is not None and spec.platform != platform:
                continue
            last = await asyncio.to_thread(self.store.latest, spec.id)
            upcoming = spec.trigger.get_next_fire_time(None, now)
            out.append(Status(spec, upcoming, last, flagged.get(spec.id)))
        return out

    def build(self, delivery: Delivery) -> Reply:
        """The post for a ledger row, by the content builders /summary uses (blocking: maps).

        Raises ``UserError`` when it cannot be built (its digest is gone, it has nothing to
        show)."""
        spec = self.specs.get(delivery.schedule_id)
        parts = spec.parts if spec is not None else ("summary",)
        digest = self.library.get(delivery.digest_id)
        if digest is None:
            raise UserError(f"digest '{delivery.digest_id}' is no longer loaded")
        key = (digest.id, tuple(parts))
        cached = self._built.get(key)
        if cached is not None and cached[0] is digest:  # the same version of the digest
            return cached[1]
        reply = content.post(digest, parts, self.maps)
        self._built[key] = (digest, reply)
        return reply

    async def prepare(self, row: Delivery) -> tuple[Reply, Placement] | None:
        """The leased row's post and where it goes (its schedule's options, the digest's title
        for a forum post); one that cannot be built is marked failed (None)."""
        try:
            reply = await asyncio.to_thread(self.build, row)
        except UserError as exc:
            await asyncio.to_thread(self.store.mark, row.key, "failed", error=str(exc))
            log.warning("not posted %s: %s", row.key, exc)
            return None
        spec = self.specs.get(row.schedule_id)
        digest = self.library.get(row.digest_id)
        placement = Placement(
            options=spec.options if spec is not None else Placement().options,
            title=digest.title if digest is not None else row.digest_id,
        )
        return reply, placement

    async def submit_edit(self, delivery: Delivery, version: str) -> bool:
        """Queue the correction of a posted delivery (its edit row claimed or leased by this
        process): the post as it would be made now, headed by one line saying what changed (the
        digest's latest correction)."""
        deliverer = self.deliverers.get(delivery.platform)
        if deliverer is None:
            return False
        if not deliverer.sending:  # the sender's corrections watcher takes it at its next look
            await asyncio.to_thread(self.store.release_edit, delivery.key, version)
            return True
        try:
            reply = await asyncio.to_thread(self.build, delivery)
        except UserError as exc:
            await asyncio.to_thread(self.store.mark_edit, delivery.key, version, "failed", str(exc))
            return False
        digest = self.library.get(delivery.digest_id)
        if digest is not None and digest.corrections:
            reply = replace(reply, note=correction_line(digest.corrections[-1]))
        deliverer.submit_edit(EditJob(delivery, version, reply))
        return True

    def attach(
        self,
        platform: str,
        poster: Poster,
        limits: Limits | None = None,
        ready: Callable[[], Awaitable[object]] | None = None,
    ) -> Deliverer:
        """Register a running platform; its posts go through one paced sender, from when
        ``ready()`` returns: this process's, when it is elected the token's sender among the
        processes sharing the database (``bot.schedules.sender``)."""
        deliverer = Deliverer(
            platform,
            poster,
            self.store,
            self.prepare,
            budget=Pacer(limits or Limits()),
            ready=ready,
            tables=self.tables,
            on_outcome=self._outcome,
            election=election_for(self.store, platform),
        )
        self.deliverers[platform] = deliverer
        return deliverer

    # -- health: one notice when a schedule fails, one when it recovers -----------------------
    async def _outcome(self, outcome: Outcome) -> None:
        schedule_id = outcome.delivery.schedule_id
        if outcome.ok:
            _, notice = self.health.succeeded(schedule_id)
        else:
            reason = outcome.error or "unknown error"
            state, notice = self.health.failed(schedule_id, reason, permanent=outcome.permanent)
            if notice is not None and not outcome.permanent:  # gone: the deliverer flagged it
                await asyncio.to_thread(self.store.flag, schedule_id, state.flagged or reason)
        if notice is not None:
            await self._notify(notice)

    async def _notify(self, notice: Notice) -> None:
        """Tell the platform's admin channel (``notify:`` in config.yaml); else only the log."""
        spec = self.specs.get(notice.schedule_id)
        if spec is None:
            return
        text = notice.text(spec.describe())
        log.warning("%s", text)
        channel = self.notify.get(spec.platform)
        deliverer = self.deliverers.get(spec.platform)
        if channel is None or deliverer is None:
            return
        reply = Reply(title=f"Schedule {notice.kind}", note=text)
        nonce = f"n{notice.schedule_id}{notice.kind[0]}{int(self.clock().timestamp())}"[:25]
        try:
            await deliverer.pacer.acquire(channel)
            await deliverer.poster.post(channel, reply, nonce)
        except Exception as exc:  # the notice is best effort; the log has it
            log.error("could not send the notice to %s:%s: %s", spec.platform, channel, exc)
