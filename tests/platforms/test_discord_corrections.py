"""From a feed to corrected posts on Discord, through the real discord.py client and the fake
Discord: a feed entry is drafted, its card posted in the review channel, Approve pressed; the
digest is live and a ``post: new`` schedule posts it to three channels; the digest's figure is
corrected in the file; all three messages are edited in place with the correction line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.corrections import Corrector
from bot.digest.library import Library
from bot.pipeline.board import Board
from bot.pipeline.fetch import Fetcher, FetchLimits
from bot.pipeline.ingest import FeedSpec, Ingestor
from bot.pipeline.queue import Queue
from bot.platforms.discord_chat import DiscordPoster
from bot.schedule import Scheduler, ScheduleSpec
from bot.store import Store
from tests.fakes.discord_server import FakeDiscord
from tests.pipeline.articles import FERRY, page
from tests.pipeline.conftest import Gazetteer
from tests.pipeline.site import Item, Page, Site, rss
from tests.pipeline.site import site as site  # the fixture
from tests.platforms.conftest import RunBot

CHANNELS = ("news-a", "news-b", "news-c")


@pytest.mark.fake_discord(channels=("newsdesk", *CHANNELS))
async def test_feed_to_posts_to_corrected_posts(
    fake: FakeDiscord, run_bot: RunBot, site: Site, tmp_path: Path
) -> None:
    folder = tmp_path / "live"
    folder.mkdir()
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    queue = Queue(store.engine)
    # 1. The publisher's feed has the ferry story; it is drafted and queued.
    site.pages["/ferry"] = Page(page(*FERRY))
    site.pages["/rss"] = Page(
        rss([Item(FERRY[0], site.url("/ferry"), "post-1")]), content_type="application/rss+xml"
    )
    fetcher = Fetcher(FetchLimits(host_interval=0))
    ingestor = Ingestor(queue, fetcher, folder, gazetteer=Gazetteer())
    [draft] = (await ingestor.poll(FeedSpec(site.url("/rss"), "The Portwell Post"))).queued
    await fetcher.close()
    library = Library(folder)
    library.refresh()
    slot = datetime.now(UTC).replace(second=0, microsecond=0)
    scheduler = Scheduler(library, store, clock=lambda: slot + timedelta(seconds=5))
    board = Board(queue, folder)
    bot = await run_bot(scheduler=scheduler, board=board)
    # 2. The draft's card is posted in the review channel; a reviewer presses Approve.
    desk = fake.channel_id("newsdesk")
    assert await board.announce("discord", str(desk), DiscordPoster(bot)) == 1
    [card] = fake.messages_in(desk)
    await fake.click(card, f"review:approve:{draft.id}", user=fake.owner)
    library.refresh()
    assert library.ids() == [draft.digest_id]  # live at once
    # 3. A `post: new` schedule in each of three channels posts it on the next slot.
    specs = [
        ScheduleSpec("discord", str(fake.channel_id(name)), "* * * * *", post="new")
        for name in CHANNELS
    ]
    await scheduler.load(specs)
    for spec in specs:
        store.set_last_slot(spec.id, (slot - timedelta(seconds=30)).isoformat())
    scheduler.attach("discord", DiscordPoster(bot))
    await scheduler.start(run_jobs=False)
    corrector = Corrector(library, store, scheduler)
    await corrector.start()
    await scheduler.deliverers["discord"].join()
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
    [(_, entry)] = await corrector.check()
    assert entry.what.startswith("Passengers: 212 passengers \u2192 214 passengers; summary point")
    await scheduler.deliverers["discord"].join()
    # 5. Every posted message is edited in place (no new messages) with the correction line.
    for name, before in zip(CHANNELS, posted, strict=True):
        [after] = fake.messages_in(fake.channel_id(name))
        assert after.id == before[0].id
        text = after.text()
        assert "214 passengers" in text and "Corrected " in text
        assert "UTC: Passengers: 212 passengers \u2192 214 passengers" in text
        assert after.data["edited_timestamp"] is not None
    assert fake.count_429 == 0
    states = {state for _, _, state in store.edit_states(draft.digest_id)}
    assert states == {"done"}
    await scheduler.stop()
    store.close()
