"""Canned replies over the API: CRUD at /api/macros for managers (agents read their teams' and
every team's), an unknown placeholder refused with a 422 naming it, stale edits 409, and a macro
filled in for a ticket."""

from __future__ import annotations

from office import Office


def test_managers_manage_macros_and_agents_read_them(office: Office) -> None:
    manager = office.client("manager")
    created = manager.post(
        "/api/macros",
        json={
            "name": "Apology",
            "team_id": office.team_a,
            "body_en": "Dear {customer_name}, sorry about #{ticket_number}.",
            "body_zh": "{customer_name}您好，工单 #{ticket_number} 给您添麻烦了。",
        },
    )
    assert created.status_code == 201, created.text
    macro = created.json()
    assert macro["team_id"] == office.team_a and macro["version"] == 1
    other = manager.post(
        "/api/macros", json={"name": "Refund", "team_id": office.team_b, "body_zh": "退款已处理"}
    )
    assert other.status_code == 201
    everyone = manager.post("/api/macros", json={"name": "Thanks", "body_en": "Thank you"})
    assert everyone.status_code == 201

    agent = office.client("agent_a")
    assert [m["name"] for m in agent.get("/api/macros").json()] == ["Apology", "Thanks"]
    assert agent.get(f"/api/macros/{other.json()['id']}").status_code == 404
    refused = agent.post("/api/macros", json={"name": "Mine", "body_en": "x"})
    assert refused.status_code == 403
    names = [p["name"] for p in agent.get("/api/macros/placeholders").json()]
    assert {"customer_name", "ticket_number", "agent_name", "promise_due", "team_name"} <= set(
        names
    )

    changed = manager.put(
        f"/api/macros/{macro['id']}",
        json={"name": "Apology", "body_en": "Sorry, {customer_name}.", "expected_version": 1},
    )
    assert changed.status_code == 200 and changed.json()["team_id"] is None
    stale = manager.put(
        f"/api/macros/{macro['id']}",
        json={"name": "Apology", "body_en": "x", "expected_version": 1},
    )
    assert stale.status_code == 409
    deleted = manager.delete(f"/api/macros/{macro['id']}?expected_version=2")
    assert deleted.status_code == 204
    assert manager.get(f"/api/macros/{macro['id']}").status_code == 404


def test_an_unknown_placeholder_is_a_422_naming_it(office: Office) -> None:
    manager = office.client("manager")
    refused = manager.post(
        "/api/macros", json={"name": "Hi", "body_en": "Hi {customer_name}, order {order_no}"}
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["field"] == "body_en" and "{order_no}" in error["message"]
    neither = manager.post("/api/macros", json={"name": "Hi", "body_en": "", "body_zh": ""})
    assert neither.status_code == 422 and neither.json()["error"]["field"] == "body_en"
    assert manager.get("/api/macros").json() == []


def test_a_macro_is_filled_in_for_a_ticket(office: Office) -> None:
    manager = office.client("manager")
    ticket = office.ticket()
    macro = manager.post(
        "/api/macros",
        json={
            "name": "Hello",
            "body_en": "Hello {customer_name}, #{ticket_number}, {team_name}",
            "body_zh": "{customer_name}您好",
        },
    ).json()
    rendered = office.client("agent_a").get(f"/api/tickets/{ticket['id']}/macros/{macro['id']}")
    assert rendered.status_code == 200, rendered.text
    body = rendered.json()
    assert body["language"] == "en"
    assert body["text"].endswith(f", #{ticket['id']}, Front")
    chinese = manager.get(f"/api/tickets/{ticket['id']}/macros/{macro['id']}?language=zh-Hans")
    assert chinese.json()["language"] == "zh-Hans" and chinese.json()["text"].endswith("您好")
