"""The follow-up queue (/feedback/follow-up) and the service-quality gaps
(/feedback/service-gaps) on the seeded desk (tests/web/desk_support.py), in both languages.

The queue: the detractors answered here are its rows (customer linked to the 360 page, reason,
score, due, owner, status); the filters narrow it; one click (a CSRF form post) files the
recovery ticket assigned to the agent who clicked, in their team, and links to it; a stale click
answers 409 with the reason in place; a read-only user sees no buttons and is refused the post.
The outcome table counts the items followed up (the test's inputs).

The gaps page shows what :mod:`kehu.feedback.desk_link` computes (whose figures are pinned to
scipy and statsmodels in tests/feedback/test_desk_link.py): here the page's tables and
correlations are compared with those use cases on the seeded desk's resolved tickets, each rated
by the test (reliability perception, CES)."""

from __future__ import annotations

import re

import pytest
from desk_support import SUBJECTS, SeededDesk
from fastapi.testclient import TestClient
from web_support import AGENT, CSRF_TOKEN, MANAGER, WebApp

from kehu.core.auth import SYSTEM, Principal
from kehu.desk.ticket_queries import get_ticket
from kehu.feedback import desk_link, follow_up, responses, surveys
from kehu.feedback.responses import ResponseContext
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME

READER = Principal.for_user(3, ["read_only"], display_name="Reader")


def _text(text: str) -> dict[str, str]:
    return {"en": text, "zh-Hans": text}


AFTER_TICKET = {
    "title": _text("After your ticket"),
    "dimensions": [{"id": "reliability", "name": _text("Reliability")}],
    "questions": [
        {
            "id": "promise",
            "type": "servqual_pair",
            "text": _text("Kept its promise"),
            "dimension": "reliability",
            "required": True,
        },
        {"id": "effort", "type": "ces", "text": _text("Made it easy"), "required": True},
    ],
}


def rows_of(html: str, table: str) -> list[list[str]]:
    body = html.split(f'class="data-table {table}"', 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    ]


@pytest.fixture
def items(database: Database, desk: SeededDesk) -> dict[str, int]:
    """Two detractors (张伟 NPS 3, 李娜 NPS 6) and a passive (王芳 NPS 8): two open items."""
    with database.session() as session:
        survey = surveys.create_survey(session, MANAGER, name="NPS", template_key="nps")
        surveys.publish_survey(session, MANAGER, survey.id)
        for name, score in (("张伟", 3), ("李娜", 6), ("王芳", 8)):
            started = responses.start_response(
                session, SYSTEM, survey.id, ResponseContext(customer_id=desk.customer_ids[name])
            )
            responses.submit_response(session, SYSTEM, started.id, {"recommend": score})
        rows = follow_up.list_follow_ups(session, MANAGER)
    by_customer = {row.customer_id: row.id for row in rows}
    return {name: by_customer[desk.customer_ids[name]] for name in ("张伟", "李娜")}


def test_the_queue_lists_the_open_items(
    client: TestClient, desk: SeededDesk, items: dict[str, int]
) -> None:
    response = client.get("/feedback/follow-up")
    assert response.status_code == 200
    html = response.text
    rows = rows_of(html, "follow-up-table")
    assert len(rows) == 2  # the passive opened none
    names = {row[0] for row in rows}
    assert names == {"张伟", "李娜"}
    by_name = {row[0]: row for row in rows}
    assert by_name["张伟"][1].startswith("Detractor") and by_name["张伟"][2] == "3"
    assert by_name["李娜"][2] == "6"
    assert by_name["张伟"][4] == "–" and by_name["张伟"][5] == "Open"
    assert f'href="/customers/{desk.customer_ids["张伟"]}"' in html
    assert html.count('class="open-recovery"') == 2
    assert 'name="csrf_token"' in html
    assert 'href="/feedback/follow-up"' in html  # the nav item
    assert "No follow-up has been worked yet." in html
    # the filters
    detractors = client.get("/feedback/follow-up?reason=detractor").text
    assert len(rows_of(detractors, "follow-up-table")) == 2
    assert "No follow-up here." in client.get("/feedback/follow-up?reason=high_effort").text
    assert "No follow-up here." in client.get("/feedback/follow-up?status=closed").text
    assert client.get("/feedback/follow-up?status=nonsense").status_code == 422


