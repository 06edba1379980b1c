"""The value report in chromium: English and Chinese, at desktop and phone width, fits the window
and lists what the run left out. The report is a file opened offline, so it is opened as one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from test_value_report import example_report_data

from kehu.core.i18n import Translator, strict_translations
from kehu.report import LeftOut, SourceLanguage, write_value_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests drive Debian's chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    data = replace(
        example_report_data(),
        left_out=[
            LeftOut("rows", "duplicate_ids", 12),
            LeftOut("customers", "no_purchase_after_returns", 1),
        ],
        n_customers_in_log=501,
    )
    with strict_translations():
        return {
            "en": write_value_report(folder / "en.html", data, SourceLanguage()),
            "zh-Hans": write_value_report(folder / "zh.html", data, Translator("zh-Hans")),
        }


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
@pytest.mark.parametrize("width", [1280, 390])
def test_report_fits_the_window_and_lists_what_was_left_out(
    browser: Browser, reports: dict[str, Path], language: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    try:
        url = reports[language].as_uri()
        page.goto(url)
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.lang") == language
        spill = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert spill <= 0, f"the {language} report is {spill} px wider than {width} px"
        left_out = page.locator("#left-out").inner_text()
        expected = "1 customer" if language == "en" else "1 位客户"
        assert expected in left_out
        assert requests == [url], f"the report fetched more than itself: {requests}"
    finally:
        context.close()
