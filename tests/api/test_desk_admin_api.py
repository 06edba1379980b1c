"""Service desk settings over the API: teams and members, categories, routing and escalation
rules, calendars and versioned service promises; and the desk's figures."""

from __future__ import annotations

from office import Office

WEEKDAYS = {str(day): [["09:00", "17:00"]] for day in range(5)}


def test_teams_and_members(office: Office) -> None:
    manager = office.client("manager")
    created = manager.post("/api/teams", json={"name": "Escalations", "email": "esc@example.com"})
    assert created.status_code == 201
    team = created.json()
    assert team["member_ids"] == []
    user = office.users["agent_b"].id
    added = manager.post(f"/api/teams/{team['id']}/members", json={"user_id": user})
    assert added.json()["member_ids"] == [user]
    again = manager.post(f"/api/teams/{team['id']}/members", json={"user_id": user})
    assert again.json()["member_ids"] == [user]
    nobody = manager.post(f"/api/teams/{team['id']}/members", json={"user_id": 9999})
    assert nobody.status_code == 422 and nobody.json()["error"]["field"] == "user_id"
    # Membership widens the agent's scope at once (rights are read fresh on every request).
    ticket = office.ticket(team_id=team["id"])
    assert office.client("agent_b").get(f"/api/tickets/{ticket['id']}").status_code == 200
    removed = manager.delete(f"/api/teams/{team['id']}/members/{user}")
    assert removed.json()["member_ids"] == []
    assert office.client("agent_b").get(f"/api/tickets/{ticket['id']}").status_code == 404
    names = [t["name"] for t in office.client("agent_a").get("/api/teams").json()]
    assert names == ["Billing", "Escalations", "Front"]
    duplicate = manager.post("/api/teams", json={"name": "Front"})
    assert duplicate.status_code == 409
    blank = manager.post("/api/teams", json={"name": "  "})
    assert blank.status_code == 422 and blank.json()["error"]["field"] == "name"
    assert manager.get("/api/teams/9999").status_code == 404


