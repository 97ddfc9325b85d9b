"""Browser fixtures: Debian's Chromium (never a downloaded browser), driven by Playwright.

Screenshots of every page go to ``build/desk-screenshots/`` (git-ignored) so a person can look.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.desk.harness import PASSWORD, DeskServer, make_data, make_desk

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "build" / "desk-screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an event loop
    running in this thread while it is open, which later asyncio tests must not inherit."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI must install Debian's chromium (.ci/run does): /usr/bin/chromium missing"
            )
        pytest.skip("Debian's chromium is not installed (apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DeskServer]:
    with DeskServer(make_desk(make_data(tmp_path), maps=True)) as running:
        yield running


@pytest.fixture
def page(browser: object, server: DeskServer) -> Iterator[object]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: object, name: str = "ed", password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
