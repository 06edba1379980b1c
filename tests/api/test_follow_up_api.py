"""Closing the loop over the API: a detractor's response opens an item in the queue; a reader
cannot open its recovery ticket, an agent can (once: again is a 409); the rules are read by
everyone and changed by a manager only (an off-scale threshold a 422 naming it); the outcome and
the service gaps answer. The expected values are the inputs sent (no published figure)."""

from __future__ import annotations

from office import Office


def test_a_detractor_is_followed_up_over_the_api(office: Office) -> None:
    manager, agent, reader = (office.client(w) for w in ("manager", "agent_a", "reader"))
    sid = manager.post("/api/surveys", json={"name": "After", "template": "nps"}).json()["id"]
    assert manager.post(f"/api/surveys/{sid}/publish", json={}).status_code == 200
    started = agent.post(
        f"/api/surveys/{sid}/responses",
        json={"customer_id": office.customer, "answers": {"recommend": 3}},
    ).json()
    assert agent.post(f"/api/survey-responses/{started['id']}/submit", json={}).status_code == 200

    queue = reader.get("/api/follow-ups")
    assert queue.status_code == 200, queue.text
    (item,) = queue.json()
    assert (item["reason"], item["score"], item["customer_id"]) == (
        "detractor",
        3.0,
        office.customer,
    )
    path = f"/api/follow-ups/{item['id']}/recovery-ticket"
    assert reader.post(path, json={}).status_code == 403
    opened = agent.post(path, json={"expected_version": item["version"]})
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "ticket_opened" and opened.json()["ticket_id"]
    assert agent.post(path, json={}).status_code == 409
    assert reader.get("/api/follow-ups").json() == []

    assert reader.get("/api/follow-up-rules").json()["nps_at_most"] == 6
    assert agent.put("/api/follow-up-rules", json={"nps_at_most": 5}).status_code == 403
    bad = manager.put("/api/follow-up-rules", json={"ces_at_most": 9})
    assert bad.status_code == 422
    changed = manager.put("/api/follow-up-rules", json={"nps_at_most": 5})
    assert changed.status_code == 200 and changed.json()["nps_at_most"] == 5

    outcome = reader.get("/api/follow-ups/outcome", params={"days": 30})
    assert outcome.status_code == 200
    assert [row["followed_up"] for row in outcome.json()] == [1]
    gaps = reader.get("/api/feedback/service-gaps")
    assert gaps.status_code == 200, gaps.text
    assert gaps.json()["loyalty_drop"]["quoted"] == -0.10
