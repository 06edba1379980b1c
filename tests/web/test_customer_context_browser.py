"""The customer panel beside the ticket and the stored possible duplicate in a real browser
(Debian's chromium via Playwright, the whole app served by uvicorn), in English and Chinese, at
desktop (1280 px) and phone (390 px) width: a manager sees the value tier and the lifetime
value, an agent the tier only; at 390 px the panel comes below the conversation, inside the
screen; an agent dismisses a possible duplicate and it is gone.

Screenshots of the ticket page with the panel go to ``docs/screenshots/`` when
``KEHU_UPDATE_SCREENSHOTS=1`` (``ticket-context-desktop.png``, ``ticket-context-phone.png``
and their ``-zh`` twins).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count

import pytest
from browser_support import (
    SCREENSHOTS,
    UPDATE_SCREENSHOTS,
    assert_fits_the_window,
    local_page,
    serving,
)
from desk_support import SETTINGS, SeededDesk, seed_desk
from playwright.sync_api import Browser, Page, expect
from web_support import SeededRun, seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.desk.public import ComplaintForm, file_complaint
from kehu.desk.tables import Ticket
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
MANAGER_EMAIL = "wang.jingli@example.com"
AGENT_EMAIL = "li.kefu@example.com"
WIDTHS = {"desktop": 1280, "phone": 390}
_complaints = count(1)


@dataclass
class Served:
    base_url: str
    database: Database
    seeded: SeededRun
    desk: SeededDesk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('context') / 'kehu.db'}")
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
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-context-test-server") as base_url:
            yield Served(base_url, database, seeded, desk)
    finally:
        database.dispose()


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tab(browser: Browser, served: Served, width: str) -> Iterator[Page]:
    with local_page(
        browser,
        served.base_url,
        viewport={"width": WIDTHS[width], "height": 900},
        locale="en-US",
        device_scale_factor=1,
    ) as page:
        yield page


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


def weak_match_ticket(served: Served) -> int:
    """A complaint from a new email address with 张伟's phone, in the agent's team."""
    with served.database.session() as session:
        ack = file_complaint(
            session,
            ComplaintForm(
                name="张先生",
                email=f"zhang.new{next(_complaints)}@example.com",
                phone="13800138000",
                subject="杯子又碎了",
                description="第二次收到破损的包裹。",
            ),
            now=datetime.now(UTC),
            client_address=None,
            settings=SETTINGS,
        )
        ticket = session.get(Ticket, ack.ticket_id)
        assert ticket is not None
        ticket.team_id = served.desk.teams["一线客服"]
        return ticket.id


def fits_the_screen(page: Page, width: str) -> None:
    assert page.viewport_size is not None and page.viewport_size["width"] == WIDTHS[width]
    assert_fits_the_window(page)


WORDS = {
    "en": {"title": "About the customer", "tier": "Value tier", "clv": "Lifetime value"},
    "zh-Hans": {"title": "客户概况", "tier": "价值层级", "clv": "终身价值"},
}
DISMISSED = {
    "en": "The possible duplicate was dismissed.",
    "zh-Hans": "已忽略该可能重复的客户。",
}


@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
def test_a_manager_sees_tier_and_lifetime_value(
    tab: Page, served: Served, width: str, code: str
) -> None:
    words = WORDS[code]
    target = f"/tickets/{served.desk.front_ticket}"
    log_in(tab, served, MANAGER_EMAIL, target, code)
    panel = tab.locator("#customer-context")
    expect(panel.get_by_role("heading", name=words["title"])).to_be_visible()
    tier = served.seeded.tiers["张伟"]
    expect(panel.locator(f".context-tier .tier-{tier}")).to_be_visible()
    expect(panel).to_contain_text(words["clv"])
    expect(panel.locator(".context-clv")).to_contain_text("¥")
    conversation = tab.locator("section.conversation").bounding_box()
    box = panel.bounding_box()
    assert conversation is not None and box is not None
    if width == "phone":  # one column: the panel comes after the conversation
        assert box["y"] >= conversation["y"] + conversation["height"]
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTHS[width]
    else:  # beside it
        assert box["x"] >= conversation["x"] + conversation["width"]
    fits_the_screen(tab, width)
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        suffix = "" if code == "en" else "-zh"
        tab.screenshot(
            path=str(SCREENSHOTS / f"ticket-context-{width}{suffix}.png"), full_page=True
        )


@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
def test_an_agent_sees_the_tier_only_and_dismisses_a_duplicate(
    tab: Page, served: Served, width: str, code: str
) -> None:
    words = WORDS[code]
    log_in(tab, served, AGENT_EMAIL, f"/tickets/{served.desk.front_ticket}", code)
    panel = tab.locator("#customer-context")
    expect(panel.locator(f".context-tier .tier-{served.seeded.tiers['张伟']}")).to_be_visible()
    expect(panel).to_contain_text(words["tier"])
    expect(panel).not_to_contain_text(words["clv"])
    expect(panel.locator(".context-clv")).to_have_count(0)
    fits_the_screen(tab, width)

    ticket = weak_match_ticket(served)
    tab.goto(f"{served.base_url}/tickets/{ticket}")
    notice = tab.locator(".notice-duplicate")
    expect(notice).to_have_count(1)
    expect(notice.locator("a", has_text="张伟")).to_be_visible()
    expect(notice.locator("button.confirm-duplicate")).to_have_count(0)  # agents do not merge
    fits_the_screen(tab, width)
    with tab.expect_navigation():
        notice.locator("button.dismiss-duplicate").click()
    expect(tab.locator("p.notice[role='status']")).to_have_text(DISMISSED[code])
    expect(tab.locator(".notice-duplicate")).to_have_count(0)
    tab.reload()
    expect(tab.locator(".notice-duplicate")).to_have_count(0)  # it stays dismissed
