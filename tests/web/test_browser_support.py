"""The browser tests' own measuring stick: :func:`assert_fits_the_window` fails on a page that
scrolls sideways, names what spills, and passes a wide table that scrolls inside its own box."""

from __future__ import annotations

import pytest
from browser_support import assert_fits_the_window
from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_a_page_wider_than_a_phone_fails_and_names_the_element(browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 800})
    try:
        page = context.new_page()
        page.set_content(
            "<main><div id='wide' class='too-wide' style='width: 600px'>x</div>"
            "<div style='overflow-x: auto'><table id='inner' style='width: 900px'><tr><td>y"
            "</td></tr></table></div></main>"
        )
        with pytest.raises(AssertionError) as caught:
            assert_fits_the_window(page, "the test page")
        message = str(caught.value)
        assert "the test page is" in message and "390 px window" in message
        assert "div.too-wide#wide" in message
        assert "#inner" not in message  # it scrolls within its own box
    finally:
        context.close()


def test_a_wide_table_that_scrolls_in_its_box_fits(browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 800})
    try:
        page = context.new_page()
        page.set_content(
            "<main><div style='overflow-x: auto'><table style='width: 900px'><tr><td>y"
            "</td></tr></table></div><p>short</p></main>"
        )
        assert_fits_the_window(page)
    finally:
        context.close()
