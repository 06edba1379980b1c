"""The desk dashboard page: its figures are the use cases', every figure links to a list of
exactly the tickets it counts, both languages, the team filter and the permission layer."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import parse_qs, urlsplit

from desk_support import SeededDesk
from fastapi.testclient import TestClient
from web_support import AGENT, WebApp

from kehu.web.i18n import COOKIE_NAME

TICKETS_LINK = re.compile(r'href="(/desk/dashboard/tickets\?[^"]+)"')


def listed_count(client: TestClient, url: str) -> int:
    page = client.get(html_lib.unescape(url))
    assert page.status_code == 200, url
    found = re.search(r'class="figure-count" data-count="(\d+)"', page.text)
    assert found, url
    count = int(found.group(1))
    # the list shows them all (the seeded desk has fewer than a page)
    assert page.text.count("<tr data-ticket=") == count
    return count


def tiles(html: str) -> dict[str, dict[str, str]]:
    return {
        match.group(1): dict(re.findall(r'data-(numerator|denominator)="(\d+)"', match.group(0)))
        for match in re.finditer(r'<div class="figure-tile" data-figure="(\w+)"[^>]*>', html)
    }


def test_every_summary_figure_links_to_the_tickets_it_counts(
    client: TestClient, desk: SeededDesk
) -> None:
    response = client.get("/desk/dashboard")
    assert response.status_code == 200
    html = response.text
    found = tiles(html)
    assert set(found) == {
        "kept",
        "first_response",
        "resolution",
        "one_stop",
        "reopened",
        "transfers",
        "repeats",
    }
    assert found["kept"] == {"numerator": "4", "denominator": "5"}  # one promise broken
    assert found["reopened"]["numerator"] == "1" and found["transfers"]["numerator"] == "1"
    summary = html.split('id="summary"', 1)[1].split("</section>", 1)[0]
    links = TICKETS_LINK.findall(summary)
    assert len(links) == 11
    for url in links:
        query = parse_qs(urlsplit(html_lib.unescape(url)).query)
        figure = query["figure"][0]
        part = "numerator" if query.get("counted") == ["1"] else "denominator"
        assert listed_count(client, url) == int(found[figure][part]), url


def test_every_table_cell_counts_what_its_list_shows(client: TestClient, desk: SeededDesk) -> None:
    html = client.get("/desk/dashboard").text
    # the backlog: each cell is its count
    backlog = html.split('class="data-table backlog-table"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<a (?:class="backlog-overdue" )?href="([^"]+)">(\d+)</a>', backlog)
    assert len(cells) == 4 * 7  # three teams and the total, five ages, all and overdue
    for url, shown in cells:
        assert listed_count(client, url) == int(shown), url
    total = re.search(r'<tr data-team="all">(.*?)</tr>', backlog, re.S)
    assert total is not None
    open_now, overdue = (int(n) for n in re.findall(r">(\d+)</a>", total.group(1))[-2:])
    # the same tickets as the queue shows, and as many marked "Breached" there
    queue = client.get("/tickets").text
    assert open_now == 7 == queue.count("<tr data-ticket=")
    assert overdue == queue.count('class="badge badge-breached"') >= 1
    # per team and month: "(numerator/denominator)" or a time's "(count)" beside each link
    months = html.split('class="data-table dashboard-month-table"', 1)[1].split("</table>", 1)[0]
    checked = 0
    cell = r'<a href="(/desk/dashboard/tickets\?[^"]+)"[^>]*>[^<]*</a> <span class="basis">'
    for url, basis in re.findall(cell + r"\(([^)]+)\)", months):
        query = parse_qs(urlsplit(html_lib.unescape(url)).query)
        assert "month" in query
        if "/" not in basis:  # a time's sample size
            expected = int(basis)
        else:
            numerator, denominator = (int(n) for n in basis.split("/"))
            expected = numerator if query.get("counted") == ["1"] else denominator
        assert listed_count(client, url) == expected, url
        checked += 1
    assert checked >= 20


def test_times_are_shown_in_business_hours(client: TestClient, desk: SeededDesk) -> None:
    html = client.get("/desk/dashboard").text
    tile = html.split('data-figure="first_response"', 1)[1].split("</div>", 1)[0]
    assert re.search(r"\d+\.\d h / \d+\.\d h", tile)
    assert "business hours on the promise calendar" in html
    assert "nearest rank" in html


def test_the_dashboard_in_chinese(client: TestClient, desk: SeededDesk) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/desk/dashboard").text
    terms = ("客服看板", "积压工单时长", "服务承诺兑现率", "一站式解决率", "重新打开率", "小时")
    for text in terms:
        assert text in html
    assert re.search(r"\d{4}年\d{1,2}月", html)
    url = TICKETS_LINK.findall(html)[0]
    listed = client.get(html_lib.unescape(url)).text
    assert "返回看板" in listed and "张工单" in listed


def test_an_agent_sees_their_teams_only(client: TestClient, web: WebApp, desk: SeededDesk) -> None:
    web.principal = AGENT
    html = client.get("/desk/dashboard").text
    backlog = html.split('class="data-table backlog-table"', 1)[1].split("<tfoot>", 1)[0]
    assert re.findall(r'<tr data-team="(\w+)">', backlog) == ["1"]
    everything = client.get("/desk/dashboard/tickets?figure=backlog").text
    assert 'data-count="4"' in everything  # the front team's four open tickets
    other = desk.tickets[sorted(desk.tickets)[0]]
    assert other  # a ticket id of the seeded desk
    assert 'data-team="2"' not in html


def test_the_team_filter_and_the_month_window(client: TestClient, desk: SeededDesk) -> None:
    billing = desk.teams["账务组"]
    html = client.get(f"/desk/dashboard?team={billing}").text
    teams = html.split('class="data-table dashboard-team-table"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<tr data-team="(\w+)">', teams) == [str(billing)]
    for url in TICKETS_LINK.findall(html):
        assert f"team={billing}" in html_lib.unescape(url)
    # a window before anything happened: no figures, still a page
    empty = client.get("/desk/dashboard?from=2020-01&to=2020-03")
    assert empty.status_code == 200 and "No ticket was filed in this period." in empty.text


def test_bad_input_names_the_field(client: TestClient, desk: SeededDesk) -> None:
    for query, field in (
        ("figure=happiness", "figure"),
        ("figure=kept&from=2026-13", "from"),
        ("figure=kept&from=2026-05&to=2026-04", "to"),
        ("figure=backlog&age=ancient", "age"),
    ):
        response = client.get(f"/desk/dashboard/tickets?{query}")
        assert response.status_code == 422, query
        assert field in response.text, query


def test_the_dashboard_is_linked_from_the_service_figures_and_the_navigation(
    client: TestClient, desk: SeededDesk
) -> None:
    service = client.get("/service").text
    assert 'href="/desk/dashboard"' in service.split("<main", 1)[1]
    assert 'data-nav="dashboard"' in service
    page = client.get("/desk/dashboard").text
    assert 'data-nav="dashboard" aria-current="page"' in page
    assert page.count('<svg class="chart chart-bar"') == 1  # drawn on the server
    # no script of its own (the frame's keyboard shortcuts come after </main>)
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]
