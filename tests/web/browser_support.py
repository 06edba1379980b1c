"""What the browser tests share: Debian's chromium (never a browser download), the screenshot
folder, serving an app with uvicorn on 127.0.0.1 and a free port in a background thread, and a
page that may only talk to that server (:func:`local_page`)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("KEHU_UPDATE_SCREENSHOTS") == "1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any, name: str) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def local_page(
    browser: Browser,
    base_url: str,
    *,
    console_allows: Callable[[str], bool] = lambda _text: False,
    failed_requests_fail: bool = False,
    **context_options: Any,
) -> Iterator[Page]:
    """A page of a fresh browser context (``context_options``: viewport, locale, ...) whose
    requests outside ``base_url`` are refused. When the block ends without an exception, it
    fails on such a request, on a browser console error ``console_allows`` does not excuse, and,
    with ``failed_requests_fail``, on any answer of 400 or above (a missing file)."""
    context = browser.new_context(**context_options)
    outside: list[str] = []

    def guard(route: Route) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # a blocked inline style or script (Content-Security-Policy) is a console error
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    failed: list[str] = []
    if failed_requests_fail:
        page.on(
            "response",
            lambda response: failed.append(response.url) if response.status >= 400 else None,
        )
    try:
        yield page
    finally:
        context.close()
    assert outside == [], f"the page tried to load from outside kehu: {outside}"
    assert failed == [], f"requests that failed (a missing favicon?): {failed}"
    errors = [error for error in errors if not console_allows(error)]
    assert errors == [], f"errors in the browser console: {errors}"


# the first few elements past the window's right edge that no scrolling box of theirs contains:
# what makes the whole page scroll sideways
_SPILLING = """() => {
  const clipped = e => {
    for (let a = e.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return a !== document.documentElement
        && a !== document.body;
    }
    return false;
  };
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !clipped(e))
    .slice(0, 5)
    .map(e => `${e.tagName.toLowerCase()}.${e.getAttribute("class") || ""}#${e.id}`
              + ` right=${Math.round(e.getBoundingClientRect().right)}`);
}"""


def assert_fits_the_window(page: Page, where: str = "") -> None:
    """Nothing on ``page`` is wider than its window (no sideways scrolling of the whole page).

    Measured once the page has loaded: before its style sheet arrives (a slow machine) a chart
    keeps its drawn width and the page would be measured unstyled."""
    page.wait_for_load_state("load")
    spill = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if spill > 0:
        spilling = page.evaluate(_SPILLING)
        raise AssertionError(
            f"{where or page.url} is {spill} px wider than its "
            f"{page.viewport_size['width'] if page.viewport_size else '?'} px window: {spilling}"
        )