def test_one_click_opens_the_recovery_ticket_assigned_to_the_agent(
    client: TestClient,
    web: WebApp,
    database: Database,
    desk: SeededDesk,
    items: dict[str, int],
) -> None:
    web.principal = AGENT
    item = items["张伟"]
    with database.session() as session:
        version = follow_up.get_follow_up(session, AGENT, item).version
    form = {"csrf_token": CSRF_TOKEN, "expected_version": str(version)}
    assert client.post(f"/feedback/follow-up/{item}/recovery-ticket", data={}).status_code == 403
    response = client.post(f"/feedback/follow-up/{item}/recovery-ticket", data=form)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/feedback/follow-up?done=ticket_opened&ticket=")
    ticket_id = int(location.rsplit("=", 1)[1])
    with database.session() as session:
        ticket = get_ticket(session, AGENT, ticket_id)  # the agent can see it
        assert (ticket.assignee_id, ticket.team_id) == (2, desk.teams["一线客服"])
        assert (ticket.kind, ticket.priority, ticket.customer_id) == (
            "complaint",
            "high",
            desk.customer_ids["张伟"],
        )
    html = client.get(location).text
    assert f"Recovery ticket #{ticket_id} opened and assigned to you." in html
    assert f'href="/tickets/{ticket_id}"' in html
    assert [row[0] for row in rows_of(html, "follow-up-table")] == ["李娜"]
    worked = rows_of(client.get("/feedback/follow-up?status=ticket_opened").text, "follow-up-table")
    assert (
        worked[0][0] == "张伟" and worked[0][4] == "Staff 2"
    )  # the user's display name in the store
    assert worked[0][5] == f"Recovery ticket opened · #{ticket_id}"
    # the same click again (the page was stale): the reason in place, nothing filed twice
    stale = client.post(f"/feedback/follow-up/{item}/recovery-ticket", data=form)
    assert stale.status_code == 409
    assert 'id="follow-up-error"' in stale.text
    assert "changed by someone else" in stale.text
    # the outcome counts the item followed up (its 90 days have not passed: no "came back" n)
    outcome = rows_of(client.get("/feedback/follow-up").text, "outcome-table")
    assert [row[1:4] for row in outcome] == [["1", "–", "0"]]
    # close the other one
    with database.session() as session:
        other = follow_up.get_follow_up(session, AGENT, items["李娜"]).version
    closed = client.post(
        f"/feedback/follow-up/{items['李娜']}/close",
        data={"csrf_token": CSRF_TOKEN, "expected_version": str(other)},
    )
    assert closed.headers["location"] == "/feedback/follow-up?done=closed"
    assert "No follow-up here." in client.get(closed.headers["location"]).text


def test_the_queue_in_chinese_and_for_a_reader(
    client: TestClient, web: WebApp, items: dict[str, int]
) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/feedback/follow-up").text
    for text in ("回访跟进队列", "贬损者", "开补救工单", "每月结果", "负责人", "回访跟进"):
        assert text in html
    web.principal = READER
    html = client.get("/feedback/follow-up").text
    assert 'class="open-recovery"' not in html and len(rows_of(html, "follow-up-table")) == 2
    form = {"csrf_token": CSRF_TOKEN}
    assert client.post(f"/feedback/follow-up/{items['张伟']}/close", data=form).status_code == 403


@pytest.fixture
def rated(database: Database, desk: SeededDesk) -> None:
    """Each resolved ticket of the seeded desk rated by its customer (perception, CES)."""
    resolved = (SUBJECTS[4], SUBJECTS[5], SUBJECTS[9], SUBJECTS[10], SUBJECTS[11])
    with database.session() as session:
        survey = surveys.create_survey(
            session, MANAGER, name="After ticket", definition=AFTER_TICKET
        )
        surveys.publish_survey(session, MANAGER, survey.id)
        for k, subject in enumerate(resolved):
            ticket = get_ticket(session, MANAGER, desk.tickets[subject])
            started = responses.start_response(
                session,
                SYSTEM,
                survey.id,
                ResponseContext(customer_id=ticket.customer_id, ticket_id=ticket.id),
            )
            answers = {
                "promise": {"expectation": 7, "perception": (7, 3, 6, 2, 5)[k]},
                "effort": (7, 5, 6, 2, 4)[k],
            }
            responses.submit_response(session, SYSTEM, started.id, answers)


def test_the_gaps_page_shows_the_use_cases_figures(
    client: TestClient, web: WebApp, database: Database, desk: SeededDesk, rated: None
) -> None:
    response = client.get("/feedback/service-gaps")
    assert response.status_code == 200
    html = response.text
    with database.session() as session:
        reliability = desk_link.reliability_gaps(session, MANAGER, settings=web.settings)
        effort = desk_link.effort_gaps(session, MANAGER, settings=web.settings)
    shown = rows_of(html, "reliability-table")
    assert len(shown) == len(reliability.rows) == 5
    assert sorted(row[5] for row in shown) == sorted(
        f"{row.mean_reliability:.1f}" for row in reliability.rows
    )
    assert sum(int(row[4]) for row in shown) == 5
    effort_shown = rows_of(html, "effort-gaps-table")
    assert len(effort_shown) == len(effort.rows)
    assert sum(int(row[5]) for row in effort_shown) == 5  # the five rated tickets
    correlation = reliability.by_ticket
    assert correlation is not None and correlation.n == 5
    assert f"r = {correlation.estimate:.2f}" in html.split('class="corr-kept-ticket"', 1)[1]
    # two offline scatter charts
    assert html.count('<svg class="chart chart-scatter"') == 2
    assert html.count('class="point"') == 10
    # the loyalty drop beside the quoted figure, with the caveat
    loyalty = rows_of(html, "loyalty-table")
    assert loyalty[1][1] == "≤ -10%"
    assert "It is an association in these records, not an effect" in html
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/feedback/service-gaps").text
    for text in (
        "服务质量差距",
        "承诺兑现与可靠性评分",
        "每多一次转接或重复联系的忠诚度下降",
        "关联",
    ):
        assert text in html
    assert re.search(r"\d{4}年\d{1,2}月", html)


def test_the_gaps_page_without_ratings(client: TestClient, web: WebApp, desk: SeededDesk) -> None:
    html = client.get("/feedback/service-gaps").text
    assert "chart-scatter" not in html
    assert "not enough rated data" in html
    assert "Not enough tickets whose window has ended" in html
