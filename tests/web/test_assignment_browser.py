"""Assignment in a real browser, in English and Chinese, on a desktop (1280 px) and a phone
(390 px): an agent takes a ticket from the ticket page and reassigns it to a colleague; a
manager sets a team to round robin on the teams settings page and the next ticket arriving in
that team is assigned automatically, the event naming the rule.

Screenshots of the new pages go to ``docs/screenshots/`` when ``KEHU_SCREENSHOTS=1`` (or
``KEHU_UPDATE_SCREENSHOTS=1``): the settings pages and the ticket page's assignment, in English
at desktop width and in Chinese at phone width.
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
from desk_support import SeededDesk, seed_desk
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update
from web_support import seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.desk import routing
from kehu.desk.schemas import TicketCreate
from kehu.desk.tables import Team, Ticket
from kehu.desk.ticket_commands import create_ticket
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
MANAGER_EMAIL = "wang.jingli@example.com"
AGENT_EMAIL = "li.kefu@example.com"
COLLEAGUE = "陈客服"
FRONT = "一线客服"
SAVE_SCREENSHOTS = UPDATE_SCREENSHOTS or os.environ.get("KEHU_SCREENSHOTS") == "1"

WORDS = {
    "en": {
        "take": "Take it",
        "taken": "You took the ticket.",
        "reassign": "Reassign",
        "assigned": "The ticket was assigned.",
        "taken_event": "Taken",
        "round_robin": "Round robin",
        "saved": "The team's automatic assignment was changed.",
        "auto": "Auto-assigned by round robin",
    },
    "zh-Hans": {
        "take": "我来处理",
        "taken": "您已认领这张工单。",
        "reassign": "改派",
        "assigned": "工单已分配。",
        "taken_event": "已认领",
        "round_robin": "轮流分配",
        "saved": "团队的自动分配方式已更改。",
        "auto": "按轮流规则自动分配",
    },
}
#: (language, viewport width): English on a desktop, Chinese on a phone, and the other two
CASES = [("en", 1280), ("zh-Hans", 390), ("en", 390), ("zh-Hans", 1280)]
IDS = ["en-desktop", "zh-phone", "en-phone", "zh-desktop"]


@dataclass
class Served:
    base_url: str
    database: Database
    desk: SeededDesk
    settings: Settings


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The whole app over a seeded SQLite store: a manager (user 1), an agent (user 2) and a
    colleague (user 3), both agents in 一线客服."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('assign') / 'kehu.db'}")
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
            ("chen.kefu@example.com", COLLEAGUE, "agent"),
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
        users.set_absence(session, SYSTEM, 1, absent=True)  # one colleague away, for the page
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-assignment-test-server") as base_url:
            yield Served(base_url, database, desk, settings)
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


def _screenshot(page: Page, name: str) -> None:
    if SAVE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


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


def _fits(page: Page, width: int) -> None:
    assert page.viewport_size is not None and page.viewport_size["width"] == width
    assert_fits_the_window(page)


def _free_front_ticket(served: Served, index: int) -> int:
    """An open ticket of 一线客服 nobody holds (one per case, the server is shared)."""
    with served.database.session() as session:
        ids = list(
            session.scalars(
                select(Ticket.id)
                .where(Ticket.team_id == served.desk.teams[FRONT])
                .where(Ticket.status_category == "open")
                .order_by(Ticket.id)
            )
        )
        ticket_id = ids[index % len(ids)]
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(assignee_id=None))
        return ticket_id


def _kind(width: int) -> str:
    return "desktop" if width > 600 else "phone"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_agent_takes_a_ticket_and_reassigns_it(
    tab: Page, served: Served, case: tuple[str, int]
) -> None:
    code, width = case
    words = WORDS[code]
    ticket_id = _free_front_ticket(served, CASES.index(case))
    _log_in(tab, served, AGENT_EMAIL, f"/tickets/{ticket_id}", code)
    with tab.expect_navigation():
        tab.locator("#take-ticket").click()
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["taken"])
    expect(tab.locator("#ticket-assignee")).to_have_text("李客服")
    expect(tab.locator("#events .event-title").first).to_have_text(words["taken_event"])
    expect(tab.locator("#take-ticket")).to_have_count(0)
    _fits(tab, width)
    tab.locator("#assignee").select_option(label=COLLEAGUE)
    expect(tab.locator("#assign-ticket")).to_have_text(words["reassign"])
    with tab.expect_navigation():
        tab.locator("#assign-ticket").click()
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["assigned"])
    expect(tab.locator("#ticket-assignee")).to_have_text(COLLEAGUE)
    # the agent may take it back: it is held by someone else now
    expect(tab.locator("#take-ticket")).to_have_text(words["take"])
    if case in (("en", 1280), ("zh-Hans", 390)):
        tab.locator("#assignment").scroll_into_view_if_needed()
        _screenshot(tab, f"ticket-assignment-{_kind(width)}.png")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_manager_sets_round_robin_and_the_next_ticket_is_assigned(
    tab: Page, served: Served, case: tuple[str, int]
) -> None:
    code, width = case
    words = WORDS[code]
    front = served.desk.teams[FRONT]
    with served.database.session() as session:
        session.execute(update(Team).where(Team.id == front).values(assignment_mode="none"))
    _log_in(tab, served, MANAGER_EMAIL, "/settings/teams", code)
    team = tab.locator(f"section.team[data-team='{front}']")
    team.locator("select[name='assignment_mode']").select_option(label=words["round_robin"])
    with tab.expect_navigation():
        team.locator("form.mode-form button[type='submit']").click()
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["saved"])
    expect(
        tab.locator(f"section.team[data-team='{front}'] select[name='assignment_mode']")
    ).to_have_value("round_robin")
    _fits(tab, width)
    if case in (("en", 1280), ("zh-Hans", 390)):
        _screenshot(tab, f"settings-teams-{_kind(width)}.png")

    with served.database.session() as session:
        customer_id = session.scalar(select(Ticket.customer_id).order_by(Ticket.id).limit(1))
        assert customer_id is not None
        ticket = create_ticket(
            session,
            SYSTEM,
            TicketCreate(
                customer_id=customer_id,
                kind="inquiry",
                channel="phone",
                subject="Where is my parcel?",
                team_id=front,
            ),
            settings=served.settings,
            acknowledge=False,
        )
        ticket_id, assignee = ticket.id, ticket.assignee_id
    assert assignee in (2, 3)
    tab.goto(f"{served.base_url}/tickets/{ticket_id}")
    expect(tab.locator("#ticket-assignee")).to_have_text("李客服" if assignee == 2 else COLLEAGUE)
    expect(tab.locator("#events .event-title").first).to_have_text(words["auto"])

    tab.goto(f"{served.base_url}/settings/users")
    expect(tab.locator("li.person[data-user='1'] .person-away")).to_be_visible()
    _fits(tab, width)
    if case in (("en", 1280), ("zh-Hans", 390)):
        _screenshot(tab, f"settings-users-{_kind(width)}.png")
