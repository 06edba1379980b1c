"""Mentions and the bell in a real browser, in English and Chinese, at desktop (1280 px) and
phone (390 px) width: agent A picks colleague B from the note box's suggestions after "@",
adds the note; B sees the bell's count, opens /notifications, opens the notification and lands
on the ticket, where the mention is highlighted; the count is gone. Debian's chromium through
Playwright, the whole app (``kehu.app.create_app``) served by uvicorn.

Screenshots of /notifications at 1280 and 390 px are written to ``docs/screenshots/`` when
``KEHU_UPDATE_SCREENSHOTS=1``.
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
from kehu.core.users.tables import User
from kehu.desk import routing
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
ANA = "ana.lima@example.com"  # agent A, user 2
BO = "bo.chen@example.com"  # agent B, user 3
WIDTHS = {"desktop": 1280, "phone": 390}


@dataclass
class Served:
    base_url: str
    database: Database
    desk: SeededDesk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The whole app over a seeded store: a manager (1) and agents Ana (2) and Bo (3), both in
    一线客服."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('bell') / 'kehu.db'}")
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
            ("wang.jingli@example.com", "王经理", "manager"),
            (ANA, "Ana Lima", "agent"),
            (BO, "陈博", "agent"),
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
        routing.add_team_member(session, SYSTEM, desk.teams["一线客服"], 3)
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-bell-test-server") as base_url:
            yield Served(base_url, database, desk)
    finally:
        database.dispose()


def log_in(page: Page, served: Served, email: str, target: str, code: str) -> None:
    page.goto(f"{served.base_url}{target}")
    page.wait_for_url(f"**/login?next={target}")
    page.locator("#login-username").fill(email)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}{target}")
    if code != "en":
        page.locator(f"a[data-locale='{code}']").click()
        expect(page.locator("html")).to_have_attribute("lang", code)


WORDS = {
    "en": {
        "note": "The internal note was added.",
        "title": "Ana Lima mentioned you on ticket #{}",
        "heading": "Notifications",
        "none": "Nothing unread.",
    },
    "zh-Hans": {
        "note": "内部备注已添加。",
        "title": "Ana Lima在工单 #{} 中提到了您",
        "heading": "通知",
        "none": "没有未读通知。",
    },
}


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
def test_a_mention_reaches_the_colleague_through_the_bell(
    browser: Browser, served: Served, code: str, width: str
) -> None:
    words = WORDS[code]
    ticket = served.desk.tickets[SUBJECTS[0] if code == "en" else SUBJECTS[6]]
    path = f"/tickets/{ticket}"
    with served.database.session() as session:
        session.get_one(User, 3).locale = code  # Bo reads his notifications in this language
    options = {"viewport": {"width": WIDTHS[width], "height": 900}, "device_scale_factor": 1}

    with local_page(browser, served.base_url, **options) as a:
        log_in(a, served, ANA, path, code)
        box = a.locator("#note-body")
        box.click()
        box.press_sequentially("@bo")
        suggestion = a.locator("#note-body-mentions li[data-username='bo.chen']")
        expect(suggestion).to_be_visible()
        box.press("Enter")
        expect(box).to_have_value("@bo.chen ")
        box.press_sequentially("请今天回电客户")
        with a.expect_navigation():
            a.locator("form.note-form button[type='submit']").click()
        expect(a.locator("p.notice[role='status']")).to_have_text(words["note"])
        expect(a.locator("li.message-note mark.mention").last).to_have_text("@bo.chen")

    with local_page(browser, served.base_url, **options) as b:
        log_in(b, served, BO, "/tickets", code)
        expect(b.locator("a[data-bell] .bell-count")).to_have_text("1")
        b.locator("a[data-bell]").click()
        expect(b.get_by_role("heading", name=words["heading"])).to_be_visible()
        item = b.locator("li.notification-unread").first
        expect(item).to_contain_text(words["title"].format(ticket))
        if UPDATE_SCREENSHOTS and code == "en":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            b.screenshot(path=str(SCREENSHOTS / f"notifications-{width}.png"), full_page=True)
        # nothing spills out at phone width
        assert_fits_the_window(b)
        with b.expect_navigation():
            item.locator("button.notification-open").click()
        assert b.url == f"{served.base_url}{path}"
        expect(b.locator("li.message-note mark.mention").last).to_have_text("@bo.chen")
        expect(b.locator("a[data-bell] .bell-count")).to_have_count(0)
        b.goto(f"{served.base_url}/notifications")
        expect(b.locator("#unread-summary")).to_have_text(words["none"])
