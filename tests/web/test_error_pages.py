"""Errors of page requests are HTML pages in the visitor's language (issue 6, defect 11).

The whole app (``create_app``) answers: the API's one error map, written as a page for page
requests and as the unchanged JSON body for ``/api/...``. The page keeps the map's status and
headers, carries the site's CSS and the pages' security headers, shows no internal detail, and
renders without the store (a 503 means the store is down).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_support import assert_fits_the_window, serving
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage
from sqlalchemy.orm.exc import StaleDataError

from kehu.app import create_app
from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.core.users import service as users
from kehu.errors import InputError, PermissionDeniedError, RateLimitedError
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME
from kehu.web.rendering import CONTENT_SECURITY_POLICY
from kehu.web.views import common

TOO_LONG_NOTICE = "/login?notice=" + "x" * 41
SECRET = "db password hunter2 at /srv/kehu/secret.py line 42"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
PASSWORD = "correct horse battery"


@pytest.fixture
def site(database: Database) -> FastAPI:
    return create_app(Settings(database_url=database.url, session_cookie_secure=False), database)


@pytest.fixture
def client(site: FastAPI) -> Iterator[TestClient]:
    # the 500 handler answers and Starlette then re-raises for the server's log: keep the answer
    with TestClient(site, follow_redirects=False, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def login_page_raises(monkeypatch: pytest.MonkeyPatch) -> Callable[[BaseException], None]:
    """Make the login page (a real page route) raise ``error`` while it is drawn."""

    def arrange(error: BaseException) -> None:
        def fail(*_args: Any, **_kwargs: Any) -> str:
            raise error

        monkeypatch.setattr(common, "safe_next", fail)

    return arrange


def assert_error_page(response: Any, status: int, locale: str = "en") -> str:
    """``response`` is kehu's error page for ``status`` in ``locale``; returns its HTML."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    html: str = response.text
    assert html.startswith("<!doctype html>")
    assert f'<html lang="{locale}">' in html
    assert f'<p class="error-status">{status}</p>' in html
    assert '<link rel="stylesheet" href="/static/css/kehu.css">' in html
    assert '{"error"' not in html
    headers = response.headers
    assert headers["content-language"] == locale
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"
    assert "Accept" in headers["vary"].split(", ")
    return html


# -- the statuses ------------------------------------------------------------------------------


def test_a_too_long_login_notice_is_an_html_422_page_naming_the_field(client: TestClient) -> None:
    html = assert_error_page(client.get(TOO_LONG_NOTICE), 422)
    assert "<h1>Please check your input</h1>" in html
    assert "The value of “notice” was not accepted." in html
    assert "at most 40 characters" in html


def test_the_422_page_is_in_chinese_for_a_chinese_browser(client: TestClient) -> None:
    html = assert_error_page(client.get(TOO_LONG_NOTICE, headers=ZH), 422, "zh-Hans")
    assert "<h1>请检查您的输入</h1>" in html
    assert "“notice”一项的值不符合要求" in html
    assert "Please check your input" not in html


def test_the_language_switch_cookie_chooses_over_the_browser(client: TestClient) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = assert_error_page(
        client.get("/no-such-page", headers={"Accept-Language": "en"}), 404, "zh-Hans"
    )
    assert "<h1>未找到</h1>" in html


def test_an_unknown_page_is_an_html_404(client: TestClient) -> None:
    html = assert_error_page(client.get("/no-such-page"), 404)
    assert "<h1>Not found</h1>" in html
    assert '<a href="/">Back to the start page</a>' in html


def test_an_unexpected_exception_in_a_page_is_an_html_500_without_detail(
    client: TestClient, login_page_raises: Callable[[BaseException], None]
) -> None:
    login_page_raises(RuntimeError(SECRET))
    for headers, locale, title in ((None, "en", "Something went wrong"), (ZH, "zh-Hans", "出错了")):
        html = assert_error_page(client.get("/login", headers=headers), 500, locale)
        assert f"<h1>{title}</h1>" in html
        assert "hunter2" not in html and "Traceback" not in html and "RuntimeError" not in html
        assert '<a class="button-link" href="/login">' in html  # try again


