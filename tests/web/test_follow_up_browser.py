"""Closing the loop in a real browser, in English and Chinese, on a desktop (1280 px) and a phone
(390 px): a lead opens the follow-up queue, opens a detractor's recovery ticket in one click,
follows the notice's link to the ticket and finds it assigned to themself; the service-quality
gaps page (tables and scatter charts over rated tickets) fits the window too.

Screenshots of both pages (English on a desktop, Chinese on a phone) go to ``docs/screenshots/``
when ``KEHU_SCREENSHOTS=1`` (or ``KEHU_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import os
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
from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.desk.ticket_queries import get_ticket
from kehu.feedback import follow_up, responses, surveys
from kehu.feedback.responses import ResponseContext
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

SAVE_SCREENSHOTS = UPDATE_SCREENSHOTS or os.environ.get("KEHU_SCREENSHOTS") == "1"
PASSWORD = "a long and secret passphrase"
LEAD_EMAIL = "wang.jingli@example.com"
LEAD = "王经理"
DETRACTORS = ("张伟", "李娜", "王芳", "刘洋")
WORDS = {
    "en": {"opened": "Recovery ticket #{} opened and assigned to you.", "open": "Open the ticket"},
    "zh-Hans": {"opened": "补救工单 #{} 已开，并已分派给您。", "open": "打开工单"},
}
#: (language, viewport width)
CASES = [("en", 1280), ("zh-Hans", 390), ("en", 390), ("zh-Hans", 1280)]
IDS = ["en-desktop", "zh-phone", "en-phone", "zh-desktop"]

AFTER_TICKET = {
    "title": {"en": "After your ticket", "zh-Hans": "工单之后"},
    "dimensions": [{"id": "reliability", "name": {"en": "Reliability", "zh-Hans": "可靠性"}}],
    "questions": [
        {
            "id": "promise",
            "type": "servqual_pair",
            "text": {"en": "Kept its promise", "zh-Hans": "守约"},
            "dimension": "reliability",
            "required": True,
        },
        {
            "id": "effort",
            "type": "ces",
            "text": {"en": "Made it easy", "zh-Hans": "办事容易"},
            "required": True,
        },
    ],
}


@dataclass
class Served:
    base_url: str
    database: Database
    desk: SeededDesk
    items: dict[str, int]  # customer name -> follow-up id


def _answer(session, survey_id: int, context: ResponseContext, answers: dict) -> None:  # type: ignore[no-untyped-def]
    started = responses.start_response(session, SYSTEM, survey_id, context)
    responses.submit_response(session, SYSTEM, started.id, answers)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The whole app over a seeded SQLite store: the lead (a manager, user 1), four detractors
    in the queue, and the resolved tickets rated."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('follow-up') / 'kehu.db'}")
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
            (LEAD_EMAIL, LEAD, "manager"),
            ("li@example.com", "李客服", "agent"),
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
    manager = Principal.for_user(1, ["manager"])
    with database.session() as session:
        nps = surveys.create_survey(session, manager, name="NPS", template_key="nps")
        surveys.publish_survey(session, manager, nps.id)
        for k, name in enumerate(DETRACTORS):
            context = ResponseContext(customer_id=desk.customer_ids[name])
            _answer(session, nps.id, context, {"recommend": k})
        after = surveys.create_survey(session, manager, name="After", definition=AFTER_TICKET)
        surveys.publish_survey(session, manager, after.id)
        for k, subject in enumerate((SUBJECTS[4], SUBJECTS[5], SUBJECTS[9], SUBJECTS[10])):
            ticket = get_ticket(session, manager, desk.tickets[subject])
            context = ResponseContext(customer_id=ticket.customer_id, ticket_id=ticket.id)
            answers = {
                "promise": {"expectation": 7, "perception": (7, 3, 6, 2)[k]},
                "effort": (7, 5, 6, 2)[k],
            }
            _answer(session, after.id, context, answers)
        rows = follow_up.list_follow_ups(session, manager)
    by_customer = {row.customer_id: row.id for row in rows}
    items = {name: by_customer[desk.customer_ids[name]] for name in DETRACTORS}
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-follow-up-test-server") as base_url:
            yield Served(base_url, database, desk, items)
    finally:
        database.dispose()


@pytest.fixture
def tab(browser: Browser, served: Served, request: pytest.FixtureRequest) -> Iterator[Page]:
    _code, width = request.node.callspec.params["case"]
    with local_page(
        browser,
        served.base_url,
        viewport={"width": width, "height": 900},
        locale="en-US",
        device_scale_factor=1,
    ) as page:
        yield page


def _log_in(page: Page, served: Served, target: str, code: str) -> None:
    page.goto(f"{served.base_url}{target}")
    page.wait_for_url(f"**/login?next={target}")
    page.locator("#login-username").fill(LEAD_EMAIL)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}{target}")
    if code != "en":
        page.locator(f"a[data-locale='{code}']").click()
        expect(page.locator("html")).to_have_attribute("lang", code)


def _fits(page: Page, width: int, where: str) -> None:
    assert page.viewport_size is not None and page.viewport_size["width"] == width
    assert_fits_the_window(page, where)


def _screenshot(page: Page, name: str, code: str, kind: str) -> None:
    """English at desktop width and Chinese at phone width, as the other pages' screenshots."""
    if SAVE_SCREENSHOTS and (code, kind) in (("en", "desktop"), ("zh-Hans", "phone")):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_lead_opens_a_recovery_ticket_from_the_queue(
    tab: Page, served: Served, case: tuple[str, int]
) -> None:
    code, width = case
    words = WORDS[code]
    item = served.items[DETRACTORS[CASES.index(case)]]
    _log_in(tab, served, "/feedback/follow-up", code)
    row = tab.locator(f"tr[data-follow-up='{item}']")
    expect(row).to_have_count(1)
    _fits(tab, width, "the follow-up queue")
    with tab.expect_navigation():
        row.locator("button.open-recovery").click()
    notice = tab.locator("#follow-up-notice")
    link = notice.locator("a")
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/tickets/")
    ticket_id = int(href.rsplit("/", 1)[1])
    expect(notice).to_contain_text(words["opened"].format(ticket_id))
    expect(tab.locator(f"tr[data-follow-up='{item}']")).to_have_count(0)  # no longer open
    _fits(tab, width, "the queue after the click")
    kind = "desktop" if width > 600 else "phone"
    _screenshot(tab, f"follow-up-queue-{code}-{kind}.png", code, kind)
    with tab.expect_navigation():
        link.click()
    expect(tab.locator("#ticket-assignee")).to_have_text(LEAD)
    tab.goto(f"{served.base_url}/feedback/service-gaps")
    expect(tab.locator("svg.chart-scatter")).to_have_count(2)
    _fits(tab, width, "the service-quality gaps")
    _screenshot(tab, f"service-gaps-{code}-{kind}.png", code, kind)
