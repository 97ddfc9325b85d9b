"""From a feed to corrected posts on Discord, through the real discord.py client and the fake
Discord, wired by the ``App``: a feed entry is drafted, its card posted in the review channel,
Approve pressed; the digest is live and a ``post: new`` schedule posts it to three channels; the
digest's figure is corrected in the file; all three messages are edited in place with the
correction line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.digest.library import Library
from bot.digest.load import load_digest
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.ingest import FeedSpec, Ingestor
from bot.schedules.spec import ScheduleSpec
from tests.fakes.discord_server import FakeDiscord
from tests.helpers import RunBot, WriteDigest
from tests.pipeline.articles import FERRY, page
from tests.pipeline.conftest import Gazetteer
from tests.pipeline.site import Item, Page, Site, rss
from tests.pipeline.site import site as site  # the fixture

CHANNELS = ("news-a", "news-b", "news-c")


@pytest.fixture
def library(tmp_path: Path) -> Library:
    """An empty digests folder: what goes live here comes from the feed (overrides conftest's)."""
    folder = tmp_path / "live"
    folder.mkdir()
    library = Library(folder)
    library.refresh()
    return library


@pytest.mark.fake_discord(channels=("newsdesk", *CHANNELS))
async def test_feed_to_posts_to_corrected_posts(
    fake: FakeDiscord, run_bot: RunBot, site: Site, library: Library
) -> None:
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    app = await run_bot(clock=lambda: slot + timedelta(seconds=5))
    queue, board, store = app.newsroom.queue, app.newsroom.board, app.store
    folder = library.folder
    # 1. The publisher's feed has the ferry story; it is drafted and queued.
    site.pages["/ferry"] = Page(page(*FERRY))
    site.pages["/rss"] = Page(
        rss([Item(FERRY[0], site.url("/ferry"), "post-1")]), content_type="application/rss+xml"
    )
    fetcher = Fetcher(FetchLimits(host_interval=0))
    ingestor = Ingestor(queue, fetcher, folder, gazetteer=Gazetteer())
    [draft] = (await ingestor.poll(FeedSpec(site.url("/rss"), "The Portwell Post"))).queued
    await fetcher.close()
    # 2. The draft's card is posted in the review channel; a reviewer presses Approve.
    desk = fake.channel_id("newsdesk")
    assert await board.announce("discord", str(desk), app.discord) == 1
    [card] = fake.messages_in(desk)
    await fake.click(card, f"review:approve:{draft.id}", user=fake.owner)
    library.refresh()
    assert library.ids() == [draft.digest_id]  # live at once
    await app.corrector.check()  # the watcher's tick (every 5 s): it knows this version now
    # 3. A `post: new` schedule in each of three channels posts it on the next slot.
    specs = [
        ScheduleSpec("discord", str(fake.channel_id(name)), "* * * * *", post="new")
        for name in CHANNELS
    ]
    await app.scheduler.load(specs)
    for spec in specs:
        store.set_last_slot(spec.id, (slot - timedelta(seconds=30)).isoformat())
        await app.scheduler.tick(spec.id)
    await app.scheduler.deliverers["discord"].join()
    posted = [fake.messages_in(fake.channel_id(name)) for name in CHANNELS]
    assert [len(m) for m in posted] == [1, 1, 1]
    assert all("212 passengers" in m[0].text() for m in posted)
    # 4. The figure is corrected in the file (the article was corrected too).
    article = folder / draft.article
    article.write_text(article.read_text().replace("212 passengers", "214 passengers"), "utf-8")
    path = folder / f"{draft.digest_id}.yaml"
    path.write_text(
        path.read_text()
        .replace("value: 212", "value: 214")
        .replace("said 212 passengers", "said 214 passengers"),
        "utf-8",
    )
    library.refresh()
    await app.corrector.check()  # or the watcher's own tick got there first: the same, once
    [entry] = load_digest(path).digest.corrections
    assert entry.what.startswith("Passengers: 212 passengers \u2192 214 passengers; summary point")
    await app.scheduler.deliverers["discord"].join()
    # 5. Every posted message is edited in place (no new messages) with the correction line.
    for name, before in zip(CHANNELS, posted, strict=True):
        [after] = fake.messages_in(fake.channel_id(name))
        assert after.id == before[0].id
        text = after.text()
        assert "214 passengers" in text
        assert "Corrected " in text
        assert "UTC: Passengers: 212 passengers \u2192 214 passengers" in text
        assert after.data["edited_timestamp"] is not None
    assert fake.count_429 == 0
    assert {state for _, _, state in store.edit_states(draft.digest_id)} == {"done"}


@pytest.mark.fake_discord(channels=CHANNELS)
async def test_a_correction_made_while_the_bot_is_down_edits_each_post_once(
    fake: FakeDiscord, run_bot: RunBot, library: Library, write_digest: WriteDigest
) -> None:
    """Posted, then stopped; the file is corrected while the bot is down; the restarted bot
    diffs against what was live, edits every post once, and a third start repeats nothing."""
    source = write_digest()  # the storm digest, in tmp_path: copy it into the live folder
    for path in (source, source.parent / "articles" / "storm.txt"):
        target = library.folder / path.relative_to(source.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    library.refresh()
    first = await run_bot()
    await first.corrector.check()
    specs = [
        ScheduleSpec("discord", str(fake.channel_id(name)), "0 8 * * mon-fri") for name in CHANNELS
    ]
    await first.scheduler.load(specs)
    for spec in specs:
        await first.scheduler.deliver(spec, "2024-01-08T08:00Z")
    await first.scheduler.deliverers["discord"].join()
    await first.stop()
    # Down: the editor corrects the boats figure in the article and the digest.
    live = library.folder / "storm.yaml"
    article = library.folder / "articles" / "storm.txt"
    article.write_text(article.read_text().replace("14 boats", "15 boats"), "utf-8")
    live.write_text(
        live.read_text()
        .replace("value: 14", "value: 15")
        .replace("damaged 14 boats", "damaged 15 boats"),
        "utf-8",
    )
    library.refresh()
    second = await run_bot()
    await second.corrector.check()  # start() ran it already in the background: the same, once
    await second.scheduler.deliverers["discord"].join()
    for name in CHANNELS:
        [message] = fake.messages_in(fake.channel_id(name))
        assert "15 boats" in message.text()
        assert "Corrected " in message.text()
    edits = second.store.edit_states("storm-2024-01-08")
    assert sorted(state for _, _, state in edits) == ["done"] * 3
    [entry] = load_digest(live).digest.corrections
    assert entry.what == "Boats damaged: 14 boats \u2192 15 boats"
    await second.stop()

    def edits() -> list[int]:
        return [len(m.edits) for n in CHANNELS for m in fake.messages_in(fake.channel_id(n))]

    assert edits() == [1, 1, 1]  # each post edited exactly once
    third = await run_bot()
    await third.corrector.check()
    await third.scheduler.deliverers["discord"].join()
    assert edits() == [1, 1, 1]  # the third start repeats nothing
    assert len(load_digest(live).digest.corrections) == 1
