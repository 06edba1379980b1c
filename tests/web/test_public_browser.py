"""The complainant's flow in a real browser (Debian's chromium through Playwright), in English and
in Chinese: fill the form, see the acknowledgement with the promise, open the status link, reply,
see the reply; script typed into the form never runs.

Screenshots for the user guide go to ``docs/screenshots/`` only when ``KEHU_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from browser_support import SCREENSHOTS, UPDATE_SCREENSHOTS, local_page, serving
from playwright.sync_api import Browser, Dialog, Page, expect
from public_support import public_settings, seed_promise
from sqlalchemy import select
from web_support import WebApp, make_app

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.core.auth import SYSTEM
from kehu.desk import ticket_messages
from kehu.desk.tables import Ticket
from kehu.store.base import Base
from kehu.store.db import Database
from settings_support import DEFAULT_SETTINGS

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
#: The form refuses anything sent sooner than this after it was shown (a real wait here).
MIN_FILL_SECONDS = 4.0


@dataclass
class Served:
    base_url: str
    web: WebApp


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """kehu on 127.0.0.1 and a free port, over a SQLite store with a service promise."""
    directory = tmp_path_factory.mktemp("public-browser")
    database = Database(f"sqlite:///{directory / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    seed_promise(database)
    web = make_app(database, public_settings(directory, public_min_fill_seconds=MIN_FILL_SECONDS))
    web.principal = None
    try:
        with serving(web.app, "kehu-public-test-server") as base_url:
            yield Served(base_url, web)
    finally:
        database.dispose()


def _tab(browser: Browser, served: Served, locale: str, timezone: str) -> Iterator[Page]:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    # a form sent back for correction answers 422; anything else in the console is an error
    with local_page(
        browser,
        served.base_url,
        console_allows=lambda text: "status of 422" in text,
        viewport={"width": 1280, "height": 900},
        locale=locale,
        timezone_id=timezone,
        device_scale_factor=1,
    ) as tab:
        tab.on("dialog", on_dialog)
        yield tab
    assert dialogs == [], f"a script typed into the form ran: {dialogs}"


@pytest.fixture
def english(browser: Browser, served: Served) -> Iterator[Page]:
    yield from _tab(browser, served, "en-US", "Europe/Berlin")


@pytest.fixture
def chinese(browser: Browser, served: Served) -> Iterator[Page]:
    yield from _tab(browser, served, "en-US", "Asia/Shanghai")


def _screenshot(tab: Page, name: str) -> None:
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _ticket_id(served: Served, subject: str) -> int:
    with served.web.database.session() as session:
        found = session.scalar(select(Ticket.id).where(Ticket.subject == subject))
        assert found is not None
        return int(found)


def test_the_complainants_flow_in_english(english: Page, served: Served) -> None:
    page = english
    page.goto(f"{served.base_url}/complain")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Tell us")).to_be_visible()
    # the honeypot is in the form but out of sight
    box = page.locator("input[name='website']").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 0  # left of the page
    expect(page.locator("input[name='timezone']")).to_have_value("Europe/Berlin")
    page.get_by_label("Subject").fill("The parcel arrived broken")
    page.get_by_label("What happened?").fill("The box was crushed and the vase is in pieces.")
    page.get_by_label("Your name").fill("Erika Mustermann")
    page.get_by_label("Email address").fill("erika@example.com")
    page.get_by_label("You may contact me by email").check()
    # sent at once: a person never is that quick, so the form comes back, as typed
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("That was quick!")
    expect(page.get_by_label("Subject")).to_have_value("The parcel arrived broken")
    expect(page.get_by_label("You may contact me by email")).to_be_checked()
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + 200)
    page.get_by_role("button", name="Send").click()

    page.wait_for_url("**/complain/received/*")
    expect(page.get_by_role("heading", name="Thank you: we have received it")).to_be_visible()
    ticket_id = _ticket_id(served, "The parcel arrived broken")
    expect(page.locator(".lede")).to_contain_text(f"Your reference is #{ticket_id}.")
    promise = page.locator("[data-promise]")
    expect(promise).to_contain_text("We will reply by")
    expect(promise).to_contain_text("Central European")  # the customer's own time zone
    link = page.locator("a[data-status-link]")
    expect(link).to_contain_text("/status/")

    with served.web.database.session() as session:
        ticket_messages.reply(
            session,
            SYSTEM,
            ticket_id,
            "We are sorry. Which order was it?",
            wait_for_customer=True,
            settings=DEFAULT_SETTINGS,
        )
        ticket_messages.add_note(
            session, SYSTEM, ticket_id, "Internal: check the courier", settings=DEFAULT_SETTINGS
        )
    link.click()
    page.wait_for_url("**/status/*")
    expect(page.locator("[data-status]")).to_have_text("Waiting for your reply")
    conversation = page.locator("ol.conversation")
    expect(conversation).to_contain_text("Which order was it?")
    expect(conversation).not_to_contain_text("Internal")
    page.get_by_label("Write to us").fill("Order 4711, delivered on Monday.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_have_text("Thank you, we have your message.")
    expect(conversation.locator(".message-customer").last).to_contain_text("Order 4711")
    expect(page.locator("[data-status]")).to_have_text("Being handled")
    if UPDATE_SCREENSHOTS:  # the form as a customer fills it in, for the user guide
        page.goto(f"{served.base_url}/complain")
        page.get_by_label("Subject").fill("The parcel arrived broken")
        page.get_by_label("What happened?").fill(
            "The box was crushed in transit and the vase inside is in pieces."
        )
        page.get_by_label("Your name").fill("Erika Mustermann")
        page.get_by_label("Email address").fill("erika@example.com")
        page.get_by_label("You may contact me by email").check()
        _screenshot(page, "complain-en.png")


def test_the_complainants_flow_in_chinese(chinese: Page, served: Served) -> None:
    page = chinese
    page.goto(f"{served.base_url}/complain")
    page.locator("a[data-locale='zh-Hans']").click()
    page.wait_for_url(f"{served.base_url}/complain")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", name="投诉与建议")).to_be_visible()
    page.get_by_label("主题").fill("快递包裹破损")
    page.get_by_label("发生了什么？").fill("收到的包裹外箱被压坏，里面的花瓶碎了。")
    page.get_by_label("您的姓名").fill("张伟")
    page.get_by_label("电子邮箱").fill("zhang.wei@example.cn")
    page.get_by_label("电话号码").fill("138 0013 8000")
    page.get_by_label("您可以就此事通过电子邮件联系我").check()
    _screenshot(page, "complain-zh.png")
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + 200)
    page.get_by_role("button", name="提交").click()

    page.wait_for_url("**/complain/received/*")
    expect(page.get_by_role("heading", name="感谢您：我们已收到")).to_be_visible()
    promise = page.locator("[data-promise]")
    expect(promise).to_contain_text("我们将在")
    expect(promise).to_contain_text("中国标准时间")
    ticket_id = _ticket_id(served, "快递包裹破损")
    with served.web.database.session() as session:
        ticket_messages.reply(
            session,
            SYSTEM,
            ticket_id,
            "非常抱歉！请问您的订单号是多少？",
            wait_for_customer=True,
            settings=DEFAULT_SETTINGS,
        )
    page.locator("a[data-status-link]").click()
    page.wait_for_url("**/status/*")
    expect(page.locator("[data-status]")).to_have_text("等待您的回复")
    page.get_by_label("给我们留言").fill("订单号是 SO-20260323。")
    page.locator("form.reply-form button[type='submit']").click()
    expect(page.get_by_role("status")).to_have_text("谢谢，我们已收到您的留言。")
    conversation = page.locator("ol.conversation")
    expect(conversation.locator(".message-customer").last).to_contain_text("SO-20260323")
    expect(page.locator("[data-status]")).to_have_text("处理中")
    _screenshot(page, "status-zh.png")


def test_script_in_the_form_is_shown_and_never_run(english: Page, served: Served) -> None:
    page = english
    page.goto(f"{served.base_url}/complain")
    page.get_by_label("Subject").fill(SCRIPT)
    page.get_by_label("What happened?").fill(SCRIPT + " <img src=x onerror=alert(2)>")
    page.get_by_label("Your name").fill(SCRIPT)
    page.get_by_label("Phone number").fill("+49 30 1234567")
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + 200)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**/complain/received/*")
    expect(page.locator(".ticket-subject")).to_have_text(SCRIPT)
    page.locator("a[data-status-link]").click()
    page.wait_for_url("**/status/*")
    expect(page.locator(".ticket-subject")).to_have_text(SCRIPT)
    expect(page.locator(".message-customer .message-body").first).to_contain_text(
        "onerror=alert(2)"
    )
    page.get_by_label("Write to us").fill(SCRIPT)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".message-customer .message-body").last).to_have_text(SCRIPT)
    page.wait_for_timeout(300)
    assert page.locator("img[src='x']").count() == 0
