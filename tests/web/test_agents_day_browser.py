"""Issue 8's integrated flows in a real browser (Debian's chromium through Playwright, the whole
app served by uvicorn), in English and Chinese, on a desktop (1280 px) and a phone (390 px):

* the agent's day, as one session: find a ticket in the queue by a word of its subject, take
  it, reply with a canned reply (the customer's name filled in), add a note with a file that
  @mentions a colleague picked from the suggestions (who finds it among their notifications in
  a second browser context), transfer the ticket to another team, then resolve a ticket of
  their own team; no page spills sideways;
* the lead's flow: bulk-assign three tickets from the queue to an agent, then follow a figure
  of the desk dashboard to its tickets.

One server per module; each case files its own tickets (words unique to the case), so the
cases share the seeded desk without stepping on each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import assert_fits_the_window, local_page, serving
from desk_support import SeededDesk, seed_desk
from playwright.sync_api import Browser, LocatorAssertions, Page, expect
from web_support import seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.core.users.tables import User
from kehu.desk import routing
from kehu.desk.schemas import TicketCreate
from kehu.desk.ticket_commands import create_ticket
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
LEAD_EMAIL = "wang.jingli@example.com"  # user 1, manager
AGENT_EMAIL = "li.kefu@example.com"  # user 2, agent in 一线客服
COLLEAGUE_EMAIL = "chen.kefu@example.com"  # user 3, agent in 一线客服
AGENT, COLLEAGUE = "李客服", "陈客服"
CUSTOMER = "张伟"
FRONT, BILLING, LOGISTICS = "一线客服", "账务组", "物流组"
PHONE = 390
SIZES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1},
    "phone": {
        "viewport": {"width": PHONE, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
#: A word of the subjects filed for each case (the queue's search finds them by it).
CASE_WORDS = {
    ("en", "desktop"): "Kettle",
    ("en", "phone"): "Toaster",
    ("zh-Hans", "desktop"): "茶壶",
    ("zh-Hans", "phone"): "电饭煲",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
WORDS = {
    "en": {
        "locale": "en-US",
        "taken": "You took the ticket.",
        "taken_event": "Taken",
        "sent": "Your reply was sent to the customer.",
        "replied_event": "Reply sent to the customer",
        "note": "The internal note was added.",
        "note_event": "Internal note added",
        "mentioned": "李客服 mentioned you on ticket #{}",
        "transferred": "Ticket #{} transferred to 账务组.",
        "resolved": "The ticket is resolved.",
        "resolved_event": "Resolved",
        "resolved_status": "Resolved",
        "changed": "3 tickets changed.",
        "dashboard": "Desk dashboard",
    },
    "zh-Hans": {
        "locale": "zh-CN",
        "taken": "您已认领这张工单。",
        "taken_event": "已认领",
        "sent": "您的回复已发送给客户。",
        "replied_event": "已回复客户",
        "note": "内部备注已添加。",
        "note_event": "已添加内部备注",
        "mentioned": "李客服在工单 #{} 中提到了您",
        "transferred": "工单 #{} 已转给 账务组。",
        "resolved": "工单已解决。",
        "resolved_event": "已解决",
        "resolved_status": "已解决",
        "changed": "已更改 3 个工单。",
        "dashboard": "客服看板",
    },
}


@dataclass
class Served:
    base_url: str
    database: Database
    desk: SeededDesk
    settings: Settings

    def file(self, subject: str, team: str) -> int:
        """A new open ticket of 张伟's, filed by the web form into ``team``."""
        with self.database.session() as session:
            return create_ticket(
                session,
                SYSTEM,
                TicketCreate(
                    customer_id=self.desk.customer_ids[CUSTOMER],
                    kind="complaint",
                    channel="web_form",
                    subject=subject,
                    team_id=self.desk.teams[team],
                ),
                settings=self.settings,
                acknowledge=False,
            ).id


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The whole app over the seeded desk (with its canned replies): a lead (manager, user 1),
    an agent (2) and a colleague (3), both agents in 一线客服."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('day') / 'kehu.db'}")
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
            (AGENT_EMAIL, AGENT, "agent"),
            (COLLEAGUE_EMAIL, COLLEAGUE, "agent"),
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
        routing.add_team_member(session, SYSTEM, desk.teams[FRONT], 3)
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-agents-day-test-server") as base_url:
            yield Served(base_url, database, desk, settings)
    finally:
        database.dispose()


