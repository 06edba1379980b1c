"""The lead's queue in a real browser (Debian's chromium through Playwright, the whole app served
by uvicorn), in English and Chinese, at desktop width and at 390 px: search, filter by the
promise, save the filters as a view and open it again, and bulk-assign three tickets of which
one is closed (left unchanged, listed with the reason). At 390 px the page does not spill
sideways (the table scrolls inside its own container).

Screenshots of the queue (docs/screenshots/queue-desktop.png, queue-phone.png) are written
when ``KEHU_UPDATE_SCREENSHOTS=1``.
"""

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
from desk_support import SUBJECTS, SeededDesk, seed_desk
from playwright.sync_api import Browser, Page, expect
from web_support import seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.desk import ticket_commands
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
LEAD_EMAIL = "wang.jingli@example.com"
AGENT_EMAIL = "li.kefu@example.com"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Served:
    base_url: str
    desk: SeededDesk
    closed: int


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app over a seeded store with a lead (manager, user 1) and an agent (user 2); one of
    the resolved tickets is closed."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('queue') / 'kehu.db'}")
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
            (LEAD_EMAIL, "王经理", "manager"),
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
    closed = desk.tickets[SUBJECTS[4]]
    with database.session() as session:
        ticket_commands.close(session, SYSTEM, closed, settings=settings)
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-queue-test-server") as base_url:
            yield Served(base_url, desk, closed)
    finally:
        database.dispose()


WORDS = {
    "en": {
        "queue": "Ticket queue",
        "saved": "The view was saved.",
        "changed": "2 tickets changed.",
        "closed": "It is closed and cannot change any more.",
        "view": "Breached promises",
    },
    "zh-Hans": {
        "queue": "工单队列",
        "saved": "视图已保存。",
        "changed": "已更改 2 个工单。",
        "closed": "工单已关闭，不能再更改。",
        "view": "未兑现的承诺",
    },
}


def _log_in(page: Page, served: Served, code: str) -> None:
    page.goto(f"{served.base_url}/tickets")
    page.wait_for_url("**/login?next=/tickets")
    page.locator("#login-username").fill(LEAD_EMAIL)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}/tickets")
    if code != "en":
        page.locator(f"a[data-locale='{code}']").click()
        expect(page.locator("html")).to_have_attribute("lang", code)


def _no_sideways_spill(page: Page) -> None:
    assert_fits_the_window(page)


def _screenshot(page: Page, name: str) -> None:
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
def test_a_lead_searches_filters_saves_a_view_and_bulk_assigns(
    browser: Browser, served: Served, code: str, width: str
) -> None:
    words = WORDS[code]
    viewport = DESKTOP if width == "desktop" else PHONE
    with local_page(browser, served.base_url, viewport=viewport, device_scale_factor=1) as tab:
        _log_in(tab, served, code)
        expect(tab.get_by_role("heading", name=words["queue"])).to_be_visible()
        rows = tab.locator("table.queue-table tbody tr")
        expect(rows.first).to_be_visible()
        if width == "phone":
            _no_sideways_spill(tab)

        # search: words of the subject find the ticket, and stay in the box
        tab.locator("#queue-search").fill("杯子")
        with tab.expect_navigation():
            tab.locator("form.queue-filters button[type='submit']").click()
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(SUBJECTS[0])
        expect(tab.locator("#queue-search")).to_have_value("杯子")

        # filter: the broken promises only
        tab.locator("#queue-search").fill("")
        tab.locator("#filter-promise").select_option("breached")
        with tab.expect_navigation():
            tab.locator("form.queue-filters button[type='submit']").click()
        assert "promise=breached" in tab.url
        expect(tab.locator(f"tr[data-ticket='{served.desk.tickets[SUBJECTS[1]]}']")).to_be_visible()
        expect(rows.locator(".badge-breached")).to_have_count(rows.count())

        # save the filters as a view, and open it again from the list at the top
        name = f"{words['view']} {width}"
        tab.locator("#view-name").fill(name)
        with tab.expect_navigation():
            tab.locator("form.view-save button[type='submit']").click()
        expect(tab.locator("p.notice[role='status']")).to_have_text(words["saved"])
        tab.goto(f"{served.base_url}/tickets")
        view_link = tab.locator("nav.queue-views a", has_text=name)
        with tab.expect_navigation():
            view_link.click()
        assert "promise=breached" in tab.url
        if width == "phone":
            _no_sideways_spill(tab)

        # bulk-assign three tickets to the agent; the closed one is listed with the reason
        tab.goto(f"{served.base_url}/tickets?status=all")
        chosen = [served.desk.tickets[SUBJECTS[0]], served.desk.tickets[SUBJECTS[2]], served.closed]
        for ticket_id in chosen:
            tab.locator(f"tr[data-ticket='{ticket_id}'] input[name='ticket']").check()
        tab.locator("#bulk-action").select_option("assign")
        tab.locator("#bulk-assignee").select_option("2")
        if width == "desktop" and code == "en":
            _screenshot(tab, "queue-desktop.png")
        if width == "phone" and code == "en":
            _no_sideways_spill(tab)
            _screenshot(tab, "queue-phone.png")
        with tab.expect_navigation():
            tab.locator("#bulk-apply").click()
        expect(tab.locator("p.notice[role='status']")).to_have_text(words["changed"])
        refused = tab.locator(f".bulk-refused li[data-ticket='{served.closed}']")
        expect(refused).to_contain_text(words["closed"])
        expect(tab.locator(".bulk-refused li")).to_have_count(1)
        assert "status=all" in tab.url  # back on the same queue
        for ticket_id in chosen[:2]:
            expect(tab.locator(f"tr[data-ticket='{ticket_id}'] td.assignee")).to_have_text("李客服")
        expect(tab.locator(f"tr[data-ticket='{served.closed}'] td.assignee .muted")).to_be_visible()
        if width == "phone":
            _no_sideways_spill(tab)
