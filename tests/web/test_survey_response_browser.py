"""The respondent's flow in a real browser (Debian's chromium through Playwright), in English and
in Chinese, on a phone (390 px) and a desktop (1280 px): open the invitation's link, answer the
score, save, see the follow-up question the low score opened, answer it, send, and be thanked;
the page fits the window at every step and loads nothing from outside kehu."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from browser_support import assert_fits_the_window, local_page, serving
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from survey_support import invite
from web_support import WebApp, make_app

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.core.config import Settings
from kehu.feedback.tables import SurveyResponse
from kehu.store.base import Base
from kehu.store.db import Database

pytestmark = pytest.mark.browser

CASES = [("en", 390), ("zh-Hans", 390), ("en", 1280), ("zh-Hans", 1280)]
TEXTS = {
    "en": ("How likely are you to recommend us to a friend?", "What should we do better?"),
    "zh-Hans": ("您向朋友推荐我们的可能性有多大？", "我们应该在哪些方面改进？"),
}


@dataclass
class Served:
    base_url: str
    web: WebApp


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("survey-browser")
    database = Database(f"sqlite:///{directory / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, public_base_url="https://service.example.com", data_dir=directory
    )
    web = make_app(database, settings)
    web.principal = None
    try:
        with serving(web.app, "kehu-survey-test-server") as base_url:
            yield Served(base_url, web)
    finally:
        database.dispose()


@pytest.mark.parametrize(("language", "width"), CASES)
def test_a_respondent_answers_the_survey(
    browser: Browser, served: Served, language: str, width: int
) -> None:
    token = invite(
        served.web.database,
        served.web.settings,
        datetime.now(UTC),
        language=language,
        key=f"C-{language}-{width}",
    )
    question, follow_up = TEXTS[language]
    with local_page(
        browser,
        served.base_url,
        viewport={"width": width, "height": 860},
        locale="en-US",
        device_scale_factor=1,
    ) as tab:
        tab.goto(f"{served.base_url}/s/{token}")
        expect(tab.locator("#question-score legend")).to_contain_text(question)
        expect(tab.locator("#question-why_low")).to_have_count(0)
        assert_fits_the_window(tab, f"the survey at {width} px in {language}")
        tab.locator('#question-score input[value="3"]').check()
        tab.locator('button[value="save"]').click()
        expect(tab.locator("#question-why_low legend")).to_contain_text(follow_up)
        expect(tab.locator('#question-score input[value="3"]')).to_be_checked()
        tab.locator("#question-why_low textarea").fill("Answer the phone sooner")
        tab.locator('#question-visit input[value="4"]').check()
        assert_fits_the_window(tab, f"the resumed survey at {width} px in {language}")
        tab.locator('button[value="submit"]').click()
        expect(tab.locator('[data-notice="answered"]')).to_be_visible()
        assert_fits_the_window(tab, f"the thanks at {width} px in {language}")
    with served.web.database.session() as session:
        response = session.scalars(
            select(SurveyResponse).order_by(SurveyResponse.id.desc()).limit(1)
        ).one()
        assert (response.status, response.language) == ("submitted", language)
