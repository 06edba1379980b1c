"""The pages in a real browser: Debian's chromium driven by Playwright, kehu served by uvicorn.

Never a browser download: ``/usr/bin/chromium`` must exist (``scripts/setup-browser.sh``
installs it). Screenshots for the user guide are written to ``docs/screenshots/`` only when
``KEHU_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from browser_support import SCREENSHOTS, UPDATE_SCREENSHOTS, local_page, serving
from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy import update
from web_support import MANAGER, SCRIPT_NAME, SeededRun, WebApp, make_app, seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.customers.tables import Customer
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser


@dataclass
class Served:
    base_url: str
    web: WebApp
    seeded: SeededRun


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """kehu's pages on 127.0.0.1 and a free port, over a SQLite store with a value run."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    seeded = seed_value_run(database)
    web = make_app(database)
    try:
        with serving(web.app, "kehu-web-test-server") as base_url:
            yield Served(base_url, web, seeded)
    finally:
        database.dispose()


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    """A fresh browser context (no cookies) that may only talk to the test server."""
    served.web.principal = MANAGER
    with local_page(
        browser,
        served.base_url,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        device_scale_factor=1,
    ) as tab:
        yield tab


def _screenshot(tab: Page, name: str) -> None:
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_value_page_in_english_then_chinese_through_the_language_switch(
    page: Page, served: Served
) -> None:
    page.goto(f"{served.base_url}/value")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Customer value")).to_be_visible()
    tiers = page.locator("table.tier-table")
    expect(tiers).to_be_visible()
    expect(tiers.locator("tbody tr")).to_have_count(3)
    expect(tiers).to_contain_text("High value")
    chart = page.locator("svg.chart-line")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 300  # type: ignore[index]
    expect(page.locator("table.at-risk-table tbody tr").first).to_be_visible()
    expect(page.locator("nav.main-nav a[aria-current='page']")).to_have_text("Value")
    # the stylesheet and htmx loaded from kehu itself
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    _screenshot(page, "value-en.png")

    page.locator("a[data-locale='zh-Hans']").click()
    page.wait_for_url(f"{served.base_url}/value")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", name="客户价值", exact=True)).to_be_visible()
    expect(page.locator("table.tier-table")).to_contain_text("高价值客户")
    expect(page.locator("svg.chart-line")).to_contain_text("客户终身价值帕累托曲线")
    expect(page.locator("nav.main-nav")).to_contain_text("工单")
    expect(page.locator("table.at-risk-table")).to_contain_text("存活概率")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["kehu_locale"] == "zh-Hans"
    _screenshot(page, "value-zh.png")

    page.locator("a[data-locale='en']").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_changing_the_threshold_swaps_the_at_risk_table_in_place(
    page: Page, served: Served
) -> None:
    page.goto(f"{served.base_url}/value")
    rows = page.locator("table.at-risk-table tbody tr")
    before = rows.count()
    page.evaluate("window.__notReloaded = true")
    with page.expect_response(lambda r: "/value/at-risk" in r.url):
        page.locator("select#threshold").select_option("0.8")
    seeded = served.seeded
    expected = sum(
        1
        for name, tier in seeded.tiers.items()
        if tier == "high" and seeded.probability_alive[name] < 0.8
    )
    expect(rows).to_have_count(expected)
    assert expected >= before
    assert page.evaluate("window.__notReloaded") is True


def test_script_in_a_customer_name_is_shown_and_never_run(page: Page, served: Served) -> None:
    seeded = served.seeded
    top = max(
        (n for n, t in seeded.tiers.items() if t == "high" and seeded.probability_alive[n] < 0.5),
        key=lambda n: seeded.clv_minor[n],
    )
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    database = served.web.database
    with database.session() as session:
        session.execute(
            update(Customer).where(Customer.id == seeded.customer_ids[top]).values(name=SCRIPT_NAME)
        )
    try:
        page.goto(f"{served.base_url}/value")
        expect(page.locator("td.customer-name").first).to_have_text(SCRIPT_NAME)
        page.wait_for_timeout(200)
        assert dialogs == []
    finally:
        with database.session() as session:
            session.execute(
                update(Customer).where(Customer.id == seeded.customer_ids[top]).values(name=top)
            )


def test_login_page_in_both_languages(page: Page, served: Served) -> None:
    served.web.principal = None
    page.goto(f"{served.base_url}/value")
    page.wait_for_url("**/login?next=/value")
    form = page.locator("form.login-form")
    expect(form).to_have_attribute("action", "/auth/login")
    expect(page.get_by_label("Email address")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(form.locator("input[name='next']")).to_have_value("/value")
    page.locator("a[data-locale='zh-Hans']").click()
    expect(page.get_by_label("电子邮箱")).to_be_visible()
    expect(page.get_by_role("button", name="登录")).to_be_visible()
