"""A manager calibrates a service promise in a real browser, in English and Chinese, at desktop
width and at 390 px: from the service figures to the calibration page, read the suggestion (the
95th percentile of the measured business times), try another target, save the suggestion as a new
version of the promise, and see the expected kept rate under it. Debian's chromium driven by
Playwright, the whole app served by uvicorn.

Screenshots (``docs/screenshots/calibration-desktop.png`` and ``calibration-phone.png``) are
written when ``KEHU_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser_support import (
    SCREENSHOTS,
    UPDATE_SCREENSHOTS,
    assert_fits_the_window,
    local_page,
    serving,
)
from desk_support import SETTINGS, SeededDesk, seed_desk
from playwright.sync_api import Browser, expect
from web_support import seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.desk import sla_store, ticket_commands, ticket_messages
from kehu.desk.calibration import default_window, promise_calibration
from kehu.desk.schemas import TicketCreate
from kehu.desk.sla import SlaTarget
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
MANAGER_EMAIL = "wang.jingli@example.com"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MANAGER = Principal.for_user(1, ["manager"])


@dataclass
class Served:
    base_url: str
    database: Database
    settings: Settings
    desk: SeededDesk
    standard: int


def _workdays_back(today: datetime, count: int) -> list[datetime]:
    """10:00 Shanghai time on the ``count`` weekdays before ``today``."""
    days: list[datetime] = []
    day = today.date()
    while len(days) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(datetime.combine(day, time(10), SHANGHAI))
    return days


def _measured_tickets(database: Database, desk: SeededDesk) -> None:
    """30 answered and resolved tickets of the last six weeks: first replies after 25 minutes to
    about 5 hours (a few past the 4 h promise), resolutions after about one to two business days."""
    customers = sorted(desk.customer_ids.values())
    now = desk.now.astimezone(SHANGHAI)
    with database.session() as session:
        for i, created in enumerate(_workdays_back(now, 30)):
            ticket = ticket_commands.create_ticket(
                session,
                SYSTEM,
                TicketCreate(
                    customer_id=customers[i % len(customers)],
                    kind="inquiry",
                    channel="email",
                    subject="物流进度查询",
                ),
                now=created,
                settings=SETTINGS,
            )
            replied = created + timedelta(minutes=25 + (i * 37) % 280)
            ticket_messages.reply(
                session, SYSTEM, ticket.id, "您好，已为您查询。", now=replied, settings=SETTINGS
            )
            resolved = created + timedelta(days=1, hours=(i * 5) % 26)
            ticket_commands.resolve(session, SYSTEM, ticket.id, now=resolved, settings=SETTINGS)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('calibration') / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = Settings(
        database_url=database.url,
        session_cookie_secure=False,
        currency="CNY",
        timezone="Asia/Shanghai",
        reporting_timezone="Asia/Shanghai",
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
    desk = seed_desk(database, seeded.customer_ids)
    _measured_tickets(database, desk)
    with database.session() as session:
        standard = next(p.id for p in sla_store.list_policies(session) if p.name == "标准服务承诺")
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-calibration-test-server") as base_url:
            yield Served(base_url, database, settings, desk, standard)
    finally:
        database.dispose()


WORDS = {
    "en": {
        "link": "Promise calibration",
        "heading": "Promise calibration",
        "show": "Show the expected kept rate",
        "save": "Save as a new version",
        "saved": "Saved as version",
        "tried": "Would have been kept under 3 hr",
    },
    "zh-Hans": {
        "link": "承诺校准",
        "heading": "承诺校准",
        "show": "查看预计兑现率",
        "save": "保存为新版本",
        "saved": "已保存为标准服务承诺的第",
        "tried": "时限为 3小时 时的兑现率",
    },
}


def _suggestion(served: Served) -> tuple[str, str, int, int]:
    """The use case's suggested first-response target (hours, minutes fields), the policy's
    current version and the measured sample."""
    start, end = default_window(served.settings)
    with served.database.session() as session:
        result = promise_calibration(
            session, MANAGER, start=start, end=end, settings=served.settings
        )
    row = result.row(served.standard, SlaTarget.FIRST_RESPONSE)
    assert row is not None and row.suggested is not None, "30 measured tickets: a suggestion"
    hours, minutes = divmod(int(row.suggested.total_seconds()) // 60, 60)
    return str(hours), str(minutes), row.version, row.sample


@pytest.mark.parametrize("code", ["en", "zh-Hans"], ids=["en", "zh"])
@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_a_manager_applies_a_suggestion(
    browser: Browser, served: Served, code: str, width: int
) -> None:
    words = WORDS[code]
    hours, minutes, version, sample = _suggestion(served)
    assert sample >= 30
    with local_page(
        browser,
        served.base_url,
        viewport={"width": width, "height": 900},
        locale="en-US",
        device_scale_factor=1,
        failed_requests_fail=True,
    ) as tab:
        tab.goto(f"{served.base_url}/service")
        tab.wait_for_url("**/login?next=/service")
        tab.locator("#login-username").fill(MANAGER_EMAIL)
        tab.locator("#login-password").fill(PASSWORD)
        tab.locator("form.login-form button[type='submit']").click()
        tab.wait_for_url(f"{served.base_url}/service")
        if code != "en":
            tab.locator(f"a[data-locale='{code}']").click()
            expect(tab.locator("html")).to_have_attribute("lang", code)
        tab.locator("p.calibration-link a").click()
        tab.wait_for_url("**/service/calibration")
        expect(tab.get_by_role("heading", name=words["heading"], exact=True)).to_be_visible()

        card = tab.locator(f"#target-{served.standard}-first_response")
        expect(card.locator("dd.suggested strong")).to_be_visible()
        expect(card.locator("dd.sample")).to_contain_text(str(sample))
        apply_form = card.locator("form.apply-form")
        # the apply form starts with the suggestion
        expect(apply_form.locator("input[name='hours']")).to_have_value(hours)
        expect(apply_form.locator("input[name='minutes']")).to_have_value(minutes)
        expect(apply_form.locator("input[name='expected_version']")).to_have_value(str(version))

        # try another target first: the expected kept rate under it
        try_form = card.locator("form.try-form")
        try_form.locator("input[name='hours']").fill("3")
        try_form.locator("input[name='minutes']").fill("0")
        try_form.get_by_role("button", name=words["show"]).click()
        card = tab.locator(f"#target-{served.standard}-first_response")
        expect(card.locator("dt", has_text=words["tried"])).to_be_visible()
        expect(card.locator("dd.tried-kept")).to_contain_text("%")

        # then save the suggestion as the promise's new version
        apply_form = card.locator("form.apply-form")
        apply_form.locator("input[name='hours']").fill(hours)
        apply_form.locator("input[name='minutes']").fill(minutes)
        apply_form.get_by_role("button", name=words["save"]).click()
        notice = tab.locator("#applied-notice")
        expect(notice).to_contain_text(words["saved"])
        expect(notice).to_contain_text(str(version + 1))
        expect(notice).to_contain_text("%")
        card = tab.locator(f"#target-{served.standard}-first_response")
        expect(card.locator("dd.promised")).to_have_text(
            card.locator("dd.suggested strong").inner_text()
        )
        expect(card.locator("input[name='expected_version']")).to_have_value(str(version + 1))
        assert_fits_the_window(tab)
        if UPDATE_SCREENSHOTS and (code, width) in (("en", 1280), ("zh-Hans", 390)):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = "calibration-desktop.png" if width == 1280 else "calibration-phone.png"
            tab.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    with served.database.session() as session:
        versions = sla_store.policy_versions(session, served.standard)
    assert versions[-1].version == version + 1
    assert versions[-1].first_response_seconds == (int(hours) * 60 + int(minutes)) * 60