def test_categories_and_routing_rules(office: Office) -> None:
    manager = office.client("manager")
    child = manager.post(
        "/api/ticket-categories", json={"name": "Damaged", "parent_id": office.delivery}
    )
    assert child.status_code == 201 and child.json()["path"] == "Delivery > Damaged"
    paths = [c["path"] for c in manager.get("/api/ticket-categories").json()]
    assert paths == ["Billing", "Billing > Refund", "Delivery", "Delivery > Damaged"]
    orphan = manager.post("/api/ticket-categories", json={"name": "X", "parent_id": 999})
    assert orphan.status_code == 422 and orphan.json()["error"]["field"] == "parent_id"

    rule = manager.post(
        "/api/routing-rules",
        json={
            "name": "damage to billing",
            "team_id": office.team_b,
            "position": 0,
            "category_ids": [child.json()["id"]],
        },
    )
    assert rule.status_code == 201
    routed = office.ticket(category_id=child.json()["id"])
    assert routed["team_id"] == office.team_b
    assert [r["name"] for r in manager.get("/api/routing-rules").json()] == [
        "damage to billing",
        "billing",
        "rest",
    ]
    off = manager.patch(f"/api/routing-rules/{rule.json()['id']}", json={"active": False})
    assert off.json()["active"] is False
    assert office.ticket(category_id=child.json()["id"])["team_id"] == office.team_a
    bad = manager.post(
        "/api/routing-rules", json={"name": "x", "team_id": office.team_a, "kinds": ["rant"]}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "kinds.0"
    no_team = manager.post("/api/routing-rules", json={"name": "x", "team_id": 999})
    assert no_team.status_code == 422 and no_team.json()["error"]["field"] == "team_id"


def test_escalation_rules(office: Office) -> None:
    manager = office.client("manager")
    rule = manager.post(
        "/api/escalation-rules",
        json={
            "name": "breach to billing",
            "action": "reassign",
            "alert_kind": "breach",
            "team_id": office.team_b,
        },
    )
    assert rule.status_code == 201 and rule.json()["active"] is True
    assert [r["name"] for r in manager.get("/api/escalation-rules").json()] == ["breach to billing"]
    incomplete = manager.post("/api/escalation-rules", json={"name": "x", "action": "reassign"})
    assert incomplete.status_code == 422 and incomplete.json()["error"]["field"] == "team_id"
    off = manager.patch(f"/api/escalation-rules/{rule.json()['id']}", json={"active": False})
    assert off.json()["active"] is False
    assert manager.patch("/api/escalation-rules/999", json={"active": True}).status_code == 404


def test_calendars_and_versioned_policies(office: Office) -> None:
    manager = office.client("manager")
    calendar = manager.post(
        "/api/calendars",
        json={
            "name": "Shanghai office",
            "timezone": "Asia/Shanghai",
            "weekly_hours": WEEKDAYS,
            "holidays": ["2026-10-01"],
        },
    )
    assert calendar.status_code == 201, calendar.text
    cal = calendar.json()
    assert cal["holidays"] == ["2026-10-01"] and cal["version"] == 1
    bad_zone = manager.post(
        "/api/calendars", json={"name": "Mars", "timezone": "Mars/Base", "weekly_hours": WEEKDAYS}
    )
    assert bad_zone.status_code == 422 and bad_zone.json()["error"]["field"] == "timezone"
    bad_hours = manager.post(
        "/api/calendars",
        json={"name": "Bad", "timezone": "UTC", "weekly_hours": {"0": [["9am", "5pm"]]}},
    )
    assert bad_hours.status_code == 422 and bad_hours.json()["error"]["field"] == "weekly_hours.0"

    policy = manager.post(
        "/api/sla-policies",
        json={
            "name": "vip",
            "first_response": "PT1H",
            "resolution": 14400,
            "calendar_id": cal["id"],
            "priorities": ["urgent"],
            "order": -1,
        },
    )
    assert policy.status_code == 201, policy.text
    pid = policy.json()["id"]
    assert policy.json()["current"]["first_response_seconds"] == 3600
    assert policy.json()["current"]["resolution_seconds"] == 14400
    ticket = office.ticket(priority="urgent")
    assert ticket["sla"]["policy_name"] == "vip" and ticket["sla"]["policy_version"] == 1

    revised = manager.patch(
        f"/api/sla-policies/{pid}", json={"expected_version": 1, "first_response": "PT2H"}
    )
    assert revised.status_code == 200
    assert revised.json()["current_version"] == 2
    assert [v["version"] for v in revised.json()["versions"]] == [1, 2]
    stale = manager.patch(
        f"/api/sla-policies/{pid}", json={"expected_version": 1, "first_response": "PT3H"}
    )
    assert stale.status_code == 409
    # The open ticket keeps the promise it was given.
    kept = office.client("manager").get(f"/api/tickets/{ticket['id']}").json()
    assert kept["sla"]["policy_version"] == 1
    assert kept["sla"]["first_response"]["goal_seconds"] == 3600

    # Editing the calendar writes a new version of the policies that use it.
    updated = manager.put(
        f"/api/calendars/{cal['id']}",
        json={
            "name": "Shanghai office",
            "timezone": "Asia/Shanghai",
            "weekly_hours": WEEKDAYS,
            "holidays": ["2026-10-01", "2026-10-02"],
            "expected_version": 1,
        },
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert manager.get(f"/api/sla-policies/{pid}").json()["current_version"] == 3
    stale_calendar = manager.put(
        f"/api/calendars/{cal['id']}",
        json={
            "name": "Shanghai office",
            "timezone": "Asia/Shanghai",
            "weekly_hours": WEEKDAYS,
            "expected_version": 1,
        },
    )
    assert stale_calendar.status_code == 409

    negative = manager.post(
        "/api/sla-policies",
        json={"name": "neg", "first_response": -60, "resolution": 60, "calendar_id": cal["id"]},
    )
    assert negative.status_code == 422 and negative.json()["error"]["field"] == "first_response"
    removal = manager.patch(f"/api/sla-policies/{pid}", json={"kinds": None})
    assert removal.status_code == 422 and removal.json()["error"]["field"] == "kinds"
    off = manager.post(f"/api/sla-policies/{pid}/deactivate")
    assert off.json()["active"] is False
    names = [p["name"] for p in manager.get("/api/sla-policies").json()]
    assert names == ["standard"]
    assert office.ticket(priority="urgent")["sla"]["policy_name"] == "standard"
    on = manager.post(f"/api/sla-policies/{pid}/activate")
    assert on.status_code == 200 and on.json()["active"] is True
    assert office.ticket(priority="urgent")["sla"]["policy_name"] != "standard"
    agent = office.client("agent_a")
    assert agent.post(f"/api/sla-policies/{pid}/activate").status_code == 403
    assert agent.get("/api/sla-policies").status_code == 200
    assert agent.patch(f"/api/sla-policies/{pid}", json={"order": 3}).status_code == 403
    assert manager.get("/api/sla-policies/999").status_code == 404


def test_effort_and_kept_promise_figures(office: Office) -> None:
    manager = office.client("manager")
    first = office.ticket(category_id=office.delivery)
    second = office.ticket(category_id=office.delivery)  # a repeat of the first
    manager.post(
        f"/api/tickets/{first['id']}/reply", json={"body": "Sorry", "handling_seconds": 60}
    )
    manager.post(f"/api/tickets/{first['id']}/resolve", json={})
    manager.post(f"/api/tickets/{second['id']}/transfer", json={"team_id": office.team_b})
    effort = manager.get("/api/service/effort").json()
    by_team = {r["team"]: r for r in effort}
    front = by_team["Front"]
    assert front["category"] == "Delivery"
    assert front["tickets"] == 1 and front["resolved"] == 1
    assert front["first_contact_resolution_rate"] == 1.0
    assert front["handling_seconds"] == 60
    billing = by_team["Billing"]
    assert billing["transfers"] == 1 and billing["repeats"] == 1
    month = front["month"]
    assert manager.get("/api/service/effort", params={"month": "1999-01"}).json() == []
    assert len(manager.get("/api/service/effort", params={"month": month}).json()) == 2
    only_b = manager.get("/api/service/effort", params={"team": office.team_b}).json()
    assert [r["team"] for r in only_b] == ["Billing"]
    bad = manager.get("/api/service/effort", params={"month": "May"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "month"
    backwards = manager.get(
        "/api/service/effort", params={"since": "2026-02-01", "until": "2026-01-01"}
    )
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "until"

    kept = manager.get("/api/service/kept-promises").json()
    assert kept == [
        {
            "policy_id": office.policy,
            "policy": "standard",
            "team_id": office.team_a,
            "team": "Front",
            "month": month,
            "kept": 1,
            "total": 1,
            "rate": 1.0,
        }
    ]
    assert manager.get("/api/service/kept-promises", params={"policy": 999}).json() == []
