"""The queue page (/tickets): search, filters as URL parameters kept across pages and sort links,
the assignee column and the Mine view, saved views, bulk actions with the refused tickets listed
with the reason, and bad parameters refused in place naming the filter."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from desk_support import SUBJECTS, TEXTS, SeededDesk
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_support import AGENT, CSRF_TOKEN, MANAGER, WebApp

from kehu.desk import ticket_commands
from kehu.desk.tables import Ticket, TicketEvent
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME
from settings_support import DEFAULT_SETTINGS


def queue_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-ticket="(\d+)"', html)]


def test_search_finds_subject_message_and_customer(client: TestClient, desk: SeededDesk) -> None:
    assert queue_ids(client.get("/tickets", params={"q": "杯子"}).text) == [desk.front_ticket]
    # words of a note on the ticket (TEXTS[3] is the first ticket's internal note)
    assert desk.front_ticket in queue_ids(client.get("/tickets", params={"q": "理赔流程"}).text)
    # the customer, by name and by pinyin (the customer search)
    by_name = queue_ids(client.get("/tickets", params={"q": "张伟"}).text)
    assert desk.front_ticket in by_name
    assert queue_ids(client.get("/tickets", params={"q": "zhangwei"}).text) == by_name
    html = client.get("/tickets", params={"q": "张伟"}).text
    assert 'value="张伟"' in html  # the words stay in the box


def test_filters_are_url_parameters_kept_by_sort_links_and_pages(
    client: TestClient, desk: SeededDesk
) -> None:
    html = client.get(
        "/tickets", params={"status": "all", "tier": "high,middle,low", "page_size": "10"}
    ).text
    links = [
        unescape(h)
        for h in re.findall(r'class="sort-link" data-sort="subject" href="([^"]+)"', html)
    ]
    assert links and parse_qs(urlsplit(links[0]).query) == {
        "status": ["all"],
        "tier": ["high,middle,low"],
        "sort": ["subject"],
        "page_size": ["10"],
    }
    every = queue_ids(html)
    assert len(every) == 10 and 'rel="next"' in html
    next_link = unescape(re.findall(r'rel="next" href="([^"]+)"', html)[0])
    assert parse_qs(urlsplit(next_link).query) == {
        "status": ["all"],
        "tier": ["high,middle,low"],
        "page": ["2"],
        "page_size": ["10"],
    }
    rest = queue_ids(client.get(next_link).text)
    assert rest and not set(rest) & set(every)
    by_subject = client.get(links[0]).text
    assert 'aria-sort="ascending"' in by_subject
    desc = queue_ids(client.get("/tickets", params={"status": "all", "sort": "-subject"}).text)
    asc = queue_ids(client.get("/tickets", params={"status": "all", "sort": "subject"}).text)
    assert desc == asc[::-1]


def test_promise_team_and_priority_links_other_pages_use(
    client: TestClient, desk: SeededDesk
) -> None:
    breached = queue_ids(client.get("/tickets", params={"promise": "breached"}).text)
    assert desk.tickets[SUBJECTS[1]] in breached  # the nine-day-old unanswered ticket
    assert desk.tickets[SUBJECTS[0]] not in breached
    billing = desk.teams["账务组"]
    team = queue_ids(client.get(f"/tickets?team={billing}&priority=high").text)
    assert team == [desk.tickets[SUBJECTS[2]]]
    tagged = queue_ids(client.get("/tickets", params={"tag": "VIP", "status": "all"}).text)
    assert desk.front_ticket in tagged


def test_assignee_column_and_the_mine_view(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    with database.session() as session:
        ticket_commands.assign(session, MANAGER, desk.front_ticket, 2, settings=DEFAULT_SETTINGS)
    web.principal = AGENT
    html = client.get("/tickets").text
    row = html.split(f'<tr data-ticket="{desk.front_ticket}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="assignee">' in row and "Nobody yet" not in row
    assert queue_ids(client.get("/tickets?assignee=me").text) == [desk.front_ticket]
    assert queue_ids(client.get("/tickets?mine=1").text) == [desk.front_ticket]
    unassigned = queue_ids(client.get("/tickets?assignee=unassigned").text)
    assert desk.front_ticket not in unassigned and unassigned
    assert 'class="view-mine" href="/tickets?assignee=me"' in html


def test_bad_parameters_are_refused_in_place(client: TestClient, desk: SeededDesk) -> None:
    for params, field in (
        ({"promise": "maybe"}, "promise"),
        ({"sort": "colour"}, "sort"),
        ({"page_size": "7"}, "page_size"),
        ({"team": "billing"}, "team"),
    ):
        response = client.get("/tickets", params={**params, "q": "杯子"})
        assert response.status_code == 422, params
        error = response.text.split('id="queue-error">', 1)[1].split("</p>", 1)[0]
        assert f"“{field}”" in error
        assert 'value="杯子"' in response.text  # the typed words kept
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    chinese = client.get("/tickets", params={"promise": "maybe"}).text
    assert "请检查筛选条件“promise”" in chinese


def test_saved_views_are_listed_and_deleted(
    client: TestClient, web: WebApp, desk: SeededDesk
) -> None:
    web.principal = AGENT
    saved = client.post(
        "/tickets/views",
        data={"csrf_token": CSRF_TOKEN, "name": "超时的", "back": "promise=breached&sort=-due"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/tickets?promise=breached&sort=-due&saved=1"
    html = client.get(saved.headers["location"]).text
    assert "The view was saved." in html
    view = re.search(r'data-view="(\d+)">\s*<a href="([^"]+)"[^>]*>超时的<', html)
    assert view is not None and unescape(view.group(2)) == "/tickets?promise=breached&sort=-due"
    assert 'id="view-shared"' not in html  # an agent saves views for themselves only
    again = client.post(
        "/tickets/views", data={"csrf_token": CSRF_TOKEN, "name": "超时的", "back": ""}
    )
    assert again.status_code == 409 and 'value="超时的"' in again.text
    web.principal = MANAGER
    assert "超时的" not in client.get("/tickets").text  # the agent's own
    shared = client.post(
        "/tickets/views",
        data={"csrf_token": CSRF_TOKEN, "name": "VIP", "shared": "1", "back": "tag=VIP"},
    )
    assert shared.status_code == 303
    web.principal = AGENT
    html = client.get("/tickets").text
    assert 'VIP</a> <span class="badge badge-shared">' in html
    deleted = client.post(f"/tickets/views/{view.group(1)}/delete", data={"csrf_token": CSRF_TOKEN})
    assert deleted.status_code == 303
    assert "超时的" not in client.get(deleted.headers["location"]).text


def test_a_lead_bulk_assigns_and_sees_what_was_refused(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk
) -> None:
    web.principal = MANAGER
    with database.session() as session:
        rows = {
            t.id: t
            for t in session.scalars(
                select(Ticket).where(Ticket.id.in_(list(desk.tickets.values())))
            )
        }
    open_ids = [desk.tickets[SUBJECTS[0]], desk.tickets[SUBJECTS[2]]]
    resolved = desk.tickets[SUBJECTS[4]]
    with database.session() as session:
        ticket_commands.close(session, MANAGER, resolved, settings=DEFAULT_SETTINGS)
    stale_version = rows[resolved].version  # what the lead's page showed before the close
    chosen = [f"{i}:{rows[i].version}" for i in open_ids] + [f"{resolved}:{stale_version}"]
    response = client.post(
        "/tickets/bulk",
        data={
            "csrf_token": CSRF_TOKEN,
            "action": "assign",
            "assignee": "2",
            "ticket": chosen,
            "back": "status=all&sort=subject",
        },
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert parse_qs(urlsplit(location).query) == {
        "status": ["all"],
        "sort": ["subject"],
        "changed": [",".join(map(str, open_ids))],
        "refused": [f"{resolved}:stale"],
    }
    html = client.get(location).text
    assert "2 tickets changed." in html
    refused = html.split('class="bulk-refused"', 1)[1].split("</div>", 1)[0]
    assert f'data-ticket="{resolved}"' in refused and "Someone else changed it" in refused
    with database.session() as session:
        assignees = dict(
            session.execute(
                select(Ticket.id, Ticket.assignee_id).where(Ticket.id.in_([*open_ids, resolved]))
            ).all()
        )
        assigned_events = session.scalars(
            select(TicketEvent.ticket_id).where(TicketEvent.kind == "assigned")
        ).all()
    assert assignees == {open_ids[0]: 2, open_ids[1]: 2, resolved: None}
    assert sorted(assigned_events) == sorted(open_ids)


def test_an_agent_bulk_action_on_another_teams_ticket_says_not_found(
    client: TestClient, web: WebApp, desk: SeededDesk
) -> None:
    web.principal = AGENT
    response = client.post(
        "/tickets/bulk",
        data={
            "csrf_token": CSRF_TOKEN,
            "action": "priority",
            "priority": "high",
            "ticket": [str(desk.front_ticket), str(desk.other_team_ticket)],
        },
    )
    location = response.headers["location"]
    assert parse_qs(urlsplit(location).query)["refused"] == [f"{desk.other_team_ticket}:not_found"]
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get(location).text
    assert "已更改 1 个工单。" in html and "找不到该工单，或它不属于您的团队。" in html
    missing = client.post(
        "/tickets/bulk",
        data={"csrf_token": CSRF_TOKEN, "action": "transfer", "ticket": [str(desk.front_ticket)]},
    )
    assert missing.status_code == 422 and "请选择要转接到的团队。" in missing.text
    expired = client.post("/tickets/bulk", data={"action": "close", "ticket": ["1"]})
    assert expired.status_code == 403
    assert TEXTS  # the seeded texts exist (imported for the search test's note)
