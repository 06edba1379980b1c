"""The agent's flow in a real browser, in English and in Chinese: log in through the login form
(the API's server-side sessions), open the queue, open a ticket, reply, add a note, transfer,
pause, resolve, and see each event appear. Debian's chromium driven by Playwright, the whole app
(``kehu.app.create_app``) served by uvicorn.

Screenshots of the customer, ticket and service pages are written to ``docs/screenshots/`` when
``KEHU_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from browser_support import SCREENSHOTS, UPDATE_SCREENSHOTS, local_page, serving
from desk_support import SUBJECTS, SeededDesk, seed_desk
from playwright.sync_api import Browser, Page, expect
from web_support import SeededRun, seed_value_run

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


@dataclass
class Served:
    base_url: str
    database: Database
    seeded: SeededRun
    desk: SeededDesk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The whole app (API and pages) over a seeded SQLite store, with a manager (user 1) and an
    agent (user 2) in the teams 一线客服 and 账务组."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('agent') / 'kehu.db'}")
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
        routing.add_team_member(session, SYSTEM, desk.teams["账务组"], 2)
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-agent-test-server") as base_url:
            yield Served(base_url, database, seeded, desk)
    finally:
        database.dispose()


@pytest.fixture
def tab(browser: Browser, served: Served) -> Iterator[Page]:
    """A fresh browser context that may only talk to the test server, with no console errors."""
    with local_page(
        browser,
        served.base_url,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        device_scale_factor=1,
    ) as page:
        yield page


def _screenshot(page: Page, name: str) -> None:
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def log_in(page: Page, served: Served, email: str, target: str = "/tickets") -> None:
    page.goto(f"{served.base_url}{target}")
    page.wait_for_url(f"**/login?next={target}")
    page.locator("#login-username").fill(email)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}{target}")


WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "queue": "Ticket queue",
        "sent": "Your reply was sent to the customer.",
        "note": "The internal note was added.",
        "transferred": "The ticket was transferred.",
        "paused": "The ticket now waits on the customer; the promise clock is paused.",
        "resolved": "The ticket is resolved.",
        "events": (
            "Reply sent to the customer",
            "Internal note added",
            "Transferred to another team",
            "Waiting on the customer (clock paused)",
            "Resolved",
        ),
        "status": "Resolved",
    },
    "zh-Hans": {
        "queue": "工单队列",
        "sent": "您的回复已发送给客户。",
        "note": "内部备注已添加。",
        "transferred": "工单已转接。",
        "paused": "工单正在等待客户回复，服务承诺暂停计时。",
        "resolved": "工单已解决。",
        "events": (
            "已回复客户",
            "已添加内部备注",
            "已转给其他团队",
            "等待客户回复（暂停计时）",
            "已解决",
        ),
        "status": "已解决",
    },
}


@pytest.mark.parametrize(
    ("code", "subject"), [("en", SUBJECTS[0]), ("zh-Hans", SUBJECTS[6])], ids=["en", "zh"]
)
def test_agent_works_a_ticket(tab: Page, served: Served, code: str, subject: str) -> None:
    words = WORDS[code]
    log_in(tab, served, AGENT_EMAIL)
    if code != "en":
        tab.locator(f"a[data-locale='{code}']").click()
        expect(tab.locator("html")).to_have_attribute("lang", code)
    expect(tab.get_by_role("heading", name=words["queue"])).to_be_visible()
    # the queue: only the agent's teams, most urgent promise first
    rows = tab.locator("table.queue-table tbody tr")
    expect(rows.first).to_be_visible()
    expect(tab.locator("table.queue-table")).not_to_contain_text(SUBJECTS[8])  # 物流组's ticket
    tab.locator("table.queue-table a", has_text=subject).click()
    expect(tab.locator("h1.ticket-subject")).to_contain_text(subject)
    ticket_url = tab.url

    def submit(form: str, button: str | None = None) -> None:
        with tab.expect_navigation():
            if button:
                tab.locator(f"form.{form} button[value='{button}']").click()
            else:
                tab.locator(f"form.{form} button[type='submit']").first.click()

    tab.locator("#reply-body").fill("我们已为您安排补发，预计两天内送达。")
    submit("reply-form")
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["sent"])
    expect(tab.locator("li.message-reply").last).to_contain_text("我们已为您安排补发")

    tab.locator("#note-body").fill("已联系仓库，补发单号 SF1234567890。")
    submit("note-form")
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["note"])
    expect(tab.locator("li.message-note").last).to_contain_text("SF1234567890")

    tab.locator("#transfer-team").select_option(label="账务组")
    tab.locator("#transfer-reason").fill("涉及运费退款")
    submit("transfer-form")
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["transferred"])
    expect(tab.locator("#ticket-team")).to_have_text("账务组")

    submit("status-form", "pause")
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["paused"])
    expect(tab.locator("#sla .badge-paused").first).to_be_visible()

    tab.locator("#resolution").fill("已补发并退还运费")
    submit("status-form", "resolve")
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["resolved"])
    expect(tab.locator("#ticket-status")).to_have_text(words["status"])

    events = tab.locator("#events .event-title")
    for title in words["events"]:
        expect(events.filter(has_text=title).first).to_be_visible()
    assert tab.url.startswith(ticket_url.split("?")[0])
    if code == "zh-Hans":
        _screenshot(tab, "ticket-zh.png")


def test_a_stale_form_shows_the_changed_by_someone_else_message(
    browser: Browser, served: Served
) -> None:
    """Two tabs on one ticket: the second one's note makes the first one's reply stale (409,
    which the browser logs as a failed load, so this test has its own contexts)."""
    path = f"/tickets/{served.desk.tickets[SUBJECTS[1]]}"
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        first, second = (context.new_page() for context in contexts)
        log_in(first, served, AGENT_EMAIL, path)
        log_in(second, served, AGENT_EMAIL, path)
        second.locator("#note-body").fill("我先处理。")
        with second.expect_navigation():
            second.locator("form.note-form button[type='submit']").click()
        first.locator("#reply-body").fill("您好，发票已重开。")
        with first.expect_navigation():
            first.locator("form.reply-form button[type='submit']").first.click()
        expect(first.locator("#action-error")).to_contain_text("Someone else changed this ticket")
        expect(first.locator("li.message-note").last).to_contain_text("我先处理。")
        expect(first.locator("li.message-reply")).to_have_count(0)
        # the typed reply survived the conflict: after checking, it is sent as it is
        expect(first.locator("#reply-body")).to_have_value("您好，发票已重开。")
        with first.expect_navigation():
            first.locator("form.reply-form button[type='submit']").first.click()
        expect(first.locator("p.notice[role='status']")).to_have_text(
            "Your reply was sent to the customer."
        )
        expect(first.locator("li.message-reply")).to_have_count(1)
        expect(first.locator("li.message-reply")).to_contain_text("您好，发票已重开。")
        expect(first.locator("#reply-body")).to_have_value("")
    finally:
        for context in contexts:
            context.close()


@pytest.mark.parametrize(
    ("code", "confirmation"),
    [("en", "Ticket #{} transferred to 物流组."), ("zh-Hans", "工单 #{} 已转给 物流组。")],
    ids=["en", "zh"],
)
def test_a_transfer_to_a_team_the_agent_is_not_in_lands_on_the_queue(
    tab: Page, served: Served, code: str, confirmation: str
) -> None:
    # 一线客服's ticket waiting on the customer (en) and a resolved one (zh); the agent is in
    # 一线客服 and 账务组, not in 物流组
    ticket = served.desk.tickets[SUBJECTS[3] if code == "en" else SUBJECTS[4]]
    log_in(tab, served, AGENT_EMAIL, f"/tickets/{ticket}")
    if code != "en":
        tab.locator(f"a[data-locale='{code}']").click()
        expect(tab.locator("html")).to_have_attribute("lang", code)
    tab.locator("#transfer-team").select_option(label="物流组")
    with tab.expect_navigation():
        tab.locator("form.transfer-form button[type='submit']").click()
    expect(tab.locator("p.notice[role='status']")).to_have_text(confirmation.format(ticket))
    expect(tab.get_by_role("heading", name=WORDS[code]["queue"])).to_be_visible()
    expect(tab.locator(f"table.queue-table tr[data-ticket='{ticket}']")).to_have_count(0)


def test_manager_pages_for_the_user_guide(tab: Page, served: Served) -> None:
    log_in(tab, served, MANAGER_EMAIL, "/customers")
    expect(tab.locator("table.customer-table tbody tr")).to_have_count(25)
    tab.locator("input[name='q']").fill("138 0013 8000")
    with tab.expect_navigation():
        tab.locator("form.filter-form button[type='submit']").click()
    expect(tab.locator("table.customer-table tbody tr")).to_have_count(1)
    tab.goto(f"{served.base_url}/customers")
    _screenshot(tab, "customers-en.png")

    tab.goto(f"{served.base_url}/tickets")
    expect(tab.locator("span.badge-breached").first).to_be_visible()
    _screenshot(tab, "queue-en.png")

    tab.goto(f"{served.base_url}/service")
    expect(tab.locator("svg.chart-bar")).to_have_count(2)
    _screenshot(tab, "service-en.png")

    zhang = served.seeded.customer_ids["张伟"]
    tab.goto(f"{served.base_url}/customers/{zhang}")
    tab.locator("a[data-locale='zh-Hans']").click()
    expect(tab.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(tab.locator("#value-card")).to_contain_text("存活概率")
    expect(tab.locator("#timeline li.timeline-item").first).to_be_visible()
    _screenshot(tab, "customer-360-zh.png")
    tab.locator("a[data-locale='en']").click()
    expect(tab.locator("html")).to_have_attribute("lang", "en")
