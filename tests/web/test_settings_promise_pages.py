"""The service promise settings: the current versions, a new promise, a new version with the
history of what each version changed, deactivating and activating; through the same use cases
as the API (:mod:`kehu.desk.sla_store`), audited, bad input named, a stale version refused."""

from __future__ import annotations

import re

from desk_support import POLICIES, SeededDesk
from fastapi.testclient import TestClient
from settings_page_support import audit_actions, audit_trail, post, problem, text
from web_support import AGENT, WebApp

from kehu.desk import sla_store
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME


def policy_id(database: Database, name: str) -> int:
    with database.session() as session:
        policies = sla_store.list_policies(session, include_inactive=True)
        return next(p.id for p in policies if p.name == name)


def versions(database: Database, policy: int) -> list[tuple[int, int, int, list[str]]]:
    """(version, first response s, resolution s, priorities) of every version."""
    with database.session() as session:
        return [
            (v.version, v.first_response_seconds, v.resolution_seconds, list(v.priorities))
            for v in sla_store.policy_versions(session, policy)
        ]


def active(database: Database, policy: int) -> bool:
    with database.session() as session:
        return sla_store.get_policy(session, policy).active


def test_the_list_shows_the_current_version_of_every_promise(
    client: TestClient, desk: SeededDesk
) -> None:
    page = client.get("/settings/promises")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-policy="\d+">(.*?)</tr>', page.text, re.S)
    assert [POLICIES[0] in rows[0], POLICIES[1] in rows[1]] == [True, True]
    assert "4 h" in text(rows[0]) and "16 h" in text(rows[0]) and "Every ticket" in text(rows[0])
    assert "1 h" in text(rows[1]) and "Urgent" in text(rows[1])


def test_a_manager_adds_a_promise(client: TestClient, database: Database, desk: SeededDesk) -> None:
    created = post(
        client,
        "/settings/promises",
        name="大客户服务承诺",
        first_response="0.5",
        resolution="8",
        calendar_id="1",
        priorities=["high", "urgent"],
        value_tiers="high",
        warning_thresholds="50, 80",
        order="-1",
    )
    assert created.status_code == 303
    new = policy_id(database, "大客户服务承诺")
    assert created.headers["location"] == f"/settings/promises/{new}?done=created"
    assert versions(database, new) == [(1, 1800, 28800, ["high", "urgent"])]
    with database.session() as session:
        current = sla_store.policy_versions(session, new)[0]
        assert current.value_tiers == ["high"] and current.warning_thresholds == [0.5, 0.8]
        assert current.order == -1 and current.created_by == 1
    assert audit_actions(database, "sla_policy")[-1] == "sla_policy.created"


def test_bad_targets_are_named_and_kept(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    refused = post(
        client,
        "/settings/promises",
        name="慢承诺",
        first_response="0",
        resolution="8",
        calendar_id="1",
        priorities="low",
    )
    assert refused.status_code == 422
    field, message = problem(refused.text)
    assert field == "first_response" and message.startswith("First response:")
    assert 'value="慢承诺"' in refused.text and 'value="0"' in refused.text
    assert re.search(r'value="low" checked', refused.text)
    assert re.search(r'name="first_response"[^>]*aria-invalid="true"', refused.text)
    words = post(
        client,
        "/settings/promises",
        name="x",
        first_response="four",
        resolution="8",
        calendar_id="1",
    )
    assert words.status_code == 422 and problem(words.text)[0] == "first_response"
    no_calendar = post(client, "/settings/promises", name="x", first_response="1", resolution="8")
    assert no_calendar.status_code == 422 and problem(no_calendar.text)[0] == "calendar_id"
    warnings = post(
        client,
        "/settings/promises",
        name="x",
        first_response="1",
        resolution="8",
        calendar_id="1",
        warning_thresholds="75, 120",
    )
    assert warnings.status_code == 422 and problem(warnings.text)[0] == "warning_thresholds"
    taken = post(
        client,
        "/settings/promises",
        name=POLICIES[0],
        first_response="1",
        resolution="8",
        calendar_id="1",
    )
    assert taken.status_code == 409
    with database.session() as session:
        assert len(sla_store.list_policies(session, include_inactive=True)) == 2


def test_a_new_version_keeps_the_history_visible(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    standard = policy_id(database, POLICIES[0])
    [(current, *_terms)] = versions(database, standard)[-1:]
    revised = post(
        client,
        f"/settings/promises/{standard}",
        expected_version=str(current),
        first_response="2",
        resolution="16",
        calendar_id="1",
        warning_thresholds="75",
        order="0",
    )
    assert revised.status_code == 303
    assert versions(database, standard)[-1] == (current + 1, 7200, 57600, [])
    action, before, after = audit_trail(database, "sla_policy")[-1]
    assert action == "sla_policy.revised"
    assert before["first_response_seconds"] == 14400 and after["first_response_seconds"] == 7200
    page = client.get(revised.headers["location"]).text
    assert "A new version of the service promise was saved" in page
    history = re.findall(r'<li class="event" data-version="(\d+)">(.*?)</li>', page, re.S)
    assert [int(v) for v, _ in history] == list(range(current + 1, 0, -1))
    assert 'data-changed="first_response_seconds"' in history[0][1]
    assert "First response 2 h" in text(history[0][1])
    assert "First response 4 h" in text(history[1][1])
    # the form of the page opened before the change: a stale version, refused, typed text kept
    stale = post(
        client,
        f"/settings/promises/{standard}",
        expected_version=str(current),
        first_response="3",
        resolution="16",
        calendar_id="1",
    )
    assert stale.status_code == 409
    assert "Someone else changed this" in problem(stale.text)[1]
    assert 'name="first_response" maxlength="20" required value="3"' in stale.text
    assert len(versions(database, standard)) == current + 1


def test_a_promise_is_deactivated_and_activated_again(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    urgent = policy_id(database, POLICIES[1])
    off = post(client, f"/settings/promises/{urgent}/active", active="0")
    assert off.status_code == 303 and not active(database, urgent)
    page = client.get(off.headers["location"]).text
    assert "New tickets no longer get this promise" in page and "Activate:" in page
    on = post(client, f"/settings/promises/{urgent}/active", active="1")
    assert on.status_code == 303 and active(database, urgent)
    assert audit_actions(database, "sla_policy")[-2:] == [
        "sla_policy.deactivated",
        "sla_policy.activated",
    ]


def test_an_agent_may_not_change_a_promise(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    urgent = policy_id(database, POLICIES[1])
    assert post(client, f"/settings/promises/{urgent}/active", active="0").status_code == 403
    assert active(database, urgent)


def test_the_promise_pages_in_chinese(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    listing = text(client.get("/settings/promises").text)
    assert "服务承诺" in listing and "新建服务承诺" in listing and "首次响应" in listing
    standard = policy_id(database, POLICIES[0])
    refused = post(
        client,
        f"/settings/promises/{standard}",
        expected_version="1",
        first_response="-1",
        resolution="16",
        calendar_id="1",
    )
    assert refused.status_code == 422
    assert problem(refused.text)[1] == "首次响应：请输入大于零的工作小时数。"
