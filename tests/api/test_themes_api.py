"""Complaint themes over the API: the catalogue edited by a manager only, bad input a 422 naming
the field; a ticket tagged by the job, its themes read and corrected by an agent of its team
(another team's agent: 404; the reader: 403), the correction kept by the next run; the results
and suggestions read. The expected values are the inputs sent and the default catalogue's
themes (no published figure is involved; the statistics are pinned in tests/analytics)."""

from __future__ import annotations

from office import Office

from kehu.feedback.themes import tag_new_texts


def test_catalogue_tags_corrections_and_results(office: Office) -> None:
    manager, agent, other, reader = (
        office.client(w) for w in ("manager", "agent_a", "agent_b", "reader")
    )
    assert manager.get("/api/themes").json() == []
    assert agent.post("/api/themes/defaults").status_code == 403
    installed = manager.post("/api/themes/defaults")
    assert installed.status_code == 200
    by_key = {t["key"]: t for t in installed.json()}
    assert by_key["refund"]["name_zh"] == "退款退货"
    bad = manager.post(
        "/api/themes",
        json={"key": "stock", "name_en": "Stock", "name_zh": "缺货", "seed_words": ["the"]},
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "seed_words[0]"
    created = manager.post(
        "/api/themes",
        json={"key": "stock", "name_en": "Stock", "name_zh": "缺货", "seed_words": ["sold out"]},
    )
    assert created.status_code == 201, created.text
    changed = manager.patch(f"/api/themes/{created.json()['id']}", json={"active": False})
    assert changed.json()["active"] is False and changed.json()["name_en"] == "Stock"
    assert agent.patch(f"/api/themes/{created.json()['id']}", json={}).status_code == 403

    ticket = office.ticket(
        subject="退款", description="退货寄回两周了，退款还没到账", team_id=office.team_a
    )["id"]
    with office.database.session() as session:
        tag_new_texts(session)
    tags = agent.get(f"/api/tickets/{ticket}/themes")
    assert tags.status_code == 200
    assert [(t["key"], t["source"]) for t in tags.json()["tags"]] == [("refund", "model")]
    assert other.get(f"/api/tickets/{ticket}/themes").status_code == 404
    corrected_ids = [by_key["billing"]["id"], by_key["refund"]["id"]]
    assert reader.put(f"/api/tickets/{ticket}/themes", json={"theme_ids": []}).status_code == 403
    unknown = agent.put(f"/api/tickets/{ticket}/themes", json={"theme_ids": [999]})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "theme_ids[0]"
    put = agent.put(f"/api/tickets/{ticket}/themes", json={"theme_ids": corrected_ids})
    assert put.status_code == 200, put.text
    assert put.json()["checked"] is True
    assert [(t["key"], t["source"]) for t in put.json()["tags"]] == [
        ("billing", "agent"),
        ("refund", "agent"),
    ]
    removed = agent.delete(f"/api/tickets/{ticket}/themes/{by_key['refund']['id']}")
    assert [t["key"] for t in removed.json()["tags"]] == ["billing"]
    with office.database.session() as session:
        tag_new_texts(session)
    kept = agent.get(f"/api/tickets/{ticket}/themes").json()
    assert [(t["key"], t["source"]) for t in kept["tags"]] == [("billing", "agent")]

    results = reader.get("/api/themes/results")
    assert results.status_code == 200, results.text
    body = results.json()
    assert body["n_texts"] == 1
    billing = next(t for t in body["themes"] if t["theme"]["key"] == "billing")
    assert billing["n"] == 1 and billing["examples"][0]["ticket_id"] == ticket
    assert sum(billing["by_month"].values()) == 1
    assert reader.get("/api/themes/suggestions").json() == []  # every text has a theme
    assert reader.get("/api/themes/results?months=0").status_code == 422
