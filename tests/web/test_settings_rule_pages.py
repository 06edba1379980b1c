"""The routing rule, escalation rule and ticket category settings: a manager adds them and
switches rules on and off through the same use cases as the API (:mod:`kehu.desk.routing`),
audited; bad input is named with the typed text kept; an agent is refused."""

from __future__ import annotations

import re

from desk_support import CATEGORIES, SeededDesk
from fastapi.testclient import TestClient
from settings_page_support import audit_actions, audit_trail, post, problem, text
from web_support import AGENT, WebApp

from kehu.desk import routing
from kehu.desk.routing import RoutingInput
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME


def routing_rules(database: Database) -> list[tuple[str, int, int, bool]]:
    with database.session() as session:
        return [
            (r.name, r.team_id, r.position, r.active) for r in routing.list_routing_rules(session)
        ]


def test_a_manager_adds_routing_rules_in_order_and_switches_one_off(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    billing = desk.teams["账务组"]
    first = post(
        client,
        "/settings/routing",
        name="退款给账务组",
        team_id=str(billing),
        position="5",
        kinds="complaint",
        category_ids="1",
    )
    assert (
        first.status_code == 303 and first.headers["location"] == "/settings/routing?done=created"
    )
    second = post(
        client,
        "/settings/routing",
        name="电话先到物流组",
        team_id="3",
        position="1",
        channels="phone",
    )
    assert second.status_code == 303
    assert [r[:3] for r in routing_rules(database)][:2] == [
        ("电话先到物流组", 3, 1),
        ("退款给账务组", billing, 5),
    ]
    with database.session() as session:
        refund = RoutingInput("complaint", "email", "normal", 2, None)  # 账单 > 退款
        assert routing.route(session, refund) == billing
    page = client.get("/settings/routing").text
    rows = re.findall(r'<tr data-rule="(\d+)">(.*?)</tr>', page, re.S)
    assert "电话先到物流组" in rows[0][1] and "Phone" in text(rows[0][1])
    assert CATEGORIES[0] in rows[1][1] and "Complaint" in text(rows[1][1])
    rule_id = int(rows[1][0])
    off = post(client, f"/settings/routing/{rule_id}/active", active="0")
    assert off.status_code == 303
    assert ("退款给账务组", billing, 5, False) in routing_rules(database)
    assert "The rule is off." in client.get(off.headers["location"]).text
    assert audit_actions(database, "routing_rule")[-1] == "routing_rule.deactivated"
    assert audit_trail(database, "routing_rule")[0][2]["name"] == "退款给账务组"


def test_bad_routing_input_is_named(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    before = routing_rules(database)
    no_team = post(client, "/settings/routing", name="无团队", kinds="inquiry")
    assert no_team.status_code == 422 and problem(no_team.text)[0] == "team_id"
    assert 'value="无团队"' in no_team.text and re.search(r'value="inquiry" checked', no_team.text)
    bad_kind = post(client, "/settings/routing", name="x", team_id="1", kinds="rant")
    assert bad_kind.status_code == 422 and problem(bad_kind.text)[0] == "kinds"
    bad_order = post(client, "/settings/routing", name="x", team_id="1", position="first")
    assert bad_order.status_code == 422 and problem(bad_order.text)[0] == "position"
    huge = post(client, "/settings/routing", name="x", team_id="1", position=str(2**40))
    assert huge.status_code == 422 and problem(huge.text)[0] == "position"
    assert routing_rules(database) == before


def test_a_manager_adds_an_escalation_rule_and_switches_it_off(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    created = post(
        client,
        "/settings/escalation",
        name="超时转账务组",
        action="reassign",
        target="resolution",
        alert_kind="breach",
        team_id="2",
        position="0",
    )
    assert created.status_code == 303
    with database.session() as session:
        [rule] = routing.list_escalation_rules(session)
        assert (rule.action, rule.target, rule.alert_kind, rule.team_id) == (
            "reassign",
            "resolution",
            "breach",
            2,
        )
    page = client.get("/settings/escalation").text
    row = re.findall(r'<tr data-rule="\d+">(.*?)</tr>', page, re.S)[0]
    assert "Reassign to a team or a person" in text(row) and "账务组" in row
    off = post(client, f"/settings/escalation/{rule.id}/active", active="0")
    assert off.status_code == 303
    with database.session() as session:
        assert routing.list_escalation_rules(session)[0].active is False
    assert audit_actions(database, "escalation_rule") == [
        "escalation_rule.created",
        "escalation_rule.deactivated",
    ]
    warned = post(
        client,
        "/settings/escalation",
        name="预警通知组长",
        action="notify",
        alert_kind="warning",
        threshold="90",
        notify_email="lead@example.com",
    )
    assert warned.status_code == 303
    with database.session() as session:
        assert routing.list_escalation_rules(session)[-1].threshold == 0.9


def test_bad_escalation_input_is_named(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    incomplete = post(client, "/settings/escalation", name="只说重新分派", action="reassign")
    assert incomplete.status_code == 422 and problem(incomplete.text)[0] == "team_id"
    assert 'value="只说重新分派"' in incomplete.text
    assert re.search(r'<option value="reassign" selected', incomplete.text)
    threshold = post(client, "/settings/escalation", name="x", action="notify", threshold="150")
    assert threshold.status_code == 422 and problem(threshold.text)[0] == "threshold"
    action = post(client, "/settings/escalation", name="x", action="explode")
    assert action.status_code == 422 and problem(action.text)[0] == "action"
    with database.session() as session:
        assert routing.list_escalation_rules(session) == []


def test_a_manager_adds_a_category(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    added = post(client, "/settings/categories", name="发票", parent_id="1")
    assert added.status_code == 303
    page = client.get(added.headers["location"]).text
    assert "账单 &gt; 发票" in page and "The category was added." in page
    assert audit_actions(database, "ticket_category")[-1] == "ticket_category.created"
    again = post(client, "/settings/categories", name="发票", parent_id="1")
    assert again.status_code == 409 and "exists already" in problem(again.text)[1]
    orphan = post(client, "/settings/categories", name="孤儿", parent_id="999")
    assert orphan.status_code == 422 and problem(orphan.text)[0] == "parent_id"
    assert 'value="孤儿"' in orphan.text


def test_an_agent_may_not_change_rules(
    web: WebApp, client: TestClient, database: Database, desk: SeededDesk
) -> None:
    web.principal = AGENT
    before = routing_rules(database)
    assert post(client, "/settings/routing", name="x", team_id="1").status_code == 403
    assert post(client, "/settings/escalation", name="x", action="notify").status_code == 403
    assert post(client, "/settings/categories", name="x").status_code == 403
    assert routing_rules(database) == before


def test_the_rule_pages_in_chinese(client: TestClient, desk: SeededDesk) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    assert "新建分派规则" in text(client.get("/settings/routing").text)
    assert "新建升级规则" in text(client.get("/settings/escalation").text)
    refused = post(client, "/settings/routing", name="x")
    assert problem(refused.text)[1].startswith("团队：")
