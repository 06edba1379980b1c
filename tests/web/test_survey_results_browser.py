"""A manager reads a survey's results in a real browser, in English and Chinese, at desktop width
and at 390 px: from the list of surveys to the results page, the scores with their intervals,
grouped by channel through the selector, the trend, gap, driver and quadrant charts, and the page
never wider than the window (tables and charts scroll in their boxes). Debian's chromium driven
by Playwright, the whole app served by uvicorn, the demo responses of
tests/survey_results_support.py entered through the response import.

Screenshots (``docs/screenshots/survey-results-desktop.png`` and ``survey-results-phone.png``)
are written when ``KEHU_UPDATE_SCREENSHOTS=1``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from browser_support import (
    SCREENSHOTS,
    UPDATE_SCREENSHOTS,
    assert_fits_the_window,
    local_page,
    serving,
)
from playwright.sync_api import Browser, expect

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.store.base import Base
from kehu.store.db import Database
from survey_results_support import Demo, make_demo

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
MANAGER_EMAIL = "li.jingli@example.com"


@dataclass
class Served:
    base_url: str
    demo: Demo


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('results') / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = Settings(
        database_url=database.url, session_cookie_secure=False, currency="CNY",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    with database.session() as session:
        manager = users.create_user(
            session, SYSTEM, email=MANAGER_EMAIL, display_name="李经理", role="manager",
            password=PASSWORD, settings=settings,
        )  # fmt: skip
        assert manager.id == 1  # the demo's surveys are made by user 1
        demo = make_demo(session, n=90)
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-results-test-server") as base_url:
            yield Served(base_url, demo)
    finally:
        database.dispose()


WORDS = {
    "en": {"heading": "Results of Experience", "channel": "Channel", "scores": "Scores"},
    "zh-Hans": {"heading": "Experience 的结果", "channel": "渠道", "scores": "分数"},
}


@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_a_manager_reads_the_results(
    browser: Browser, served: Served, code: str, width: int
) -> None:
    words = WORDS[code]
    survey = served.demo.experience_id
    with local_page(
        browser, served.base_url, viewport={"width": width, "height": 900}, locale="en-US",
        device_scale_factor=1, failed_requests_fail=True,
    ) as tab:  # fmt: skip
        tab.goto(f"{served.base_url}/feedback/results")
        tab.wait_for_url("**/login?next=/feedback/results")
        tab.locator("#login-username").fill(MANAGER_EMAIL)
        tab.locator("#login-password").fill(PASSWORD)
        tab.locator("form.login-form button[type='submit']").click()
        tab.wait_for_url(f"{served.base_url}/feedback/results")
        if code != "en":
            tab.locator(f"a[data-locale='{code}']").click()
            expect(tab.locator("html")).to_have_attribute("lang", code)
        assert_fits_the_window(tab, f"the list of surveys at {width} px")
        tab.locator(f"tr[data-survey='{survey}'] a[href$='/results']").click()
        tab.wait_for_url(f"**/surveys/{survey}/results")
        expect(tab.get_by_role("heading", name=words["heading"], exact=True)).to_be_visible()
        expect(tab.get_by_role("heading", name=words["scores"], exact=True)).to_be_visible()
        expect(tab.locator("table.score-table tbody tr")).to_have_count(3)
        expect(tab.locator("figure.trend-chart svg")).to_have_count(3)
        expect(tab.locator("figure.quadrant-chart svg")).to_be_visible()
        assert_fits_the_window(tab, f"the results at {width} px")

        tab.get_by_label(words["channel"], exact=False)  # the selector offers the channel
        tab.locator("select[name='group_by']").select_option("channel")
        tab.locator("form.results-filter button[type='submit']").click()
        tab.wait_for_url("**group_by=channel**")
        # three scores, each for all and for the three channels
        expect(tab.locator("table.score-table tbody tr")).to_have_count(12)
        expect(tab.locator("tr[data-question='recommend'][data-group='email']")).to_be_visible()
        assert_fits_the_window(tab, f"the grouped results at {width} px")
        if UPDATE_SCREENSHOTS and (code, width) in (("en", 1280), ("zh-Hans", 390)):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = f"survey-results-{'desktop' if width > 390 else 'phone'}.png"
            tab.screenshot(path=str(SCREENSHOTS / name), full_page=True)
