"""What every page's frame carries: kehu's own icon (no 404 for the favicon), the login page's
styled e-mail field, and the links to the public complaint form (the login page, the footer, the
footer's setting), in English and Chinese; and the bar chart's value labels kept clear of its
legend."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from web_support import WebApp

from kehu.core.config import Settings
from kehu.report.svg import bar_chart
from kehu.web.rendering import STATIC_DIR

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
README = Path(__file__).resolve().parents[2] / "README.md"


def _links(html: str) -> dict[str, str]:
    """``href`` of every anchor carrying a ``data-...-link`` marker, by marker."""
    found = re.findall(r'<a href="([^"]*)" data-([a-z-]+-link)>([^<]*)</a>', html)
    return {marker: href for href, marker, _text in found}


def _footer_text(html: str) -> str:
    found = re.search(r'<a href="[^"]*" data-footer-link>([^<]*)</a>', html)
    assert found is not None, "no footer link"
    return found.group(1)


def test_every_page_names_kehus_own_icon_and_it_is_served(client: TestClient) -> None:
    for path, who in (("/login", None), ("/customers", "staff")):
        html = client.get(path).text
        icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
        assert icon is not None, f"{path} names no icon (browsers then ask /favicon.ico: 404)"
        assert not icon.group(1).startswith(("http:", "https:", "//"))
        response = client.get(icon.group(1))
        assert response.status_code == 200, who
        assert response.headers["content-type"].startswith("image/svg+xml")
        root = ElementTree.fromstring(response.content)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        # the icon is self-contained: no link, script or image from anywhere
        assert not re.search(rb"href|<script|<image", response.content)


def test_the_login_pages_email_field_has_the_forms_style() -> None:
    css = (STATIC_DIR / "css" / "kehu.css").read_text(encoding="utf-8")
    rule = re.search(r"(select, input\[type=\"text\"\][^{]*)\{", css)
    assert rule is not None
    assert 'input[type="email"]' in rule.group(1)
    assert 'input[type="password"]' in rule.group(1)


@pytest.mark.parametrize(
    ("headers", "login_words", "footer_words"),
    [(EN, "file a complaint", "Have a complaint? Tell us"), (ZH, "提交投诉", "有投诉？告诉我们")],
)
def test_the_login_page_links_the_public_complaint_form(
    client: TestClient, web: WebApp, headers: dict[str, str], login_words: str, footer_words: str
) -> None:
    web.principal = None
    html = client.get("/login", headers=headers).text
    links = _links(html)
    assert links["complaint-link"] == "/complain"
    assert f"data-complaint-link>{login_words}</a>" in html
    assert links["footer-link"] == "/complain"
    assert _footer_text(html) == footer_words
    assert client.get(links["complaint-link"], headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/customers", "/tickets", "/value", "/service", "/complain"])
def test_every_page_has_the_footer_link_to_the_complaint_form(
    client: TestClient, path: str
) -> None:
    for headers, words in ((EN, "Have a complaint? Tell us"), (ZH, "有投诉？告诉我们")):
        html = client.get(path, headers=headers).text
        assert _links(html)["footer-link"] == "/complain", path
        assert _footer_text(html) == words


def test_the_footer_link_follows_its_setting(client: TestClient, web: WebApp) -> None:
    web.settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        currency="CNY",
        footer_link_url="https://help.example.com/kehu?from=footer",
        footer_link_label={"en": "Help & contact", "zh-Hans": "帮助与联系"},
    )
    html = client.get("/customers", headers=EN).text
    assert 'href="https://help.example.com/kehu?from=footer" data-footer-link' in html
    assert _footer_text(html) == "Help &amp; contact"
    assert _footer_text(client.get("/customers", headers=ZH).text) == "帮助与联系"

    web.settings = Settings(_env_file=None, currency="CNY", footer_link_url="/help")  # type: ignore[call-arg]
    html = client.get("/customers", headers=ZH).text
    assert _links(html)["footer-link"] == "/help"
    assert _footer_text(html) == "有投诉？告诉我们"

    web.settings = Settings(_env_file=None, currency="CNY", footer_link_url="none")  # type: ignore[call-arg]
    html = client.get("/customers", headers=EN).text
    assert "footer-link" not in _links(html)
    assert "Customer value and service, on your own server." in html


@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", "//elsewhere.example", "ftp://x.example", "/a\\b", "a b"]
)
def test_a_footer_link_a_browser_would_run_or_misread_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="KEHU_FOOTER_LINK_URL"):
        Settings(_env_file=None, footer_link_url=value)  # type: ignore[call-arg]


def test_the_footer_links_text_is_needed_in_every_language() -> None:
    with pytest.raises(ValidationError, match="missing: zh-Hans"):
        Settings(_env_file=None, footer_link_label={"en": "Help"})  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="unknown language fr"):
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            footer_link_label={"en": "Help", "zh-Hans": "帮助", "fr": "Aide"},
        )
    env = Settings(_env_file=None, footer_link_url="")  # type: ignore[call-arg]
    assert env.footer_link_url is None  # KEHU_FOOTER_LINK_URL= is unset: the complaint form


def test_the_readme_documents_the_footer_setting_and_the_complaint_form() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "| `KEHU_FOOTER_LINK_URL` |" in readme
    assert "| `KEHU_FOOTER_LINK_LABEL` |" in readme
    assert "http://127.0.0.1:8000/complain" in readme


def test_bar_value_labels_stay_below_the_legend() -> None:
    """A bar at the top of the scale has its value label above it: that label must not reach
    up into the legend's row (the last "100%" once sat under the legend)."""
    svg = bar_chart(
        ["2026-10", "2026-11", "2026-12"],
        {"一线客服": [0.9, 1.0, 1.0], "账务组": [1.0, 0.8, 1.0], "Key accounts": [1.0, 1.0, 1.0]},
        title="Kept-promise rate per month and team",
        x_label="Month",
        y_label="Promises kept",
        y_format=lambda v: f"{v:.0%}",
    )
    root = ElementTree.fromstring(svg)
    elements = list(root)
    legend_bottom = max(
        float(e.get("y", 0)) + 4  # a legend text's baseline, plus its descenders
        for e, after in pairwise(elements)
        if e.tag == "text"
        and after.tag == "rect"
        and after.get("class") != "bar"
        and after.get("width") == "12"
    )
    value_tops = [
        float(e.get("y", 0)) - float(e.get("font-size", 12))  # baseline minus the font's height
        for bar, e in pairwise(elements)
        if bar.get("class") == "bar" and e.tag == "text"
    ]
    assert len(value_tops) == 9
    assert min(value_tops) > legend_bottom, (min(value_tops), legend_bottom)


def test_favicon_ico_leads_to_kehus_own_icon(client: TestClient) -> None:
    # browsers ask for /favicon.ico whatever the page names; it used to answer 404
    response = client.get("/favicon.ico", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"].endswith("/static/img/favicon.svg")
    icon = client.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