def test_an_unreachable_store_is_an_html_503_that_needs_no_store(tmp_path: Path) -> None:
    unopenable = f"sqlite:///{tmp_path / 'no-such-folder' / 'kehu.db'}"
    with TestClient(create_app(Settings(database_url=unopenable)), follow_redirects=False) as c:
        for path in ("/login", "/customers", "/tickets/1"):
            html = assert_error_page(c.get(path), 503)
            assert "<h1>Not available just now</h1>" in html
            assert f'<a class="button-link" href="{path}">Try again</a>' in html
            assert "sqlite" not in html and "unable to open" not in html
        html = assert_error_page(c.get("/login", headers=ZH), 503, "zh-Hans")
        assert "请一分钟后再试" in html
        api = c.get("/api/auth/me")
        assert api.status_code == 503
        assert api.json() == {
            "error": {
                "type": "StoreError",
                "message": "the store cannot be reached now; try again later",
            }
        }


def test_a_stale_write_in_a_page_is_an_html_409(
    client: TestClient, login_page_raises: Callable[[BaseException], None]
) -> None:
    login_page_raises(StaleDataError("UPDATE statement on table 'customers' expected 1 row"))
    html = assert_error_page(client.get("/login"), 409)
    assert "<h1>Changed in the meantime</h1>" in html
    assert "UPDATE statement" not in html


def test_too_many_requests_keeps_retry_after_and_says_how_long(
    client: TestClient, login_page_raises: Callable[[BaseException], None]
) -> None:
    login_page_raises(RateLimitedError("too many attempts", retry_after=30))
    response = client.get("/login")
    html = assert_error_page(response, 429)
    assert response.headers["retry-after"] == "30"
    assert "Please wait 30 seconds and try again." in html
    zh = assert_error_page(client.get("/login", headers=ZH), 429, "zh-Hans")
    assert "请等待 30 秒后再试。" in zh