def _tab(browser: Browser, served: Served, code: str, size: str) -> AbstractContextManager[Page]:
    return local_page(
        browser,
        served.base_url,
        failed_requests_fail=True,
        locale=WORDS[code]["locale"],
        **SIZES[size],
    )


def _log_in(page: Page, served: Served, email: str, target: str, code: str) -> None:
    page.goto(f"{served.base_url}{target}")
    page.wait_for_url(f"**/login?next={target}")
    page.locator("#login-username").fill(email)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}{target}")
    if code != "en":
        page.locator(f"a[data-locale='{code}']").click()
        expect(page.locator("html")).to_have_attribute("lang", code)


def _fits(page: Page) -> None:
    assert_fits_the_window(page)


def _notice(page: Page) -> LocatorAssertions:
    return expect(page.locator("p.notice[role='status']"))


def _latest(page: Page, kind: str) -> LocatorAssertions:
    return expect(page.locator(f"#events li.event[data-event='{kind}'] .event-title").first)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("code", list(WORDS), ids=["en", "zh"])
def test_an_agents_day(
    browser: Browser, served: Served, code: str, size: str, tmp_path: Path
) -> None:
    words = WORDS[code]
    word = CASE_WORDS[(code, size)]
    ticket = served.file(f"{word} arrived broken", FRONT)
    own = served.file(f"{word} lid is missing", FRONT)
    with served.database.session() as session:
        session.get_one(User, 3).locale = code  # the colleague reads the mention in this language

    with _tab(browser, served, code, size) as page:
        _log_in(page, served, AGENT_EMAIL, "/tickets", code)
        _fits(page)

        # the queue: a word of the subject finds the ticket
        page.locator("#queue-search").fill(f"{word} arrived")
        with page.expect_navigation():
            page.locator("form.queue-filters button[type='submit']").click()
        rows = page.locator("table.queue-table tbody tr[data-ticket]")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-ticket", str(ticket))
        _fits(page)
        with page.expect_navigation():
            rows.first.locator("td.ticket-subject a").click()
        assert page.url == f"{served.base_url}/tickets/{ticket}"

        # take it
        with page.expect_navigation():
            page.locator("#take-ticket").click()
        _notice(page).to_have_text(words["taken"])
        expect(page.locator("#ticket-assignee")).to_have_text(AGENT)
        _latest(page, "assigned").to_have_text(words["taken_event"])
        _fits(page)

        # reply with a canned reply, its placeholders filled in for this ticket
        page.locator("#macro-choice").select_option(label="破损补发")
        page.locator("#use-macro").click()
        reply = page.locator("#reply-body")
        expect(reply).to_be_focused()
        text = reply.input_value()
        assert CUSTOMER in text and f"#{ticket}" in text and AGENT in text and "{" not in text
        with page.expect_navigation():
            page.locator("form.reply-form button[type='submit']").click()
        _notice(page).to_have_text(words["sent"])
        sent = page.locator("li.message-reply").last
        expect(sent).to_contain_text(CUSTOMER)
        expect(sent).to_contain_text(f"#{ticket}")
        _latest(page, "replied").to_have_text(words["replied_event"])
        _fits(page)

        # a note with a file, mentioning the colleague
        photo = tmp_path / f"{word}-photo.png"
        photo.write_bytes(PNG)
        note = page.locator("#note-body")
        note.click()
        note.press_sequentially("@chen")
        expect(page.locator("#note-body-mentions li[data-username='chen.kefu']")).to_be_visible()
        note.press("Enter")  # the suggestion taken from the list
        expect(note).to_have_value("@chen.kefu ")
        note.press_sequentially("请看照片，今天回电客户")
        page.locator("#note-attachment").set_input_files(str(photo))
        with page.expect_navigation():
            page.locator("form.note-form button[type='submit']").click()
        _notice(page).to_have_text(words["note"])
        expect(page.locator("li.message-note mark.mention").last).to_have_text("@chen.kefu")
        expect(page.locator("#attachments li.attachment").last).to_contain_text(photo.name)
        _latest(page, "note_added").to_have_text(words["note_event"])
        _fits(page)

        # the colleague, in a second browser context, finds the mention among the notifications
        with _tab(browser, served, code, size) as colleague:
            _log_in(colleague, served, COLLEAGUE_EMAIL, "/notifications", code)
            mention = colleague.locator("li.notification-unread", has_text=f"#{ticket}")
            expect(mention).to_have_count(1)
            expect(mention).to_contain_text(words["mentioned"].format(ticket))
            _fits(colleague)

        # transfer to billing: out of the agent's team, so back to the queue with a notice
        page.locator("#transfer-team").select_option(str(served.desk.teams[BILLING]))
        page.locator("#transfer-reason").fill("退款问题")
        with page.expect_navigation():
            page.locator("form.transfer-form button[type='submit']").click()
        _notice(page).to_have_text(words["transferred"].format(ticket))
        expect(page.locator(f"table.queue-table tr[data-ticket='{ticket}']")).to_have_count(0)
        _fits(page)

        # resolve a ticket of the agent's own team
        page.goto(f"{served.base_url}/tickets/{own}")
        page.locator("#resolution").fill("已补发")
        with page.expect_navigation():
            page.locator("form.status-form button[value='resolve']").click()
        _notice(page).to_have_text(words["resolved"])
        expect(page.locator("#ticket-status")).to_have_text(words["resolved_status"])
        _latest(page, "resolved").to_have_text(words["resolved_event"])
        expect(
            page.locator("#events li.event[data-event='resolved'] .event-detail").first
        ).to_contain_text("已补发")
        _fits(page)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("code", list(WORDS), ids=["en", "zh"])
