"""POST /api/customers/{id}/erase: admins erase a customer's personal data (with the text of
its tickets, their messages, attachments and outbox messages); the audit chain still verifies;
everyone else gets 403."""

from __future__ import annotations

import json

from office import Office
from sqlalchemy import select

from kehu.core.outbox import OutboxMessage
from kehu.core.personal_data import MARKER


def test_an_admin_erases_a_customer_and_the_chain_verifies(office: Office) -> None:
    admin = office.client("admin")
    manager = office.client("manager")
    ticket = office.ticket(subject="Parcel for 王小明")["id"]
    said = manager.post(
        f"/api/tickets/{ticket}/customer-reply", json={"body": "王小明: call 13800138000"}
    )
    assert said.status_code == 200, said.text
    replied = manager.post(f"/api/tickets/{ticket}/reply", json={"body": "Dear 王小明, sorry"})
    assert replied.status_code == 200, replied.text
    uploaded = manager.post(
        f"/api/tickets/{ticket}/attachments",
        files={"file": ("王小明.txt", "receipt of 王小明".encode(), "text/plain")},
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()["id"]
    assert admin.get(f"/api/attachments/{attachment}").status_code == 200

    response = admin.post(f"/api/customers/{office.customer}/erase")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer_id"] == office.customer and body["tickets"] == 1
    assert body["audit_events_erased"] >= 2
    assert body["erased"]["ticket_messages"] == 2

    erased_ticket = admin.get(f"/api/tickets/{ticket}").json()
    assert erased_ticket["subject"] == MARKER
    messages = admin.get(f"/api/tickets/{ticket}/messages").json()
    assert len(messages) == 2 and {m["body"] for m in messages} == {MARKER}
    assert admin.get(f"/api/attachments/{attachment}").status_code == 404
    with office.database.session() as session:
        outbox = session.scalars(
            select(OutboxMessage).where(OutboxMessage.customer_id == office.customer)
        ).all()
        assert outbox, "the reply was queued"
        for message in outbox:
            assert message.recipient is None
            assert "王小明" not in message.subject + message.body

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
