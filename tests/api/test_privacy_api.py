"""POST /api/customers/{id}/erase: admins erase a customer's personal data; the audit chain
still verifies; everyone else gets 403."""

from __future__ import annotations

import json

from office import Office


def test_an_admin_erases_a_customer_and_the_chain_verifies(office: Office) -> None:
    admin = office.client("admin")
    office.ticket(subject="Parcel for 王小明")
    response = admin.post(f"/api/customers/{office.customer}/erase")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer_id"] == office.customer and body["tickets"] == 1
    assert body["audit_events_erased"] >= 2

    customer = admin.get(f"/api/customers/{office.customer}").json()
    assert customer["name"] is None and customer["contacts"] == []

    events = admin.get(
        "/api/audit/events", params={"entity": "customer", "entity_id": office.customer}
    ).json()["items"]
    assert events[0]["action"] == "customer.erased"
    assert all(e["before"] is None and e["after"] is None for e in events[1:])
    listing = admin.get("/api/audit/events", params={"page_size": 50}).json()
    everything = listing["items"]
    assert len(everything) == listing["total"]
    payloads = json.dumps([[e["before"], e["after"]] for e in everything], ensure_ascii=False)
    assert "王小明" not in payloads and "wang@example.com" not in payloads

    verified = admin.get("/api/audit/verify").json()
    assert verified["ok"] is True and verified["erased_events"] == body["audit_events_erased"]


def test_only_admins_may_erase(office: Office) -> None:
    for who in ("manager", "agent_a", "reader"):
        response = office.client(who).post(f"/api/customers/{office.customer}/erase")
        assert response.status_code == 403, (who, response.text)
    name = office.client("admin").get(f"/api/customers/{office.customer}").json()["name"]
    assert name == "王小明"


def test_erasing_an_unknown_customer_is_404(office: Office) -> None:
    response = office.client("admin").post("/api/customers/999999/erase")
    assert response.status_code == 404