def test_a_leads_flow(browser: Browser, served: Served, code: str, size: str) -> None:
    words = WORDS[code]
    word = f"Bulk{CASE_WORDS[(code, size)]}"
    chosen = [served.file(f"{word} order {team}", team) for team in (FRONT, BILLING, LOGISTICS)]

    with _tab(browser, served, code, size) as page:
        _log_in(page, served, LEAD_EMAIL, "/tickets", code)
        page.locator("#queue-search").fill(word)
        with page.expect_navigation():
            page.locator("form.queue-filters button[type='submit']").click()
        expect(page.locator("table.queue-table tbody tr[data-ticket]")).to_have_count(3)
        for ticket_id in chosen:
            page.locator(f"tr[data-ticket='{ticket_id}'] input[name='ticket']").check()
        page.locator("#bulk-action").select_option("assign")
        page.locator("#bulk-assignee").select_option("2")
        _fits(page)
        with page.expect_navigation():
            page.locator("#bulk-apply").click()
        _notice(page).to_have_text(words["changed"])
        expect(page.locator(".bulk-refused li")).to_have_count(0)
        expect(page.locator("#queue-search")).to_have_value(word)  # back on the same queue
        for ticket_id in chosen:
            expect(page.locator(f"tr[data-ticket='{ticket_id}'] td.assignee")).to_have_text(AGENT)
        _fits(page)

        # the dashboard: billing's open tickets (one of them just assigned), as many listed as
        # the figure counts
        page.locator("a[data-nav='dashboard']").click()
        expect(page.get_by_role("heading", level=1, name=words["dashboard"])).to_be_visible()
        _fits(page)
        cells = page.locator(
            f"table.backlog-table tbody tr[data-team='{served.desk.teams[BILLING]}'] td a"
        )
        total = cells.nth(cells.count() - 2)  # the row's total, before the overdue ones
        shown = int(total.inner_text())
        assert shown >= 1
        with page.expect_navigation():
            total.click()
        count = page.locator("p.figure-count")
        expect(count).to_contain_text(str(shown))
        assert int(count.get_attribute("data-count") or "-1") == shown
        expect(page.locator("table.dashboard-tickets tbody tr")).to_have_count(shown)
        expect(
            page.locator(f"table.dashboard-tickets tr[data-ticket='{chosen[1]}']")
        ).to_have_count(1)
        _fits(page)
