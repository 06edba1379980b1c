"""Working a ticket with canned replies, files and the keyboard, in a real browser, in English and
Chinese, at desktop width and on a 390 px phone: pick a macro (its placeholders filled in for the
ticket), send it with a file, see an over-limit file refused with the typed reply kept, open the
shortcut list with ``?`` and close it with Esc, move along the queue with j / k. A manager opens
/settings/macros and adds a macro there. Debian's chromium driven by Playwright, the whole app
(``kehu.app.create_app``) served by uvicorn.

Screenshots of the ticket page with the macro picker and of /settings/macros at 1280 and 390 px
are written to ``docs/screenshots/`` when ``KEHU_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
MANAGER_EMAIL = "wang.jingli@example.com"
AGENT_EMAIL = "li.kefu@example.com"
#: Small, so that an over-limit file is quick to make (the check is the desk's, whatever size).
LIMIT = 4_000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200

WIDTHS = {"desktop": 1280, "phone": 390}
WORDS = {
    "en": {
        "sent": "Your reply was sent to the customer.",
        "too_large": "The file is too large: attachments may be at most",
        "shortcuts": "Keyboard shortcuts",
        "next": "Next ticket in the queue",
        "macro_opening": "Dear ",
        "added": "The canned reply was added.",
        "deleted": "The canned reply was deleted.",
    },
    "zh-Hans": {
        "sent": "您的回复已发送给客户。",
        "too_large": "文件太大：附件最大",
        "shortcuts": "键盘快捷键",
        "next": "队列中的下一个工单",
        "macro_opening": "您好，很抱歉包裹破损。",
        "added": "已添加快捷回复。",
        "deleted": "已删除快捷回复。",
    },
}


@dataclass
class Served:
    base_url: str
    database: Database
    desk: SeededDesk
    customer_names: list[str]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The whole app over a seeded SQLite store (the web tests' desk, with its macros), a
    manager (user 1) and an agent (user 2, in 一线客服)."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('macros') / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = Settings(
        database_url=database.url,
        session_cookie_secure=False,
        currency="CNY",
        timezone="Asia/Shanghai",
        attachment_max_bytes=LIMIT,
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
        with serving(app, "kehu-macros-test-server") as base_url:
            yield Served(base_url, database, desk, list(seeded.customer_ids))
    finally:
        database.dispose()


@pytest.fixture(params=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tab(browser: Browser, served: Served, width: str) -> Iterator[Page]:
    with local_page(
        browser,
        served.base_url,
        # the refused forms (an over-limit file, an unknown placeholder) answer 422 on purpose
        console_allows=lambda text: "status of 422" in text,
        viewport={"width": WIDTHS[width], "height": 900},
        locale="en-US",
        device_scale_factor=1,
    ) as page:
        yield page


def _screenshot(page: Page, name: str) -> None:
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def log_in(page: Page, served: Served, email: str, target: str, code: str) -> None:
    page.goto(f"{served.base_url}{target}")
    page.wait_for_url(f"**/login?next={target}")
    page.locator("#login-username").fill(email)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}{target}")
    if code != "en":
        page.goto(f"{served.base_url}/lang/{code}?next={target}")
        expect(page.locator("html")).to_have_attribute("lang", code)


def _no_horizontal_scroll(page: Page) -> None:
    assert_fits_the_window(page)


@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
def test_agent_replies_with_a_macro_and_a_file(
    tab: Page, served: Served, width: str, code: str, tmp_path: Path
) -> None:
    words = WORDS[code]
    ticket = served.desk.front_ticket
    log_in(tab, served, AGENT_EMAIL, f"/tickets/{ticket}", code)

    # the macro: its placeholders filled in for this ticket, in the page's language (the
    # customer's is not known)
    tab.locator("#macro-choice").select_option(label="破损补发")
    tab.locator("#use-macro").click()
    reply = tab.locator("#reply-body")
    expect(reply).to_be_focused()
    text = reply.input_value()
    assert words["macro_opening"] in text and f"#{ticket}" in text and "李客服" in text
    assert "{" not in text and any(name in text for name in served.customer_names)
    _screenshot(tab, f"ticket-macros-{'zh' if code != 'en' else 'en'}-{WIDTHS[width]}.png")
    _no_horizontal_scroll(tab)

    # sent with a file: listed under the ticket's files
    photo = tmp_path / "破损照片.png"
    photo.write_bytes(PNG)
    tab.locator("#reply-attachment").set_input_files(str(photo))
    with tab.expect_navigation():
        tab.locator("form.reply-form button[type='submit']").click()
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["sent"])
    expect(tab.locator("li.message-reply").last).to_contain_text(f"#{ticket}")
    expect(tab.locator("#attachments li.attachment").last).to_contain_text("破损照片.png")

    # a file over the limit: refused, the typed reply kept
    typed = f"Photos attached ({code}, {width})."
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\x00" * LIMIT)
    reply.fill(typed)
    tab.locator("#reply-attachment").set_input_files(str(big))
    with tab.expect_navigation():
        tab.locator("form.reply-form button[type='submit']").click()
    expect(tab.locator("#action-error")).to_contain_text(words["too_large"])
    expect(tab.locator("#reply-body")).to_have_value(typed)
    expect(tab.locator("li.message-reply")).not_to_contain_text([typed])

    # "?" lists the shortcuts (not while typing in a field); Esc closes the list; r and n
    tab.locator("#reply-body").press("?")
    expect(tab.locator("#shortcuts-help")).not_to_be_visible()
    tab.locator("h1.ticket-subject").click()
    tab.keyboard.press("?")
    help_list = tab.locator("#shortcuts-help")
    expect(help_list).to_be_visible()
    expect(help_list).to_contain_text(words["shortcuts"])
    expect(help_list).to_contain_text(words["next"])
    tab.keyboard.press("Escape")
    expect(help_list).not_to_be_visible()
    tab.keyboard.press("n")
    expect(tab.locator("#note-body")).to_be_focused()
    tab.locator("h1.ticket-subject").click()
    tab.keyboard.press("r")
    expect(tab.locator("#reply-body")).to_be_focused()


def test_j_and_k_move_along_the_queue(tab: Page, served: Served) -> None:
    log_in(tab, served, AGENT_EMAIL, "/tickets", "en")
    links = tab.locator("table.queue-table tbody tr[data-ticket] td.ticket-subject a")
    first, second = links.nth(0).get_attribute("href"), links.nth(1).get_attribute("href")
    tab.keyboard.press("j")
    expect(links.nth(0)).to_be_focused()
    tab.keyboard.press("j")
    expect(links.nth(1)).to_be_focused()
    tab.keyboard.press("k")
    expect(links.nth(0)).to_be_focused()
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    assert tab.url.endswith(str(first))
    # on a ticket page, j opens the next ticket in the queue's order
    tab.locator("h1.ticket-subject").click()
    with tab.expect_navigation():
        tab.keyboard.press("j")
    assert tab.url.endswith(str(second))
    tab.locator("h1.ticket-subject").click()
    with tab.expect_navigation():
        tab.keyboard.press("k")
    assert tab.url.endswith(str(first))


@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
def test_manager_adds_a_macro_in_settings(tab: Page, served: Served, width: str, code: str) -> None:
    words = WORDS[code]
    log_in(tab, served, MANAGER_EMAIL, "/settings/macros", code)
    expect(tab.locator("table.macro-table")).to_contain_text("破损补发")
    _no_horizontal_scroll(tab)
    _screenshot(tab, f"settings-macros-{'zh' if code != 'en' else 'en'}-{WIDTHS[width]}.png")
    tab.locator("#new-macro").click()
    name = f"Delay {code} {width}"
    tab.locator("#macro-name").fill(name)
    tab.locator("#macro-body-en").fill("Dear {customer_name}, your order {order_no} is late.")
    with tab.expect_navigation():
        tab.locator("#save-macro").click()
    expect(tab.locator("#form-error")).to_contain_text("{order_no}")
    expect(tab.locator("#macro-body-en")).to_have_value(
        "Dear {customer_name}, your order {order_no} is late."
    )
    tab.locator("#macro-body-en").fill("Dear {customer_name}, your order is late.")
    tab.locator("#macro-body-zh").fill("{customer_name}您好，您的订单延迟了。")
    with tab.expect_navigation():
        tab.locator("#save-macro").click()
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["added"])
    expect(tab.locator("table.macro-table")).to_contain_text(name)
    # and deleted again (the list as the screenshots show it)
    tab.locator("table.macro-table a", has_text=name).click()
    with tab.expect_navigation():
        tab.locator("#delete-macro").click()
    expect(tab.locator("p.notice[role='status']")).to_have_text(words["deleted"])
    expect(tab.locator("table.macro-table")).not_to_contain_text(name)
