"""A manager's settings in a real browser, in English and Chinese, at desktop and phone width:
open the settings from the navigation, add a holiday to the business calendar, write a new
version of a service promise and see it in the version history. Debian's chromium driven by
Playwright, the whole app (``kehu.app.create_app``) served by uvicorn.

Screenshots of the settings pages (``settings-*.png``, 1280 and 390 px wide) are written to
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
from desk_support import POLICIES, SeededDesk, seed_desk
from playwright.sync_api import Browser, Page, expect
from web_support import seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.desk import routing
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
MANAGER_EMAIL = "wang.jingli@example.com"
AGENT_EMAIL = "li.kefu@example.com"
WIDTHS = {"desktop": 1280, "phone": 390}

WORDS = {
    "en": {
        "settings": "Settings",
        "calendars": "Business calendars",
        "promises": "Service promises",
        "holiday_added": "The holiday was added.",
        "revised": "A new version of the service promise was saved",
        "stale": "Someone else changed this after you opened it.",
    },
    "zh-Hans": {
        "settings": "设置",
        "calendars": "工作日历",
        "promises": "服务承诺",
        "holiday_added": "节假日已添加。",
        "revised": "服务承诺的新版本已保存",
        "stale": "在您打开后，其他人修改了此内容。",
    },
}


@dataclass
class Served:
    base_url: str
    database: Database
    desk: SeededDesk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The whole app over a seeded SQLite store, with a manager (user 1) and an agent (user 2)."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('settings') / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = Settings(
        database_url=database.url,
        session_cookie_secure=False,
        currency="CNY",
        timezone="Asia/Shanghai",
    )
    with database.session() as session:
        for email, name, role in (
            (MANAGER_EMAIL, "王经理", "manager"),
            (AGENT_EMAIL, "李客服", "agent"),
        ):
            users.create_user(
                session,
                SYSTEM,
                email=email,
                display_name=name,
                role=role,
                password=PASSWORD,
                settings=settings,
            )
    seeded = seed_value_run(database)
    desk = seed_desk(database, seeded.customer_ids, agent_user_id=2)
    with database.session() as session:
        routing.create_routing_rule(
            session, SYSTEM, name="退款给账务组", team_id=desk.teams["账务组"], kinds=["complaint"]
        )
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="超时转账务组",
            action="reassign",
            alert_kind="breach",
            team_id=desk.teams["账务组"],
        )
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-settings-test-server") as base_url:
            yield Served(base_url, database, desk)
    finally:
        database.dispose()


@contextmanager
def _tab(browser: Browser, served: Served, width: int) -> Iterator[Page]:
    with local_page(
        browser,
        served.base_url,
        viewport={"width": width, "height": 900},
        locale="en-US",
        device_scale_factor=1,
    ) as page:
        yield page


def log_in(page: Page, served: Served, email: str, target: str) -> None:
    page.goto(f"{served.base_url}{target}")
    page.wait_for_url(f"**/login?next={target}")
    page.locator("#login-username").fill(email)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}{target}")


#: The first elements of the page that reach past ``width`` (to say what is too wide).


def fits(page: Page, width: int) -> None:
    """Nothing wider than the screen (measured once the page and its style sheet are loaded)."""
    assert page.viewport_size is not None and page.viewport_size["width"] == width
    assert_fits_the_window(page)


def screenshot(page: Page, name: str) -> None:
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


#: (language, screen, the holiday added, the first-response target of the new version)
CASES = [
    ("en", "desktop", "2026-10-01", "3"),
    ("en", "phone", "2026-10-02", "2.5"),
    ("zh-Hans", "desktop", "2026-10-03", "2"),
    ("zh-Hans", "phone", "2026-10-04", "1.5"),
]


@pytest.mark.parametrize(
    ("code", "screen", "holiday", "first_response"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_a_manager_adds_a_holiday_and_a_new_promise_version(
    browser: Browser, served: Served, code: str, screen: str, holiday: str, first_response: str
) -> None:
    words = WORDS[code]
    width = WIDTHS[screen]
    with _tab(browser, served, width) as tab:
        log_in(tab, served, MANAGER_EMAIL, "/tickets")
        if code != "en":
            tab.locator(f"a[data-locale='{code}']").click()
            expect(tab.locator("html")).to_have_attribute("lang", code)
        tab.locator("a[data-nav='settings']").click()
        expect(tab.get_by_role("heading", name=words["settings"], exact=True)).to_be_visible()
        fits(tab, width)
        if code == "en":
            screenshot(tab, f"settings-index-{screen}.png")

        # the calendar: add a holiday
        tab.locator("li[data-section='calendars'] a").click()
        expect(tab.get_by_role("heading", name=words["calendars"], exact=True)).to_be_visible()
        fits(tab, width)
        if code == "en":
            screenshot(tab, f"settings-calendars-{screen}.png")
        tab.locator("table.calendars-table a").first.click()
        tab.locator("#holiday-date").fill(holiday)
        with tab.expect_navigation():
            tab.locator("form.add-holiday button[type='submit']").click()
        expect(tab.locator("p.notice[role='status']")).to_have_text(words["holiday_added"])
        expect(tab.locator(f"li[data-holiday='{holiday}']")).to_be_visible()
        fits(tab, width)
        if code == "en":
            screenshot(tab, f"settings-calendar-{screen}.png")

        # the promise: a new version with a shorter first response, seen in the history
        tab.locator(".breadcrumb a").first.click()
        tab.locator("li[data-section='promises'] a").click()
        expect(tab.get_by_role("heading", name=words["promises"], exact=True)).to_be_visible()
        fits(tab, width)
        if code == "en":
            screenshot(tab, f"settings-promises-{screen}.png")
        tab.locator("table.promises-table a", has_text=POLICIES[0]).click()
        versions_before = tab.locator("ol.version-history > li").count()
        tab.locator("#revise-first-response").fill(first_response)
        with tab.expect_navigation():
            tab.locator("#revise form.settings-form button[type='submit']").click()
        expect(tab.locator("p.notice[role='status']")).to_contain_text(words["revised"])
        history = tab.locator("ol.version-history > li")
        expect(history).to_have_count(versions_before + 1)
        expect(history.first.locator("[data-changed='first_response_seconds']")).to_be_visible()
        expect(tab.locator("#revise-first-response")).to_have_value(first_response)
        expect(history.first).to_contain_text(
            f"{first_response} h" if code == "en" else first_response
        )
        fits(tab, width)
        screenshot(
            tab,
            f"settings-promise-{screen}.png"
            if code == "en"
            else f"settings-promise-zh-{screen}.png",
        )

        for path, name in (
            ("/settings/routing", "routing"),
            ("/settings/escalation", "escalation"),
            ("/settings/categories", "categories"),
        ):
            response = tab.goto(served.base_url + path)
            assert response is not None and response.status == 200, path
            fits(tab, width)
            if code == "en":
                screenshot(tab, f"settings-{name}-{screen}.png")


def test_a_bad_time_zone_is_named_in_the_page_and_the_typed_text_kept(
    browser: Browser, served: Served
) -> None:
    """A refused form answers 422, which the browser logs as a failed load: this test allows
    that one console message."""
    with local_page(
        browser,
        served.base_url,
        viewport={"width": 390, "height": 900},
        console_allows=lambda text: "422" in text,
    ) as tab:
        log_in(tab, served, MANAGER_EMAIL, "/settings/calendars")
        tab.locator("#new-calendar-name").fill("夜班日历")
        tab.locator("#new-calendar-timezone").fill("Mars/Olympus")
        with tab.expect_navigation():
            tab.locator("#new-calendar button[type='submit']").click()
        expect(tab.locator("#new-calendar-problem")).to_contain_text("Time zone")
        expect(tab.locator("#new-calendar-timezone")).to_have_attribute("aria-invalid", "true")
        expect(tab.locator("#new-calendar-timezone")).to_have_value("Mars/Olympus")
        expect(tab.locator("#new-calendar-name")).to_have_value("夜班日历")
        fits(tab, 390)
