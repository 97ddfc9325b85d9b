"""The desk in a real browser (Debian's Chromium via Playwright): sign-in, pages, review."""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from bot.commands.base import parse
from bot.digest.library import Library
from bot.pipeline.queue import NewStory, Queue
from bot.reply import Reply, plain
from bot.schedules.options import Posted
from bot.schedules.spec import Delivery
from tests.desk.conftest import sign_in
from tests.desk.harness import DeskServer, dump, make_data, make_desk, storm_draft
from tests.helpers import answer

PAGES = [
    "/",
    "/digests",
    "/digests?q=storm&page=2",
    "/digests/storm-2024-01-08",
    "/digests/storm-2024-01-08/map.png",
    "/digests/storm-2024-01-08/preview",
    "/drafts/storm-draft",
    "/schedules",
    "/deliveries",
    "/deliveries?state=failed",
]


def shot(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_every_page_redirects_to_login_without_a_session(page: Page, server: DeskServer) -> None:
    for path in PAGES:
        page.goto(path)
        assert re.search(r"/login\?next=", page.url), (path, page.url)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # the target survives the sign-in
    page.goto("/digests/storm-2024-01-08")
    page.fill("input[name=name]", "ed")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    assert page.url.endswith("/digests/storm-2024-01-08")


def test_wrong_passwords_slow_down_and_the_cookie_is_strict(
    page: Page, server: DeskServer, shots: Path
) -> None:
    server.desk.throttle.clock = lambda: 1000.0  # no time passes, however slow the machine
    for _ in range(3):
        sign_in(page, password="wrong password!")
        expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    sign_in(page)  # right password, but too soon after three failures
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    expect(page.locator("input[name=name]")).to_have_value("ed")  # the name is kept
    shot(page, shots, "login-throttled")
    assert "/login" in page.url
    server.desk.throttle.succeeded("name:ed")
    server.desk.throttle._failures.clear()
    sign_in(page)
    expect(page.get_by_role("heading", name="Digests", exact=True)).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "desk_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    token = base64.urlsafe_b64decode(cookie["value"].strip('"'))
    assert token[:1] == b"\x80"
    assert b'"user"' not in token


def test_a_post_without_the_csrf_token_is_refused(
    page: Page, server: DeskServer, shots: Path
) -> None:
    sign_in(page)
    page.goto("/drafts/storm-draft")
    page.evaluate("document.querySelector('#edit input[name=csrf]').remove()")
    page.fill("input[name=title]", "Changed without a token")
    page.click("button[value=save]")
    expect(page.get_by_role("heading", name="Form expired")).to_be_visible()
    shot(page, shots, "csrf-refused")
    draft = server.desk.queue.get("storm-draft")
    assert draft is not None
    assert "Changed without a token" not in draft.text
    # a forged token fails the same way
    page.goto("/drafts/storm-draft")
    page.evaluate("document.querySelector('#edit input[name=csrf]').value = 'forged'")
    page.click("button[value=save]")
    expect(page.get_by_role("heading", name="Form expired")).to_be_visible()


def test_hostile_digest_text_is_shown_inert(page: Page, server: DeskServer, shots: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page)
    for path in (
        "/digests",
        "/digests/bridge-2024-09-02",
        "/digests/bridge-2024-09-02/preview?parts=summary&parts=figures",
    ):
        page.goto(path)
        assert "pwned" not in page.title()
        assert page.locator("main script").count() == 0
        assert page.locator("main img[onerror], main img[src=x]").count() == 0
    page.goto("/digests/bridge-2024-09-02")
    shot(page, shots, "digest-hostile")
    expect(page.locator("h1")).to_have_text("<script>alert('title')</script> Bridge closes")
    article = page.locator(".article .text")
    expect(article).to_contain_text("<script>alert('pwned')</script>")
    expect(article).to_contain_text("<img src=x onerror=\"document.title='pwned'\">")
    expect(page.locator("#summary-1")).to_contain_text("A sign called @everyone to a meeting.")
    page.goto("/digests/bridge-2024-09-02/preview?parts=summary&parts=figures")
    shot(page, shots, "preview-hostile")
    embed = page.locator(".embed-body").first.evaluate("e => e.textContent")
    assert "@\u200beveryone" in embed  # Discord's renderer defuses the ping
    assert "@everyone" not in embed
    frame = page.frame_locator("iframe.matrix").first
    expect(frame.locator("body")).to_contain_text("<script>document.title='pwned'</script>")
    assert frame.locator("script, img").count() == 0
    page.goto("/digests/bridge-2024-09-02")
    page.click("button:has-text('Correct this digest')")  # the same text in the review form
    shot(page, shots, "review-hostile")
    assert page.locator("main script, main img").count() == 0
    expect(page.locator("input[name=title]")).to_have_value(
        "<script>alert('title')</script> Bridge closes"
    )
    assert "pwned" not in page.title()
    assert dialogs == []


def test_digest_page_marks_every_quote_and_links_both_ways(
    page: Page, server: DeskServer, shots: Path
) -> None:
    server.desk.store.claim(
        Delivery(
            "matrix", "!room:example.org", "storm-2024-01-08", "2024-01-09T08:00Z", "s1", "pending"
        )
    )
    server.desk.store.mark(
        ("matrix", "!room:example.org", "storm-2024-01-08", "2024-01-09T08:00Z"),
        "sent",
        message_id="$event1",
    )
    sign_in(page)
    page.goto("/digests")
    shot(page, shots, "digests")
    page.click("text=Storm closes Portwell harbour")
    shot(page, shots, "digest")
    marks = page.locator(".article mark")
    assert marks.count() >= 4
    expect(page.locator("mark", has_text="up to 300 jobs were at risk")).to_have_count(1)
    claim = page.locator("#figures-2")
    expect(claim.locator(".badge.claim")).to_have_text("CLAIM — unverified")
    expect(claim).to_contain_text("Claimed by The fishermen's union")
    # item → quote in the article, and back
    claim.locator("blockquote a").click()
    assert page.url.endswith("#q-figures-2")
    page.locator("mark", has_text="up to 300 jobs were at risk").locator("a").click()
    assert page.url.endswith("#figures-2")
    expect(page.locator(".ledger")).to_contain_text("!room:example.org")
    expect(page.locator(".ledger a", has_text="$event1")).to_have_attribute(
        "href", re.compile(r"^https://matrix\.to/#/")
    )
    map_image = page.locator("img.map")
    map_image.scroll_into_view_if_needed()
    expect(map_image).to_have_js_property("complete", True, timeout=60_000)
    assert map_image.evaluate("img => img.naturalWidth") == 1024  # the PNG was drawn and served
    shot(page, shots, "digest-map")


def test_review_flow_fix_a_claimant_and_approve(
    page: Page, server: DeskServer, shots: Path
) -> None:
    sign_in(page)
    page.goto("/digests")
    page.click("a[href='/drafts/storm-draft']")
    shot(page, shots, "review")
    page.select_option("select[name='figures[2].source']", "union")
    page.click("button[value=save]")
    expect(page.locator(".flash.ok")).to_have_text("Saved.")
    page.click("button[value=approve]")
    assert page.url.endswith("/digests/storm-draft-2024-01-08")
    expect(page.locator(".flash.ok")).to_contain_text("is live")
    shot(page, shots, "approved")
    library = Library(server.desk.queue.folder)  # type: ignore[attr-defined]
    library.refresh()
    shown = plain(answer(library, parse("/figures storm-draft-2024-01-08 jobs")))
    assert "Claimed by The fishermen's union: Jobs at risk, up to 300 jobs" in shown
    assert server.desk.queue.get("storm-draft") is None


def test_errors_are_shown_at_their_fields_and_nothing_is_saved(
    page: Page, server: DeskServer, shots: Path
) -> None:
    sign_in(page)
    page.goto("/drafts/storm-draft")
    before = server.desk.queue.get("storm-draft")
    page.fill("textarea[name='figures[0].quote']", "a storm damaged fourteen boats badly")
    page.click("button[value=save]")
    field = page.locator(
        "label.field.invalid", has=page.locator("textarea[name='figures[0].quote']")
    )
    expect(field.locator(".field-error")).to_contain_text("not found verbatim in the article")
    expect(page.locator("textarea[name='figures[0].quote']")).to_have_value(
        "a storm damaged fourteen boats badly"
    )
    shot(page, shots, "review-errors")
    assert server.desk.queue.get("storm-draft") == before


def test_a_stale_save_is_refused_and_the_input_kept(
    browser: object, page: Page, server: DeskServer, shots: Path
) -> None:
    sign_in(page)
    page.goto("/drafts/storm-draft")
    other = browser.new_context(base_url=server.url).new_page()  # type: ignore[attr-defined]
    sign_in(other, "ada")
    other.goto("/drafts/storm-draft")
    other.fill("input[name=title]", "Title by Ada")
    other.click("button[value=save]")
    expect(other.locator(".flash.ok")).to_have_text("Saved.")
    page.fill("input[name=title]", "Title by Ed")
    page.click("button[value=save]")
    expect(page.locator("#notice")).to_contain_text("changed by ada after you opened it")
    expect(page.locator("input[name=title]")).to_have_value("Title by Ed")
    shot(page, shots, "review-stale")
    draft = server.desk.queue.get("storm-draft")
    assert draft is not None
    assert "Title by Ada" in draft.text
    assert "Title by Ed" not in draft.text
    page.click("button[value=save]")  # still based on the old version: refused again
    expect(page.locator("#notice")).to_contain_text("Not saved")


def test_make_a_quote_by_selecting_text_and_add_an_item(page: Page, server: DeskServer) -> None:
    sign_in(page)
    page.goto("/drafts/storm-draft")
    page.click("button[value=add-summary]")
    expect(page.locator("textarea[name='summary[1].quote']")).to_be_visible()
    page.fill("textarea[name='summary[1].text']", "Two dozen people left the quay.")
    page.select_option("select[name='summary[1].source']", "coastguard")
    page.evaluate(
        """() => {
        const text = document.getElementById('article');
        const node = [...text.childNodes].find(n => n.textContent.includes('two dozen people'));
        const at = node.textContent.indexOf('two dozen people were evacuated');
        const range = document.createRange();
        const target = node.nodeType === 3 ? node : node.firstChild.firstChild || node.firstChild;
        const offset = target.textContent.indexOf('two dozen people were evacuated');
        range.setStart(target, offset);
        range.setEnd(target, offset + 'two dozen people were evacuated'.length);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        }"""
    )
    page.locator("textarea[name='summary[1].quote'] + button.use-selection").click()
    expect(page.locator("textarea[name='summary[1].quote']")).to_have_value(
        "two dozen people were evacuated"
    )
    page.check("input[name='places[0]._remove']")
    page.click("button[value=save]")
    expect(page.locator(".flash.ok")).to_have_text("Saved.")
    draft = server.desk.queue.get("storm-draft")
    assert draft is not None
    assert "Two dozen people left the quay." in draft.text
    assert "Portwell\n" not in draft.text
    assert "places:" not in draft.text


def test_keyboard_only_review(page: Page, server: DeskServer, shots: Path) -> None:
    page.goto("/login")
    # The name field has focus on arrival (autofocus); wait for it rather than race it.
    page.wait_for_function("document.activeElement && document.activeElement.name === 'name'")
    page.keyboard.type("ed")
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/digests$"))
    page.goto("/drafts/storm-draft")
    target = "figures[2].source"
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == target:
            break
    else:
        raise AssertionError(f"Tab never reached {target}")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    shot(page, shots, "review-keyboard-focus")
    for _ in range(5):  # choose "The fishermen's union" with the arrow keys
        if page.evaluate("document.activeElement.value") == "union":
            break
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "union"
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.value") == "save":
            break
    else:
        raise AssertionError("Tab never reached the Save button")
    page.keyboard.press("Enter")
    expect(page.locator(".flash.ok")).to_have_text("Saved.")
    draft = server.desk.queue.get("storm-draft")
    assert draft is not None
    assert "source: union" in draft.text


def test_schedules_and_deliveries(page: Page, server: DeskServer, shots: Path) -> None:
    key = ("console", "news", "storm-2024-01-08", "2024-01-09T08:00Z")
    server.desk.store.claim(Delivery(*key, "s1", "pending"))
    server.desk.store.mark(key, "failed", error="cannot post to news: 403 Missing Access")
    sign_in(page)
    page.goto("/schedules")
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()  # editors may not
    page.context.clear_cookies()
    sign_in(page, "ada")
    page.goto("/schedules")
    page.select_option("select[name=platform]", "console")
    page.fill("input[name=channel]", "news")
    page.fill("input[name=cron]", "0 8 * * 1-5")
    page.click("form.stack button[type=submit]")
    expect(page.locator(".flash.error")).to_contain_text("must use names")  # /schedule's rule
    expect(page.locator("input[name=channel]")).to_have_value("news")  # the input is kept
    expect(page.locator("select[name=platform]")).to_have_value("console")
    page.fill("input[name=cron]", "0 8 * * mon-fri")
    page.fill("input[name=timezone]", "Europe/Kyiv")
    page.click("form.stack button[type=submit]")
    expect(page.locator(".flash.ok")).to_contain_text("Schedule added")
    expect(page.locator("table.list")).to_contain_text(
        "to console:news at '0 8 * * mon-fri' Europe/Kyiv"
    )
    shot(page, shots, "schedules")
    page.goto("/deliveries?state=failed")
    expect(page.locator(".ledger tbody tr")).to_have_count(1)
    expect(page.locator(".ledger")).to_contain_text("403 Missing Access")
    shot(page, shots, "deliveries")
    page.click(".ledger button:has-text('Retry')")
    expect(page.locator(".flash.ok")).to_contain_text("queued again")
    row = server.desk.store.get(key)
    assert row is not None
    assert row.state == "pending"
    page.goto("/schedules")
    page.click("button:has-text('Remove')")
    expect(page.locator(".flash.ok")).to_contain_text("Schedule removed")
    assert server.desk.store.load_schedules() == []


def test_saving_an_unchanged_draft_keeps_the_file_and_its_comments(
    page: Page, server: DeskServer
) -> None:
    path = server.desk.queue.folder / "storm-draft.draft.yaml"  # type: ignore[attr-defined]
    original = "# review: check every claimant\n" + path.read_text("utf-8")
    path.write_text(original, "utf-8")
    sign_in(page)
    page.goto("/drafts/storm-draft")
    page.click("button[value=save]")
    expect(page.locator(".flash.ok")).to_have_text("No changes to save.")
    assert path.read_text("utf-8") == original


def test_correct_a_live_digest_through_a_draft(page: Page, server: DeskServer) -> None:
    folder: Path = server.desk.queue.folder  # type: ignore[attr-defined]
    sign_in(page)
    page.goto("/digests/storm-2024-01-08")
    page.click("button:has-text('Correct this digest')")
    assert page.url.endswith("/drafts/storm")
    page.fill("input[name='figures[0].label']", "Boats wrecked")
    page.click("button[value=approve]")
    assert page.url.endswith("/digests/storm-2024-01-08")
    expect(page.locator("#figures-0")).to_contain_text("Boats wrecked: 14 boats.")
    live = (folder / "storm.yaml").read_text("utf-8")  # the same file, changed in place
    assert live.startswith("# reviewed by ed at ")
    assert "label: Boats wrecked" in live
    live_files = sorted(p.name for p in folder.glob("*.yaml") if not p.name.endswith(".draft.yaml"))
    assert live_files == ["bridge.yaml", "storm.yaml"]  # no second file with the same id
    assert not (folder / "storm.draft.yaml").exists()


class RecordingPoster:
    """A platform in the desk's own process: what it was asked to post."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []

    async def post(
        self, channel: str, reply: Reply, nonce: str, placement: object = None
    ) -> Posted:
        self.posts.append((channel, reply.title))
        return Posted(f"m{len(self.posts)}")


def test_test_and_retry_post_at_once_when_the_platform_runs_here(
    page: Page, server: DeskServer
) -> None:
    poster = RecordingPoster()
    scheduler = server.desk.scheduler
    assert scheduler is not None

    async def attach() -> None:
        scheduler.attach("console", poster).start()

    server.call(attach())
    key = ("console", "news", "storm-2024-01-08", "2024-01-09T08:00Z")
    server.desk.store.claim(Delivery(*key, "s1", "pending"))
    server.desk.store.mark(key, "failed", error="timeout")
    sign_in(page, "ada")
    page.goto("/deliveries?state=failed")
    page.click(".ledger button:has-text('Retry')")
    expect(page.locator(".flash.ok")).to_contain_text(
        "retrying storm-2024-01-08 to console:news now"
    )
    page.goto("/schedules")
    expect(page.locator(".hint").first).to_contain_text(
        "Platforms running in this process: console"
    )
    page.select_option("select[name=platform]", "console")
    page.fill("input[name=channel]", "news")
    page.fill("input[name=cron]", "0 8 * * mon-fri")
    page.click("form.stack button[type=submit]")
    page.click("button:has-text('Test')")
    expect(page.locator(".flash.ok")).to_contain_text("Test post queued")
    for _ in range(100):
        if len(poster.posts) == 2:
            break
        time.sleep(0.05)
    assert poster.posts[0] == ("news", "Storm closes Portwell harbour")  # the retried row
    titles = {d.title for d in server.desk.library.all()}
    assert len(poster.posts) == 2
    assert poster.posts[1][0] == "news"
    assert poster.posts[1][1] in titles  # the test post: a digest the schedule would post
    row = server.desk.store.get(key)
    assert row is not None
    assert row.state == "sent"
    server.call(scheduler.stop())


def test_a_feed_draft_is_reviewed_and_approved_through_the_pipeline(
    browser: object, tmp_path: Path, shots: Path
) -> None:
    data = make_data(tmp_path, hostile=False, draft=False)
    the_desk = make_desk(data, pipeline=True)
    queue = Queue(the_desk.store.engine)
    feed_draft = storm_draft()
    feed_draft["id"] = "storm-feed-2024-01-08"
    row = queue.add_draft(
        NewStory("storm-feed-2024-01-08", "The Portwell Post", None),
        1,
        yaml=dump(feed_draft),
        article="articles/storm.txt",
        text_hash="test",
        title=feed_draft["title"],
        now=datetime.now(UTC),
        expire=timedelta(days=7),
    )
    with DeskServer(the_desk) as server:
        page = browser.new_context(base_url=server.url).new_page()  # type: ignore[attr-defined]
        sign_in(page)
        page.goto("/digests")
        page.click(f"a[href='/drafts/p{row.id}']")
        page.select_option("select[name='figures[2].source']", "union")
        page.click("button[value=save]")
        expect(page.locator(".flash.ok")).to_have_text("Saved.")
        revised = queue.listed()
        assert [r.revision for r in revised] == [2]  # an editor's save is a new revision
        assert page.url.endswith(f"/drafts/p{revised[0].id}")
        shot(page, shots, "review-pipeline")
        page.click("button[value=approve]")
        expect(page.locator(".flash.ok")).to_contain_text("storm-feed-2024-01-08 is live")
        decided = queue.get(revised[0].id)
        assert decided is not None
        assert (decided.state, decided.decided_by, decided.via) == ("approved", "ed", "desk")
        live = (data.digests / "storm-feed-2024-01-08.yaml").read_text("utf-8")
        assert "reviewed:" in live
        library = Library(data.digests)
        library.refresh()
        shown = plain(answer(library, parse("/figures storm-feed-2024-01-08 jobs")))
        assert "Claimed by The fishermen's union: Jobs at risk, up to 300 jobs" in shown
