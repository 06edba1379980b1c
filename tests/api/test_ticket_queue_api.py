"""The queue over the API: saved views (GET/POST/DELETE /api/ticket-views), bulk actions
(POST /api/tickets/bulk, a per-ticket result list) and the list's new filters."""

from __future__ import annotations

from office import Office


def test_saved_views_over_the_api(office: Office) -> None:
    agent, manager = office.client("agent_a"), office.client("manager")
    created = agent.post(
        "/api/ticket-views",
        json={"name": "Breached", "params": {"promise": "breached", "sort": "-due"}},
    )
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["query"] == "promise=breached&sort=-due" and view["shared"] is False
    refused = agent.post("/api/ticket-views", json={"name": "All", "shared": True})
    assert refused.status_code == 403
    bad = agent.post("/api/ticket-views", json={"name": "Odd", "params": {"tier": "gold"}})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "tier"
    twice = agent.post("/api/ticket-views", json={"name": "Breached"})
    assert twice.status_code == 409
    shared = manager.post(
        "/api/ticket-views",
        json={"name": "Billing", "shared": True, "params": {"team": str(office.team_b)}},
    )
    assert shared.status_code == 201, shared.text
    listed = agent.get("/api/ticket-views").json()
    assert [(v["name"], v["shared"]) for v in listed] == [("Billing", True), ("Breached", False)]
    assert [v["name"] for v in office.client("agent_b").get("/api/ticket-views").json()] == [
        "Billing"
    ]
    assert office.client("agent_b").delete(f"/api/ticket-views/{view['id']}").status_code == 404
    assert agent.delete(f"/api/ticket-views/{shared.json()['id']}").status_code == 403
    assert agent.delete(f"/api/ticket-views/{view['id']}").status_code == 204
    assert [v["name"] for v in agent.get("/api/ticket-views").json()] == ["Billing"]


def test_bulk_assign_lists_what_was_not_allowed(office: Office) -> None:
    front = [office.ticket() for _ in range(2)]
    billing = office.ticket(category_id=office.refund)
    agent = office.client("agent_a")
    stale = {"id": front[1]["id"], "expected_version": front[1]["version"]}
    # someone changes the second ticket after the agent saw it
    office.client("manager").post(
        f"/api/tickets/{front[1]['id']}/priority", json={"priority": "low"}
    )
    response = agent.post(
        "/api/tickets/bulk",
        json={
            "action": "assign",
            "assignee_id": office.users["agent_a"].id,
            "tickets": [
                {"id": front[0]["id"], "expected_version": front[0]["version"]},
                stale,
                {"id": billing["id"]},
            ],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["changed"], body["refused"]) == (1, 2)
    assert [(r["ticket_id"], r["outcome"]) for r in body["results"]] == [
        (front[0]["id"], "changed"),
        (front[1]["id"], "stale"),
        (billing["id"], "not_found"),
    ]
    manager = office.client("manager")
    assert manager.get(f"/api/tickets/{front[0]['id']}").json()["assignee_id"] == (
        office.users["agent_a"].id
    )
    assert manager.get(f"/api/tickets/{front[1]['id']}").json()["assignee_id"] is None
    events = manager.get(f"/api/tickets/{front[0]['id']}/events").json()
    assert [e["kind"] for e in events].count("assigned") == 1


def test_bulk_bad_requests_name_the_field(office: Office) -> None:
    ticket = office.ticket()
    client = office.client("manager")
    for body, field in (
        ({"action": "rename", "tickets": [{"id": ticket["id"]}]}, "action"),
        ({"action": "close", "tickets": []}, "tickets"),
        ({"action": "priority", "priority": "huge", "tickets": [{"id": ticket["id"]}]}, "priority"),
        ({"action": "transfer", "team_id": 4242, "tickets": [{"id": ticket["id"]}]}, "team_id"),
    ):
        response = client.post("/api/tickets/bulk", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] == field, response.json()
    reader = office.client("reader").post(
        "/api/tickets/bulk", json={"action": "close", "tickets": [{"id": ticket["id"]}]}
    )
    assert reader.status_code == 403


def test_list_filters_unassigned_promise_and_words_in_messages(office: Office) -> None:
    first, second = office.ticket(), office.ticket()
    client = office.client("manager")
    noted = client.post(
        f"/api/tickets/{first['id']}/notes", json={"body": "courier SF-4411 lost it"}
    )
    assert noted.status_code in (200, 201), noted.text
    assigned = client.post(
        f"/api/tickets/{second['id']}/assign", json={"assignee_id": office.users["agent_a"].id}
    )
    assert assigned.status_code == 200, assigned.text
    found = client.get("/api/tickets", params={"q": "sf-4411"}).json()
    assert [t["id"] for t in found["items"]] == [first["id"]]
    unassigned = client.get("/api/tickets", params={"assignee": "unassigned"}).json()
    assert second["id"] not in [t["id"] for t in unassigned["items"]]
    assert first["id"] in [t["id"] for t in unassigned["items"]]
    on_track = client.get("/api/tickets", params={"promise": "on_track,at_risk"}).json()
    assert {first["id"], second["id"]} <= {t["id"] for t in on_track["items"]}
    wrong = client.get("/api/tickets", params={"promise": "maybe"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "promise"
