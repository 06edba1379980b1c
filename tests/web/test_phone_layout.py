"""The pages on a phone (390 px wide), in a real browser (Debian's chromium through Playwright), in
English and in Chinese: no page of the staff area or the public pages is wider than the screen,
the language switch is on screen, names and badges do not wrap one character per line, and the
service figures chart keeps its value labels clear of its legend.

The whole app (``kehu.app.create_app``) is served by uvicorn over a seeded SQLite store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from browser_support import assert_fits_the_window, local_page, serving
from desk_support import SeededDesk, seed_desk
from playwright.sync_api import Browser, Page
from public_support import KNOWN_TOKEN, public_settings, seed_public_ticket
from web_support import SeededRun, seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.users import service as users
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PHONE = 390
PASSWORD = "a long and secret passphrase"
MANAGER_EMAIL = "wang.jingli@example.com"
LANGUAGES = {"en": "en-US", "zh-Hans": "zh-CN"}


@dataclass
class Served:
    base_url: str
    seeded: SeededRun
    desk: SeededDesk
    customer_id: int
    ticket_id: int


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The whole app over a store with a value run, the desk's tickets, a manager and a public
    ticket with a known status link."""
    directory = tmp_path_factory.mktemp("phone")
    database = Database(f"sqlite:///{directory / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = public_settings(directory, database_url=database.url, session_cookie_secure=False)
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
        users.create_user(
            session,
            SYSTEM,
            email="li.kefu@example.com",
            display_name="李客服",
            role="agent",
            password=PASSWORD,
            settings=settings,
        )
    seeded = seed_value_run(database)
    desk = seed_desk(database, seeded.customer_ids, agent_user_id=2)
    # the customer with the longest name, purchases of 张伟 and tickets: the widest 360 page
    customer_id = seeded.customer_ids["张伟"]
    seed_public_ticket(database, customer_id, subject="发票抬头错了", description="请重开发票")
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-phone-test-server") as base_url:
            yield Served(base_url, seeded, desk, customer_id, desk.front_ticket)
    finally:
        database.dispose()


def _phone(browser: Browser, served: Served, language: str) -> Iterator[Page]:
    with local_page(
        browser,
        served.base_url,
        failed_requests_fail=True,
        viewport={"width": PHONE, "height": 844},
        locale=LANGUAGES[language],
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    ) as page:
        yield page


@pytest.fixture(params=list(LANGUAGES))
def phone(request: pytest.FixtureRequest, browser: Browser, served: Served) -> Iterator[Page]:
    yield from _phone(browser, served, request.param)


#: Lines of text of each element matching a selector: one entry per element, with its text,
#: the number of line boxes its text takes and how many characters those lines hold.
_WRAPPING = """selector => [...document.querySelectorAll(selector)].map(element => {
  const lines = new Set();
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) {
      if (rect.width > 0) lines.add(Math.round(rect.top));
    }
  }
  const text = element.textContent.replace(/\\s+/g, ' ').trim();
  return {text, lines: lines.size, chars: text.replace(/\\s/g, '').length};
})"""


def _fits_the_phone(page: Page, where: str) -> None:
    assert_fits_the_window(page, where)
    switch = page.locator(".lang-switch")
    assert switch.is_visible(), f"the language switch is hidden on {where}"
    box = switch.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE, (
        f"the language switch is cut off on {where}: {box}"
    )
    for option in switch.locator("a").all():
        option_box = option.bounding_box()
        assert option_box is not None and option_box["x"] + option_box["width"] <= PHONE, where
    # badges stay on one line; a name wraps, but never into a column of single characters
    badges: list[dict[str, Any]] = page.evaluate(
        _WRAPPING, ".tier, .badge, .status, .status-badge, .chip, .priority"
    )
    broken = [b["text"] for b in badges if b["lines"] > 1]
    assert broken == [], f"badges wrapped on {where}: {broken}"
    names: list[dict[str, Any]] = page.evaluate(_WRAPPING, ".customer-name")
    narrow = [n["text"] for n in names if n["lines"] > 1 and n["chars"] / n["lines"] < 4]
    assert narrow == [], f"names wrapped to a few characters per line on {where}: {narrow}"


def _log_in(page: Page, served: Served) -> None:
    page.goto(f"{served.base_url}/login")
    page.locator("#login-username").fill(MANAGER_EMAIL)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}/value")


def test_staff_pages_fit_a_phone(phone: Page, served: Served) -> None:
    _log_in(phone, served)
    for path in (
        "/customers",
        f"/customers/{served.customer_id}",
        "/tickets",
        f"/tickets/{served.ticket_id}",
        "/value",
        "/service",
        "/feedback/themes",
    ):
        response = phone.goto(served.base_url + path)
        assert response is not None and response.status == 200, path
        assert phone.locator(".main-nav").is_visible(), path
        _fits_the_phone(phone, path)


def test_public_pages_fit_a_phone(phone: Page, served: Served) -> None:
    for path in (
        "/login",
        "/complain",
        f"/complain/received/{KNOWN_TOKEN}",
        f"/status/{KNOWN_TOKEN}",
    ):
        response = phone.goto(served.base_url + path)
        assert response is not None and response.status == 200, path
        _fits_the_phone(phone, path)


def test_wide_tables_scroll_inside_their_panel(phone: Page, served: Served) -> None:
    """A table wider than the phone scrolls sideways within its panel: its last column can be
    reached, and the page itself stays as wide as the screen."""
    _log_in(phone, served)
    phone.goto(f"{served.base_url}/tickets")
    table = phone.locator("table.queue-table")
    sizes = table.evaluate("t => [t.scrollWidth, t.clientWidth, getComputedStyle(t).overflowX]")
    scroll_width, client_width, overflow = sizes
    assert client_width <= PHONE
    assert scroll_width <= client_width or overflow in ("auto", "scroll"), sizes


def test_service_chart_value_labels_keep_clear_of_the_legend(phone: Page, served: Served) -> None:
    _log_in(phone, served)
    phone.goto(f"{served.base_url}/service")
    charts = phone.locator("svg.chart-bar")
    assert charts.count() >= 1
    overlaps = charts.evaluate_all(
        """charts => charts.flatMap(svg => {
          const texts = [...svg.querySelectorAll('text')];
          // a bar's value label follows its bar; a legend entry's label precedes its swatch
          const values = [...svg.querySelectorAll('rect.bar + text')];
          const legend = texts.filter(t => t.nextElementSibling?.matches('rect:not(.bar)'));
          const boxes = list => list.map(t => [t.textContent, t.getBoundingClientRect()]);
          const hits = [];
          for (const [name, a] of boxes(legend)) for (const [value, b] of boxes(values)) {
            if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
              hits.push(name + ' / ' + value);
            }
          }
          return legend.length && values.length ? hits : ['no legend or value labels'];
        })"""
    )
    assert overlaps == [], f"value labels under the legend: {overlaps}"
    # the charts stay legible: their text is drawn at 9 px or more on the phone
    smallest = charts.evaluate_all(
        """charts => Math.min(...charts.flatMap(svg => [...svg.querySelectorAll('text')]
          .map(t => t.getBoundingClientRect().height)))"""
    )
    assert smallest >= 9, f"the charts' smallest text is {smallest:.1f} px high on a phone"
