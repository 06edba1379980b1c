"""An agent corrects a ticket's complaint themes in a real browser (Debian's chromium via
Playwright, the whole app served by uvicorn), in English and Chinese, at desktop (1280 px) and
phone (390 px) width: the ticket tagged "delivery" by the job is set to "faulty product"
instead, the page says so and shows the agent's theme, the next tagging run keeps it, and the
panel fits the screen; the themes page, with the tagged tickets, fits it too. The expected
themes are the default catalogue's names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from browser_support import assert_fits_the_window, local_page, serving
from desk_support import SETTINGS, SeededDesk, seed_desk
from playwright.sync_api import Browser, Page, expect
from web_support import seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.desk.schemas import TicketCreate
from kehu.desk.ticket_commands import create_ticket
from kehu.feedback import themes
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
AGENT_EMAIL = "li.kefu@example.com"
WIDTHS = {"desktop": 1280, "phone": 390}
WORDS = {
    "en": {"delivery": "Delivery", "defect": "Faulty products", "correct": "Correct the themes",
           "save": "Save the themes", "done": "The ticket's themes were corrected",
           "agent": "set by an agent"},
    "zh-Hans": {"delivery": "物流配送", "defect": "质量问题", "correct": "修改主题",
                "save": "保存主题设置", "done": "工单的主题已更正", "agent": "坐席设定"},
}  # fmt: skip


@dataclass
class Served:
    base_url: str
    database: Database
    desk: SeededDesk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('themes') / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = Settings(
        database_url=database.url, session_cookie_secure=False, currency="CNY",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    with database.session() as session:
        users.create_user(
            session, SYSTEM, email="wang.jingli@example.com", display_name="王经理",
            role="manager", password=PASSWORD, settings=settings,
        )  # fmt: skip
        users.create_user(
            session, SYSTEM, email=AGENT_EMAIL, display_name="李客服", role="agent",
            password=PASSWORD, settings=settings,
        )  # fmt: skip
    seeded = seed_value_run(database)
    desk = seed_desk(database, seeded.customer_ids, agent_user_id=2)
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-themes-test-server") as base_url:
            yield Served(base_url, database, desk)
    finally:
        database.dispose()


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tab(browser: Browser, served: Served, width: str) -> Iterator[Page]:
    with local_page(
        browser, served.base_url, viewport={"width": WIDTHS[width], "height": 900},
        locale="en-US", device_scale_factor=1,
    ) as page:  # fmt: skip
        yield page


def tagged_delivery_ticket(served: Served) -> int:
    """A new complaint about a late parcel in the agent's team, tagged by the job."""
    with served.database.session() as session:
        ticket = create_ticket(
            session,
            SYSTEM,
            TicketCreate(
                customer_id=served.desk.customer_ids["张伟"],
                kind="complaint",
                channel="email",
                subject="快递还没到",
                description="包裹一个星期了还没送到，物流信息不更新",
                team_id=served.desk.teams["一线客服"],
            ),
            now=datetime.now(UTC),
            settings=SETTINGS,
        )
        ticket_id = ticket.id
    with served.database.session() as session:
        themes.tag_new_texts(session)
    return ticket_id


def log_in(page: Page, served: Served, target: str, code: str) -> None:
    page.goto(f"{served.base_url}{target}")
    page.wait_for_url(f"**/login?next={target}")
    page.locator("#login-username").fill(AGENT_EMAIL)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}{target}")
    if code != "en":
        page.locator(f"a[data-locale='{code}']").click()
        expect(page.locator("html")).to_have_attribute("lang", code)


@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
def test_an_agent_corrects_a_theme_and_it_is_kept(
    tab: Page, served: Served, width: str, code: str
) -> None:
    words = WORDS[code]
    ticket = tagged_delivery_ticket(served)
    log_in(tab, served, f"/tickets/{ticket}", code)
    panel = tab.locator("#ticket-themes")
    expect(panel.locator(".theme-tag[data-theme='delivery']")).to_contain_text(words["delivery"])
    panel.get_by_text(words["correct"]).click()
    panel.get_by_role("checkbox", name=words["delivery"]).uncheck()
    panel.get_by_role("checkbox", name=words["defect"]).check()
    panel.get_by_role("button", name=words["save"]).click()
    expect(tab.locator(".notice, [role='status']").first).to_contain_text(words["done"])
    tags = tab.locator("#ticket-themes .theme-tag")
    expect(tags).to_have_count(1)
    expect(tags.first).to_have_attribute("data-theme", "defect")
    expect(tags.first).to_contain_text(words["agent"])
    assert_fits_the_window(tab, f"ticket themes, {width}, {code}")
    with served.database.session() as session:
        themes.tag_new_texts(session)  # the next run keeps the agent's theme
    tab.reload()
    expect(tab.locator("#ticket-themes .theme-tag")).to_have_count(1)
    expect(tab.locator("#ticket-themes .theme-tag").first).to_have_attribute("data-theme", "defect")


@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
def test_the_themes_page_fits_the_screen(tab: Page, served: Served, width: str, code: str) -> None:
    tagged_delivery_ticket(served)
    log_in(tab, served, "/feedback/themes", code)
    row = tab.locator("tr.theme-row[data-theme='delivery']")
    expect(row).to_contain_text(WORDS[code]["delivery"])
    assert_fits_the_window(tab, f"themes page, {width}, {code}")