def test_a_forbidden_page_is_an_html_403(
    client: TestClient, login_page_raises: Callable[[BaseException], None]
) -> None:
    login_page_raises(PermissionDeniedError("needs customers:write"))
    html = assert_error_page(client.get("/login", headers=ZH), 403, "zh-Hans")
    assert "<h1>无权访问</h1>" in html
    forged = client.post(
        "/auth/login",
        data={"username": "a@example.com", "password": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert "<h1>Not allowed</h1>" in assert_error_page(forged, 403)


def test_an_unauthenticated_form_post_is_a_401_page_linking_to_the_login(
    client: TestClient,
) -> None:
    response = client.post("/auth/logout")
    html = assert_error_page(response, 401)
    assert '<a class="button-link" href="/login">Log in</a>' in html
    assert response.headers["www-authenticate"] == 'Bearer realm="kehu"'
    # the language switch cannot send the visitor back to a form's address (405)
    assert 'href="/lang/zh-Hans?next=%2F"' in html


def add_manager(database: Database, settings: Settings) -> None:
    with database.session() as session:
        users.create_user(
            session,
            SYSTEM,
            email="wang@example.com",
            display_name="王经理",
            role="manager",
            password=PASSWORD,
            settings=settings,
        )


def test_a_logged_in_user_keeps_the_header_on_an_error_page(
    client: TestClient, database: Database, site: FastAPI
) -> None:
    add_manager(database, site.state.settings)
    login = client.post("/api/auth/login", json={"email": "wang@example.com", "password": PASSWORD})
    assert login.status_code == 200
    html = assert_error_page(client.get(TOO_LONG_NOTICE, headers=ZH), 422, "zh-Hans")
    assert "王经理" in html  # who is logged in, known before the error, without a second look-up
    assert f'name="csrf_token" value="{login.json()["csrf_token"]}"' in html  # logging out works


def test_a_visitor_is_still_sent_to_the_login_page(client: TestClient) -> None:
    response = client.get("/customers?q=zhang")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/customers%3Fq%3Dzhang"


def test_a_wrong_method_is_an_html_405_keeping_allow(client: TestClient) -> None:
    response = client.post("/login")
    html = assert_error_page(response, 405)
    assert "<h1>Not possible here</h1>" in html
    assert "GET" in response.headers["allow"]


def test_a_form_body_over_the_limit_is_an_html_413(database: Database) -> None:
    settings = Settings(database_url=database.url, max_request_bytes=1024)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
        for _ in range(8):
            yield b"x" * 512

    with TestClient(create_app(settings, database), follow_redirects=False) as c:
        response = c.post(
            "/auth/login",
            content=chunks(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    html = assert_error_page(response, 413)
    assert "<h1>Too large</h1>" in html


def test_answers_the_middlewares_give_are_pages_too(database: Database) -> None:
    """The middlewares run outside the app's exception handlers and answer on their own: a
    body whose Content-Length is over the limit, a cut-off multipart body, a malformed
    Idempotency-Key. They answer through the same map (they wrote JSON on page paths)."""
    settings = Settings(database_url=database.url, max_request_bytes=1024)
    form = {"content-type": "application/x-www-form-urlencoded"}
    with TestClient(create_app(settings, database), follow_redirects=False) as c:
        declared = c.post("/auth/login", content=b"x" * 2048, headers=form)
        cut_off = c.post(
            "/complain",
            content=b'--b\r\nContent-Disposition: form-data; name="subject"\r\n\r\nx',
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
        bad_key = c.post("/auth/login", content=b"a=1", headers={**form, "Idempotency-Key": ""})
        api = c.post("/api/auth/login", content=b"x" * 2048, headers=form)
    assert "<h1>Too large</h1>" in assert_error_page(declared, 413)
    assert_error_page(cut_off, 400)
    assert_error_page(bad_key, 422)
    assert api.status_code == 413
    assert api.json()["error"]["type"] == "PayloadTooLarge"


# -- escaping, format choice -------------------------------------------------------------------


def test_user_input_in_the_message_is_shown_as_text(
    client: TestClient, login_page_raises: Callable[[BaseException], None]
) -> None:
    login_page_raises(
        InputError(
            "is not a notice",
            column='<script>alert("field")</script>',
            value="<img src=x onerror=alert(1)>",
        )
    )
    html = assert_error_page(client.get("/login"), 422)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;field&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_client_asking_for_json_gets_the_json_body_on_any_path(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json() == {"error": {"type": "NotFoundError", "message": "not found"}}
    invalid = client.get(TOO_LONG_NOTICE, headers={"Accept": "application/json"})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["field"] == "notice"


@pytest.mark.parametrize(
    "path", ["/api/no-such-route", "/api/customers/not-a-number", "/api/auth/me"]
)
def test_api_paths_answer_json_even_to_a_browser(client: TestClient, path: str) -> None:
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get(path, headers={"Accept": browser_accept, **ZH})
    assert response.status_code in (401, 404, 422)
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()["error"]) >= {"type", "message"}


def test_an_unexpected_exception_in_the_api_is_still_the_json_500(site: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError(SECRET)

    site.add_api_route("/api/test-boom", boom)
    with TestClient(site, raise_server_exceptions=False) as c:
        response = c.get("/api/test-boom", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response.json() == {"error": {"type": "InternalError", "message": "internal error"}}


# -- a phone -----------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_error_page_fits_a_phone_and_has_the_site_style(
    browser: Browser, database: Database
) -> None:
    settings = Settings(database_url=database.url, session_cookie_secure=False)
    add_manager(database, settings)
    site = create_app(settings, database)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # the error status of the page itself is logged as a failed resource; a blocked style or
        # script would be logged for another address
        if message.type == "error" and urlsplit(message.location["url"]).path != "/login":
            problems.append(message.text)

    with serving(site, "kehu-error-page-test-server") as base_url:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
        )
        try:
            tab = context.new_page()
            tab.on("pageerror", lambda error: problems.append(str(error)))
            tab.on("console", on_console)
            for who in ("a visitor", "a logged-in manager"):
                if who == "a logged-in manager":  # the header then holds the navigation too
                    tab.goto(base_url + "/login")
                    tab.fill("input[name=username]", "wang@example.com")
                    tab.fill("input[name=password]", PASSWORD)
                    tab.click("button[type=submit]")
                    tab.wait_for_url("**/value")
                response = tab.goto(base_url + TOO_LONG_NOTICE)
                assert response is not None and response.status == 422
                assert tab.locator("h1").inner_text() == "请检查您的输入"
                assert tab.locator(".main-nav").count() == (who != "a visitor")
                panel = tab.locator(".error-page")
                style = panel.evaluate(
                    "e => [getComputedStyle(e).borderTopLeftRadius,"
                    " getComputedStyle(e).backgroundColor]"
                )
                assert style == ["10px", "rgb(255, 255, 255)"]  # kehu.css, served by kehu
                assert_fits_the_window(tab, f"the error page for {who}")
                box = panel.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        finally:
            context.close()
    assert problems == []
