"""The service figures page: effort and one-stop resolution per team, category and month, the
kept-promise rate per policy, team and month, SVG charts, both languages, the permission layer."""

from __future__ import annotations

import re

from desk_support import SeededDesk
from fastapi.testclient import TestClient
from web_support import AGENT, WebApp

from kehu.core.auth import Principal
from kehu.desk.effort import effort_summary, kept_promise_rates
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME
from kehu.web.rendering import CONTENT_SECURITY_POLICY


def rows_of(html: str, table: str) -> list[list[str]]:
    body = html.split(f'class="data-table {table}"', 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    ]


def test_figures_match_the_use_cases(
    client: TestClient, database: Database, desk: SeededDesk, web: WebApp
) -> None:
    response = client.get("/service")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    html = response.text
    manager = Principal.for_user(1, ["manager"])
    with database.session() as session:
        kept = kept_promise_rates(session, manager, settings=web.settings)
        effort = effort_summary(session, manager, settings=web.settings)
    kept_rows = rows_of(html, "kept-table")
    assert len(kept_rows) == len(kept) == 5
    assert sum(int(r[3]) for r in kept_rows) == sum(r.kept for r in kept)
    assert sum(int(r[4]) for r in kept_rows) == sum(r.total for r in kept) == 5
    assert any(r[5] == "0.0%" for r in kept_rows) and any(r[5] == "100.0%" for r in kept_rows)
    effort_rows = rows_of(html, "effort-table")
    assert len(effort_rows) == len(effort)
    assert sum(int(r[3]) for r in effort_rows) == 12
    totals = {r[0]: r for r in rows_of(html, "effort-totals")}
    assert set(totals) == {"一线客服", "账务组", "物流组"}
    assert sum(int(r[2]) for r in totals.values()) == 1  # the one transfer
    # two offline charts, labelled, nothing loaded from elsewhere
    assert html.count('<svg class="chart chart-bar"') == 2
    assert "Kept-promise rate per month and team" in html
    assert "http://" not in html.split("<main", 1)[1].replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_figures_in_chinese(client: TestClient, desk: SeededDesk) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/service").text
    for text in (
        "服务承诺兑现率",
        "客户费力度",
        "首次解决率",
        "转接",
        "各月各团队的服务承诺兑现率",
    ):
        assert text in html
    assert re.search(r"\d{4}年\d{1,2}月", html)


def test_an_agent_sees_their_teams_figures_only(
    client: TestClient, web: WebApp, desk: SeededDesk
) -> None:
    web.principal = AGENT
    html = client.get("/service").text
    teams = {r[0] for r in rows_of(html, "effort-totals")}
    assert teams == {"一线客服"}
    assert {r[2] for r in rows_of(html, "kept-table")} == {"一线客服"}


def test_figures_without_tickets_and_the_period(client: TestClient) -> None:
    html = client.get("/service").text
    assert "No ticket was filed in this period." in html
    assert "No ticket with a service promise was resolved in this period." in html
    assert '<option value="24">Last 24 months</option>' in client.get("/service?months=3").text
    assert client.get("/service?months=0").status_code == 422
