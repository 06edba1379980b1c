"""The customer 360 page's value card with its intervals in a real browser (Debian's chromium via
Playwright, the whole app served by uvicorn), in English and Chinese, at desktop (1280 px) and
phone (390 px) width: CLV, P(alive) and the expected purchases each with their 90% interval in
words, on screen, the page no wider than the window.

Screenshots of the card go to ``docs/screenshots/value-card-{desktop,phone}[-zh].png`` when
``KEHU_UPDATE_SCREENSHOTS=1``."""

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
from playwright.sync_api import Browser, Page, expect
from web_support import SeededRun, seed_value_run

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
WIDTHS = {"desktop": 1280, "phone": 390}
WORDS = {
    "en": ("Lifetime value", "(90% interval ", "Purchases expected in 52 weeks"),
    "zh-Hans": ("终身价值", "（90% 区间 ", "未来 52 周的预期购买次数"),
}


@dataclass
class Served:
    base_url: str
    seeded: SeededRun


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('value-card') / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = Settings(
        database_url=database.url,
        session_cookie_secure=False,
        currency="CNY",
        timezone="Asia/Shanghai",
    )
    with database.session() as session:
        users.create_user(
            session,
            SYSTEM,
            email=MANAGER_EMAIL,
            display_name="王经理",
            role="manager",
            password=PASSWORD,
            settings=settings,
        )
    seeded = seed_value_run(database)
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-value-card-test-server") as base_url:
            yield Served(base_url, seeded)
    finally:
        database.dispose()


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("code", list(WORDS), ids=["en", "zh"])
def test_the_value_card_shows_each_estimate_with_its_interval(
    browser: Browser, served: Served, width: str, code: str
) -> None:
    # the customer with the longest name and the largest amounts: the widest card
    customer_id = max(served.seeded.clv_minor, key=lambda n: (len(n), served.seeded.clv_minor[n]))
    target = f"/customers/{served.seeded.customer_ids[customer_id]}"
    with local_page(
        browser,
        served.base_url,
        viewport={"width": WIDTHS[width], "height": 900},
        locale="en-US",
        device_scale_factor=1,
    ) as page:
        log_in(page, served, target, code)
        card = page.locator("#value-card")
        card.scroll_into_view_if_needed()
        clv, interval, purchases = WORDS[code]
        expect(card).to_contain_text(clv)
        expect(card).to_contain_text(purchases)
        intervals = card.locator(".interval")
        expect(intervals).to_have_count(3)
        for index in range(3):
            expect(intervals.nth(index)).to_contain_text(interval)
            expect(intervals.nth(index)).to_be_in_viewport()
        expect(card.locator(".interval-note")).to_be_visible()
        assert_fits_the_window(page, f"value card, {code}, {width}")
        if UPDATE_SCREENSHOTS:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            suffix = "" if code == "en" else "-zh"
            card.screenshot(path=str(SCREENSHOTS / f"value-card-{width}{suffix}.png"))


def log_in(page: Page, served: Served, target: str, code: str) -> None:
    page.goto(f"{served.base_url}{target}")
    page.wait_for_url(f"**/login?next={target}")
    page.locator("#login-username").fill(MANAGER_EMAIL)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}{target}")
    if code != "en":
        page.locator(f"a[data-locale='{code}']").click()
        expect(page.locator("html")).to_have_attribute("lang", code)
