"""A manager building a small survey with skip logic in a real browser, in English and
Chinese, at desktop width and on a 390 px phone: a blank survey from /surveys, an NPS question
added and moved first, the starting question shown only when the NPS answer is at most 6, saved
and seen on the survey's page as a respondent would see it. Nothing on the way is wider than
the window. Debian's chromium driven by Playwright, the whole app (``kehu.app.create_app``)
served by uvicorn; the builder needs no JavaScript, so none is relied on.

Screenshots of the builder and the survey page at 1280 and 390 px are written to
``docs/screenshots/`` when ``KEHU_UPDATE_SCREENSHOTS=1``."""

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

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.app import create_app
from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.feedback.surveys import get_survey, list_surveys
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

PASSWORD = "a long and secret passphrase"
MANAGER_EMAIL = "wang.jingli@example.com"
WIDTHS = {"desktop": 1280, "phone": 390}
WORDS = {
    "en": {"saved": "The survey was saved.", "shown_if": "Shown if nps_2"},
    "zh-Hans": {"saved": "已保存调查。", "shown_if": "显示条件：nps_2"},
}


@dataclass
class Served:
    base_url: str
    database: Database


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('surveys') / 'kehu.db'}")
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
    app = create_app(settings, database)
    try:
        with serving(app, "kehu-surveys-test-server") as base_url:
            yield Served(base_url, database)
    finally:
        database.dispose()


def log_in(page: Page, served: Served, target: str, code: str) -> None:
    page.goto(f"{served.base_url}{target}")
    page.wait_for_url(f"**/login?next={target}")
    page.locator("#login-username").fill(MANAGER_EMAIL)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-form button[type='submit']").click()
    page.wait_for_url(f"{served.base_url}{target}")
    if code != "en":
        page.goto(f"{served.base_url}/lang/{code}?next={target}")
        expect(page.locator("html")).to_have_attribute("lang", code)


def _screenshot(page: Page, name: str) -> None:
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.mark.parametrize("code", list(WORDS))
@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_manager_builds_a_small_survey_with_skip_logic(
    browser: Browser, served: Served, code: str, width: str
) -> None:
    words = WORDS[code]
    name = f"After the visit ({code}, {width})"
    with local_page(
        browser,
        served.base_url,
        viewport={"width": WIDTHS[width], "height": 900},
        locale="en-US",
        device_scale_factor=1,
    ) as page:
        log_in(page, served, "/surveys", code)
        assert_fits_the_window(page, f"/surveys at {width}")
        page.locator("#survey-name").fill(name)
        page.locator("input[name='template'][value='blank']").check()
        page.locator("#create-survey").click()
        page.wait_for_url("**/surveys/*/edit")
        assert_fits_the_window(page, f"the builder at {width}")

        page.locator("#new-type").select_option("nps")
        page.locator("#add-question-button").click()
        page.locator("textarea[name='q-1-en']").fill("How likely are you to recommend us?")
        page.locator("textarea[name='q-1-zh']").fill("您向他人推荐我们的可能性有多大？")
        page.locator("#question-1 button[value='up-1']").click()
        expect(page.locator("input[name='q-0-type']")).to_have_value("nps")
        page.locator("input[name='q-0-required']").check()
        page.locator("select[name='q-1-if']").select_option("nps_2")
        page.locator("select[name='q-1-if-op']").select_option("at_most")
        page.locator("input[name='q-1-if-value']").fill("6")
        assert_fits_the_window(page, f"the builder with two questions at {width}")
        _screenshot(page, f"survey-builder-{code}-{WIDTHS[width]}.png")
        page.locator("#save-survey").click()
        page.wait_for_url("**/surveys/*?done=saved")
        expect(page.locator("#survey-notice")).to_have_text(words["saved"])
        expect(page.locator(".preview-question")).to_have_count(2)
        expect(page.locator(".preview-question .preview-condition")).to_contain_text(
            words["shown_if"]
        )
        assert_fits_the_window(page, f"the survey page at {width}")
        _screenshot(page, f"survey-{code}-{WIDTHS[width]}.png")

    with served.database.session() as session:
        manager = Principal.for_user(1, ["manager"])
        survey = next(s for s in list_surveys(session, manager) if s.name == name)
        definition = get_survey(session, manager, survey.id).definition
    nps, question = definition.questions
    assert (nps.id, nps.type, nps.required) == ("nps_2", "nps", True)
    assert question.show_if is not None
    assert (question.show_if.question, question.show_if.max) == ("nps_2", 6)
