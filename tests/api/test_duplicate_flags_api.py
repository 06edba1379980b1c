"""The API of stored possible duplicates (issue 8, defect 9): a weak match (new email, known
phone) is listed for the customers it names; an agent dismisses it (once: again is 409, a stale
version is 409), a manager confirms one (the customers are merged; an agent may not: 403)."""

from __future__ import annotations

from datetime import UTC, datetime

from office import Office

from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.customers.schemas import ContactIn
from kehu.customers.service import add_contact
from kehu.desk.public import ComplaintForm, file_complaint
from kehu.desk.tables import Ticket


def _complaint(office: Office, settings: Settings, email: str) -> int:
    """A public complaint from ``email`` with 王小明's phone; the complaint's customer id."""
    with office.database.session() as session:
        ack = file_complaint(
            session,
            ComplaintForm(
                name="王先生",
                email=email,
                phone="+86 139-0000-1111",
                subject="快递丢了",
                description="第二次了。",
            ),
            now=datetime.now(UTC),
            client_address=None,
            settings=settings,
        )
        ticket = session.get(Ticket, ack.ticket_id)
        assert ticket is not None
        return ticket.customer_id


def test_flags_are_listed_dismissed_and_confirmed(office: Office, settings: Settings) -> None:
    with office.database.session() as session:
        add_contact(session, SYSTEM, office.customer, ContactIn(type="phone", value="13900001111"))
    first = _complaint(office, settings, "wang.new@example.com")
    second = _complaint(office, settings, "wang.other@example.com")
    agent, manager = office.client("agent_a"), office.client("manager")

    listed = agent.get(f"/api/customers/{office.customer}/duplicate-flags")
    assert listed.status_code == 200, listed.text
    flags = {f["customer_id"]: f for f in listed.json()}
    assert set(flags) == {first, second}
    assert {f["duplicate_of_id"] for f in flags.values()} == {office.customer}
    assert {(f["reason"], f["status"]) for f in flags.values()} == {("same_phone", "open")}

    one, two = flags[first], flags[second]
    stale = agent.post(f"/api/duplicate-flags/{one['id']}/dismiss", json={"expected_version": 9})
    assert stale.status_code == 409
    dismissed = agent.post(
        f"/api/duplicate-flags/{one['id']}/dismiss", json={"expected_version": one["version"]}
    )
    assert dismissed.status_code == 200, dismissed.text
    body = dismissed.json()
    assert (
        body["status"] == "dismissed" and body["resolved_by_user_id"] == office.users["agent_a"].id
    )
    assert body["resolved_at"] is not None
    assert agent.post(f"/api/duplicate-flags/{one['id']}/dismiss").status_code == 409
    open_now = agent.get(f"/api/customers/{office.customer}/duplicate-flags?only_open=true")
    assert [f["id"] for f in open_now.json()] == [two["id"]]

    assert agent.post(f"/api/duplicate-flags/{two['id']}/confirm").status_code == 403
    confirmed = manager.post(f"/api/duplicate-flags/{two['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["merge_id"]
    merged = manager.get(f"/api/customers/{second}").json()
    assert merged["merged_into_id"] == office.customer
    assert manager.post("/api/duplicate-flags/999999/dismiss").status_code == 404
