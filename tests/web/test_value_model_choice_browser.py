"""The value page's model choice in a real browser (Debian's chromium through Playwright, kehu
served by uvicorn): the candidates table, the tracking plot and the frequency histogram, in
English and Chinese, at 1280 px and at 390 px, where the page never scrolls sideways and the
charts scroll inside their figures. One server and one seeded store for the module.

Screenshots (``docs/screenshots/value-model-choice-*.png``, ``value-fit-diagnostics-*.png``) are
written when ``KEHU_UPDATE_SCREENSHOTS=1``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources

import pytest
from browser_support import (
    SCREENSHOTS,
    UPDATE_SCREENSHOTS,
    assert_fits_the_window,
    local_page,
    serving,
)
from playwright.sync_api import Browser, expect
from sqlalchemy import update
from web_support import MANAGER, WebApp, make_app, seed_value_run

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.store.base import Base
from kehu.store.db import Database
from kehu.value.schemas import ValueOptions
from kehu.value.service import compute_value
from kehu.value.tables import ValueRun
from kehu.warehouse import read_cdnow
from kehu.web.i18n import COOKIE_NAME

pytestmark = pytest.mark.browser


@dataclass
class Served:
    base_url: str
    web: WebApp


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A store whose latest value run is CDNOW's 39/39-week run (models and diagnostics)."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('choice') / 'kehu.db'}")
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    seeded = seed_value_run(database)
    with resources.as_file(resources.files("kehu") / "data" / "CDNOW_sample.txt") as path:
        result = compute_value(
            read_cdnow(path),
            ValueOptions(observation_end=date(1997, 9, 30), holdout_end=date(1998, 6, 30)),
        )
    with database.session() as session:
        session.execute(
            update(ValueRun)
            .where(ValueRun.id == seeded.run_id)
            .values(models=result.models, diagnostics=result.diagnostics)
        )
    web = make_app(database)
    try:
        with serving(web.app, "kehu-model-choice-server") as base_url:
            yield Served(base_url, web)
    finally:
        database.dispose()


WORDS = {
    "en": ("Purchase models compared", "Cumulative repeat purchases by week"),
    "zh-Hans": ("购买模型比较", "按周累计的重复购买次数"),
}


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_model_choice_reads_at_both_widths_in_both_languages(
    browser: Browser, served: Served, width: int, language: str
) -> None:
    served.web.principal = MANAGER
    with local_page(
        browser,
        served.base_url,
        viewport={"width": width, "height": 900},
        device_scale_factor=1,
    ) as page:
        page.context.add_cookies([{"name": COOKIE_NAME, "value": language, "url": served.base_url}])
        page.goto(f"{served.base_url}/value#model-choice")
        heading, chart_title = WORDS[language]
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        table = page.locator("#model-choice table.model-table")
        expect(table.locator("tr[data-model]")).to_have_count(3)
        expect(table.locator("tr.chosen")).to_have_attribute("data-model", "pnbd")
        tracking = page.locator("#tracking-plot")
        expect(tracking.locator("svg")).to_contain_text(chart_title)
        expect(page.locator("#frequency-histogram svg")).to_be_visible()
        assert_fits_the_window(page, f"/value at {width} px in {language}")
        if width < 600:
            # the chart keeps a readable width and scrolls inside its figure
            scrolls = tracking.evaluate("figure => figure.scrollWidth > figure.clientWidth")
            assert scrolls, "the tracking plot shrank instead of scrolling inside its figure"
        if UPDATE_SCREENSHOTS:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = f"value-model-choice-{'phone' if width < 600 else 'desktop'}-{language}.png"
            page.locator("#model-choice").screenshot(path=str(SCREENSHOTS / name))
            if width >= 600 and language == "en":
                page.locator("#fit-diagnostics").screenshot(
                    path=str(SCREENSHOTS / "value-fit-diagnostics-desktop-en.png")
                )
