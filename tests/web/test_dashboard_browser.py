"""A team lead reads the desk dashboard in a real browser (Debian's chromium through Playwright),
in English and Chinese, at desktop and phone (390 px) width: log in, open the dashboard from the
navigation, follow a figure to its tickets and find as many as the figure counts.

Screenshots of the dashboard (``dashboard-desktop.png``, ``dashboard-phone.png``) are written to
``docs/screenshots/`` when ``KEHU_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from browser_support import (
    SCREENSHOTS,
    UPDATE_SCREENSHOTS,
    assert_fits_the_window,
    local_page,
    serving,
)
from desk_support import SeededDesk, seed_desk
from playwright.sync_api import Browser, Page, expect
from web_support import seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
LEAD_EMAIL = "wang.jingli@example.com"
PHONE = 390
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": PHONE, "height": 844}}
WORDS = {
    "en": {"locale": "en-US", "title": "Desk dashboard", "back": "Back to the dashboard"},
    "zh-Hans": {"locale": "zh-CN", "title": "客服看板", "back": "返回看板"},
}


@dataclass
class Served:
    base_url: str
    desk: SeededDesk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The whole app over the seeded desk, with a manager as the team lead."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = Settings(
        database_url=database.url,
        session_cookie_secure=False,
        currency="CNY",
        timezone="Asia/Shanghai",
    )
    with database.session() as session:
        users.create_user(
            session,
            SYSTEM,
            email=LEAD_EMAIL,
            display_name="王经理",
            role="manager",
            password=PASSWORD,
            settings=settings,
        )
    seeded = seed_value_run(database)
    desk = seed_desk(database, seeded.customer_ids, agent_user_id=2)
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-dashboard-test-server") as base_url:
            yield Served(base_url, desk)
    finally:
        database.dispose()


@contextmanager
def _tab(browser: Browser, served: Served, language: str, size: str) -> Iterator[Page]:
    phone = size == "phone"
    with local_page(
        browser,
        served.base_url,
        failed_requests_fail=True,
        viewport=SIZES[size],
        locale=WORDS[language]["locale"],
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
    ) as page:
        yield page


def _fits(page: Page, size: str) -> None:
    if size == "phone":
        assert_fits_the_window(page)


def _count(page: Page) -> int:
    return int(page.locator("p.figure-count").get_attribute("data-count") or "-1")


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", list(WORDS), ids=["en", "zh"])
def test_a_lead_follows_a_figure_to_its_tickets(
    browser: Browser, served: Served, language: str, size: str
) -> None:
    words = WORDS[language]
    with _tab(browser, served, language, size) as page:
        page.goto(f"{served.base_url}/tickets")
        page.wait_for_url("**/login?next=/tickets")
        page.locator("#login-username").fill(LEAD_EMAIL)
        page.locator("#login-password").fill(PASSWORD)
        page.locator("form.login-form button[type='submit']").click()
        page.wait_for_url(f"{served.base_url}/tickets")
        if language != "en":
            page.locator(f"a[data-locale='{language}']").click()
            expect(page.locator("html")).to_have_attribute("lang", language)
        page.locator("a[data-nav='dashboard']").click()
        # the dashboard reads every ticket's clock: on a loaded CI machine the page has been seen
        # to arrive after the default 5 s (its frame first, <main> empty)
        expect(page.get_by_role("heading", level=1, name=words["title"])).to_be_visible(
            timeout=20_000
        )
        _fits(page, size)
        expect(page.locator("svg.chart-bar")).to_be_visible()
        if language == "en":
            name = f"dashboard-{size}.png"
            if UPDATE_SCREENSHOTS:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
        dashboard = page.url

        # the kept-promise rate: "N kept" lists the N kept, "of M resolved" the M counted
        tile = page.locator(".figure-tile[data-figure='kept']")
        kept = int(tile.get_attribute("data-numerator") or "-1")
        resolved = int(tile.get_attribute("data-denominator") or "-1")
        assert 0 < kept < resolved
        tile.locator(".figure-basis a").first.click()
        expect(page.locator("p.figure-count")).to_be_visible()
        assert _count(page) == kept == page.locator("table.dashboard-tickets tbody tr").count()
        _fits(page, size)
        page.get_by_role("link", name=words["back"]).click()
        page.locator(".figure-tile[data-figure='kept'] .figure-basis a").nth(1).click()
        expect(page.locator("p.figure-count")).to_be_visible()
        assert _count(page) == resolved

        # a backlog cell: the open tickets of one team, as many as the cell says
        page.goto(dashboard)
        cell = page.locator("table.backlog-table tbody tr").first.locator("td a").nth(5)
        shown = int(cell.inner_text())
        assert shown > 0
        cell.click()
        expect(page.locator("p.figure-count")).to_be_visible()
        assert _count(page) == shown == page.locator("table.dashboard-tickets tbody tr").count()
        # and on to one of those tickets
        page.locator("table.dashboard-tickets tbody tr a").first.click()
        expect(page.locator("h1.ticket-subject")).to_be_visible()
