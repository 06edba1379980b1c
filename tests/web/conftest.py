"""Fixtures of the web page tests (the helpers are in ``web_support.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS
from desk_support import SeededDesk, seed_desk
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from web_support import SeededRun, WebApp, seed_value_run, shared_app

from kehu.store.db import Database
from kehu.web import i18n


@pytest.fixture(autouse=True)
def _strict_translations() -> Iterator[None]:
    """A message without a translation fails the page instead of falling back to English."""
    with i18n.strict_translations():
        yield


@pytest.fixture
def web(database: Database) -> WebApp:
    return shared_app(database)


@pytest.fixture
def client(web: WebApp) -> Iterator[TestClient]:
    with TestClient(web.app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def seeded(database: Database) -> SeededRun:
    return seed_value_run(database)


@pytest.fixture
def desk(database: Database, seeded: SeededRun) -> SeededDesk:
    """The value run's customers with contacts, purchases, teams, promises and tickets."""
    return seed_desk(database, seeded.customer_ids)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium through Playwright (browsers are never downloaded)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's chromium. Install it with "
            "`bash scripts/setup-browser.sh` (apt-get install chromium); browsers are never "
            "downloaded."
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
