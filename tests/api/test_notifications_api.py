"""The notifications API: a colleague's mention and an assignment show in one's own list with
the unread count; one marks them read, one by one or all at once; another's notification is
"not found"; a token needs the notifications scopes; a mention of someone who cannot see the
ticket is a 422 naming them."""

from __future__ import annotations

from office import Office


def test_a_mention_and_an_assignment_reach_the_colleagues_list(office: Office) -> None:
    ticket = office.ticket()  # a Front ticket
    tid = ticket["id"]
    a, manager = office.client("agent_a"), office.client("manager")
    assert a.get("/api/notifications").json()["unread"] == 0
    note = manager.post(f"/api/tickets/{tid}/notes", json={"body": "@agent.a please call them"})
    assert note.status_code in (200, 201), note.text
    step = manager.post(
        f"/api/tickets/{tid}/assign", json={"assignee_id": office.users["agent_a"].id}
    )
    assert step.status_code == 200, step.text

    listed = a.get("/api/notifications").json()
    assert listed["unread"] == 2 and listed["total"] == 2
    kinds = [item["kind"] for item in listed["items"]]
    assert sorted(kinds) == ["desk.assigned", "desk.mentioned"]
    first = listed["items"][0]
    assert first["link"] == f"/tickets/{tid}" and first["regarding_id"] == tid
    assert first["read_at"] is None and "Parcel arrived broken" in first["title"]
    # the manager has none, and cannot mark the agent's
    assert office.client("manager").get("/api/notifications").json()["total"] == 0
    assert manager.post(f"/api/notifications/{first['id']}/read").status_code == 404

    read = a.post(f"/api/notifications/{first['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = a.get("/api/notifications", params={"unread_only": "true"}).json()
    assert unread["unread"] == 1 and [i["id"] for i in unread["items"]] != [first["id"]]
    everything = a.post("/api/notifications/read-all")
    assert everything.json() == {"marked": 1, "unread": 0}
    assert a.post("/api/notifications/read-all").json() == {"marked": 0, "unread": 0}


def test_a_mention_of_someone_who_cannot_see_the_ticket_is_refused(office: Office) -> None:
    tid = office.ticket()["id"]  # Front; agent_b is in Billing
    refused = office.client("agent_a").post(
        f"/api/tickets/{tid}/notes", json={"body": "ask @agent.b"}
    )
    assert refused.status_code == 422
    assert "Agent.B cannot see this ticket" in refused.text
    assert office.client("agent_b").get("/api/notifications").json()["total"] == 0


def test_email_preference_and_token_scopes(office: Office) -> None:
    a = office.client("agent_a")
    assert a.get("/api/notifications/preferences").json() == {"email": True}
    assert a.put("/api/notifications/preferences", json={"email": False}).json() == {"email": False}
    assert a.get("/api/notifications/preferences").json() == {"email": False}
    assert a.put("/api/notifications/preferences", json={"email": "maybe"}).status_code == 422
    narrow = office.token_client("agent_a", ["tickets:read"])
    assert narrow.get("/api/notifications").status_code == 403
    reader = office.token_client("agent_a", ["notifications:read"])
    assert reader.get("/api/notifications").status_code == 200
    assert reader.post("/api/notifications/read-all").status_code == 403
