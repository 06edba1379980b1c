"""The pages over HTTP: layout, login, language switch, the value page and its permission layer."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Select
from web_support import (
    AGENT,
    CSRF_TOKEN,
    MANAGER,
    SCRIPT_NAME,
    SeededRun,
    WebApp,
    seed_value_run,
)

from kehu.core.auth import scoping
from kehu.customers.tables import Customer
from kehu.store.db import Database
from kehu.web import AREAS
from kehu.web.i18n import COOKIE_NAME
from kehu.web.rendering import CONTENT_SECURITY_POLICY, environment
from kehu.web.views.value import AT_RISK_LIMIT


def at_risk_names(html: str) -> list[str]:
    section = html.split('id="at-risk"', 1)[1]
    return [
        unescape(n)
        for n in re.findall(
            r'<td class="customer-name"><a href="/customers/\d+">(.*?)</a></td>', section
        )
    ]


def tier_counts(html: str) -> dict[str, int]:
    rows = re.findall(
        r'<tr data-tier="(\w+)">.*?<td class="num">([\d,]+)</td>', html, flags=re.DOTALL
    )
    return {tier: int(count.replace(",", "")) for tier, count in rows}


# -- layout and navigation ---------------------------------------------------------------------


def test_layout_has_navigation_user_menu_and_language_switch(
    client: TestClient, seeded: SeededRun
) -> None:
    response = client.get("/value")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="en">' in html
    for route, label in (
        ("/customers", "Customers"),
        ("/tickets", "Tickets"),
        ("/value", "Value"),
        ("/service", "Service figures"),
    ):
        assert f'href="{route}"' in html
        assert f">{label}</a>" in html
    assert 'data-nav="value" aria-current="page"' in html
    assert "王经理" in html and "Manager" in html and "Log out" in html
    assert 'href="/lang/zh-Hans?next=%2Fvalue"' in html
    assert f'name="csrf_token" value="{CSRF_TOKEN}"' in html
    assert 'src="/static/vendor/htmx.min.js"' in html
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["content-language"] == "en"


def test_nav_shows_only_what_the_role_may_open(client: TestClient, web: WebApp) -> None:
    web.principal = AGENT
    html = client.get("/customers").text
    assert 'href="/customers"' in html and 'href="/tickets"' in html
    assert 'href="/value"' not in html
    assert "Service agent" in html


def test_a_visitor_is_sent_to_the_login_page(client: TestClient, web: WebApp) -> None:
    web.principal = None
    response = client.get("/value?threshold=0.3")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/value%3Fthreshold%3D0.3"
    assert client.get("/").headers["location"].startswith("/login")


def test_home_opens_the_value_page_for_a_manager(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/value"


def test_every_area_renders_without_data(client: TestClient) -> None:
    for path, heading in (
        ("/customers", "Customers"),
        ("/tickets", "Ticket queue"),
        ("/service", "Service figures"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert f"<h1>{heading}</h1>" in response.text


# -- login -------------------------------------------------------------------------------------


def test_login_form_posts_to_the_api_with_csrf_and_next(client: TestClient, web: WebApp) -> None:
    web.principal = None
    html = client.get("/login?next=/value").text
    assert '<form class="login-form" method="post" action="/auth/login">' in html
    assert f'<input type="hidden" name="csrf_token" value="{CSRF_TOKEN}">' in html
    assert '<input type="hidden" name="next" value="/value">' in html
    assert 'name="username"' in html and 'name="password" type="password"' in html
    assert 'class="main-nav"' not in html  # nothing to navigate before login


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil", "x"])
def test_login_next_never_leaves_the_site(client: TestClient, web: WebApp, target: str) -> None:
    web.principal = None
    html = client.get("/login", params={"next": target}).text
    assert '<input type="hidden" name="next" value="/">' in html


def test_login_notices(client: TestClient, web: WebApp) -> None:
    web.principal = None
    assert "email address or password is wrong" in client.get("/login?notice=invalid").text
    assert 'role="alert"' not in client.get("/login?notice=<b>").text


# -- language switch ---------------------------------------------------------------------------


def test_language_switch_sets_a_cookie_and_returns_to_the_page(
    client: TestClient, seeded: SeededRun
) -> None:
    response = client.get("/lang/zh-Hans", params={"next": "/value?threshold=0.3"})
    assert response.status_code == 303
    assert response.headers["location"] == "/value?threshold=0.3"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=zh-Hans;")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    page = client.get("/value")
    assert '<html lang="zh-Hans">' in page.text
    assert "高价值客户" in page.text and "有流失风险的高价值客户" in page.text
    assert page.headers["content-language"] == "zh-Hans"


def test_language_switch_refuses_other_sites_and_unknown_languages(client: TestClient) -> None:
    response = client.get("/lang/en", params={"next": "https://evil.example/"})
    assert response.headers["location"] == "/"
    assert client.get("/lang/fr").status_code == 404


def test_browser_language_chooses_without_a_cookie(client: TestClient, seeded: SeededRun) -> None:
    html = client.get("/value", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).text
    assert '<html lang="zh-Hans">' in html
    client.cookies.set(COOKIE_NAME, "en")
    html = client.get("/value", headers={"Accept-Language": "zh-CN"}).text
    assert '<html lang="en">' in html


# -- the value page ----------------------------------------------------------------------------


def test_value_page_shows_tiers_pareto_curve_and_at_risk_customers(
    client: TestClient, seeded: SeededRun
) -> None:
    html = client.get("/value").text
    expected = {tier: list(seeded.tiers.values()).count(tier) for tier in ("high", "middle", "low")}
    assert tier_counts(html) == expected
    assert "High value" in html and "Middle value" in html and "Low value" in html
    assert '<svg class="chart chart-line"' in html
    assert "Pareto curve of customer lifetime value" in html
    names = at_risk_names(html)
    expected_names = sorted(
        (
            name
            for name, tier in seeded.tiers.items()
            if tier == "high" and seeded.probability_alive[name] < 0.5
        ),
        key=lambda name: -seeded.clv_minor[name],
    )
    assert names == expected_names
    assert len(names) >= 2
    assert "CN¥" in html  # the run's currency, formatted for English


def test_value_page_money_and_dates_follow_the_language(
    client: TestClient, seeded: SeededRun
) -> None:
    top = max(seeded.clv_minor, key=lambda name: seeded.clv_minor[name])
    amount = seeded.clv_minor[top]
    english = f"CN¥{amount // 100:,}.{amount % 100:02d}"
    chinese = f"¥{amount // 100:,}.{amount % 100:02d}"
    html_en = client.get("/value").text
    assert english in html_en and "Mar 2, 2026" in html_en and "52 weeks" in html_en
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html_zh = client.get("/value").text
    assert chinese in html_zh and "CN¥" not in html_zh
    assert "2026年3月2日" in html_zh and "52 周" in html_zh


def test_threshold_changes_the_at_risk_list_and_the_fragment_is_the_table_alone(
    client: TestClient, seeded: SeededRun
) -> None:
    strict = at_risk_names(client.get("/value?threshold=0.2").text)
    assert strict == [
        name
        for name in sorted(seeded.clv_minor, key=lambda name: -seeded.clv_minor[name])
        if seeded.tiers[name] == "high" and seeded.probability_alive[name] < 0.2
    ]
    fragment = client.get("/value/at-risk?threshold=0.2", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "at-risk-table" in fragment.text
    assert client.get("/value?threshold=2").status_code == 422


def test_at_risk_list_is_capped(client: TestClient, database: Database) -> None:
    names = tuple(f"客户{i:03d}" for i in range(AT_RISK_LIMIT + 30))
    seed_value_run(database, names)
    html = client.get("/value?threshold=0.8").text
    assert len(at_risk_names(html)) <= AT_RISK_LIMIT


def test_value_page_without_a_run(client: TestClient) -> None:
    html = client.get("/value").text
    assert "There is no value run yet" in html and "<code>kehu value</code>" in html


def test_value_page_is_refused_without_value_read(
    client: TestClient, web: WebApp, seeded: SeededRun
) -> None:
    web.principal = AGENT
    response = client.get("/value")
    assert response.status_code == 403
    assert "Your role does not allow you to see this page." in response.text
    assert client.get("/value/at-risk").status_code == 403


def test_value_page_goes_through_the_permission_layer(
    client: TestClient, seeded: SeededRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A customer outside the principal's scope vanishes from the tiers, the curve and the
    at-risk list (the scope function is the one the customers domain registers)."""
    hidden_name = next(name for name in at_risk_names(client.get("/value").text))
    hidden_id = seeded.customer_ids[hidden_name]
    seen: list[object] = []

    def narrow(statement: Select, principal: object) -> Select:
        seen.append(principal)
        return statement.where(Customer.id != hidden_id)

    monkeypatch.setitem(scoping._SCOPES, Customer, narrow)
    html = client.get("/value").text
    assert hidden_name not in html
    assert sum(tier_counts(html).values()) == len(seeded.customer_ids) - 1
    assert seen and all(p == MANAGER for p in seen)


# -- script is text ----------------------------------------------------------------------------


def test_script_in_a_customer_name_is_shown_as_text(client: TestClient, database: Database) -> None:
    seed_value_run(database, (SCRIPT_NAME,))
    html = client.get("/value?threshold=0.8").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT_NAME in at_risk_names(html)


def test_autoescape_is_on_for_every_template() -> None:
    env = environment()
    assert env.autoescape is True
    template = env.from_string("{{ value }}")
    assert template.render(value=SCRIPT_NAME) == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_page_route_names_cannot_clash_with_the_api() -> None:
    """Templates find pages by route name; the API's routes share the app's name space."""
    names = [
        route.name for area in AREAS for route in area.router.routes if isinstance(route, APIRoute)
    ]
    assert names and all(name.startswith("web_") for name in names)
