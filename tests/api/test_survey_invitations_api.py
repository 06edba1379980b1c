"""The re-send route of a ticket's survey invitation: a manager may (a new message in the
outbox), an agent may not (403); a ticket without an invitation is a 404; an answered survey
or an unsubscribed customer a 409. The expected values are the inputs."""

from __future__ import annotations

from datetime import timedelta

from office import Office
from sqlalchemy import func, select

from kehu.core.auth import Principal
from kehu.core.config import Settings
from kehu.core.outbox import OutboxMessage
from kehu.customers.schemas import ContactIn
from kehu.customers.service import add_contact, record_unsubscribe
from kehu.feedback import invitations, surveys
from kehu.store.base import utc_now


def _invitations_sent(office: Office) -> int:
    with office.database.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.purpose == "survey_invitation")
            )
            or 0
        )


def test_a_manager_resends_a_tickets_survey(office: Office) -> None:
    manager = Principal.for_user(office.users["manager"].id, ["manager"])
    with office.database.session() as session:
        survey = surveys.create_survey(session, manager, name="Desk CSAT", template_key="csat")
        surveys.publish_survey(session, manager, survey.id)
        invitations.create_rule(session, manager, survey.id, "ticket_resolved")
        add_contact(
            session, manager, office.customer, ContactIn(type="email", value="c@example.com")
        )
    ticket = office.ticket()
    assert (
        office.client("manager").post(f"/api/tickets/{ticket['id']}/resolve", json={}).status_code
        == 200
    )
    settings = Settings(_env_file=None, public_base_url="https://service.example.com")  # type: ignore[call-arg]
    invitations.run_invitations(office.database, utc_now() + timedelta(minutes=1), settings)
    assert _invitations_sent(office) == 1

    path = f"/api/tickets/{ticket['id']}/survey-invitation/resend"
    assert office.client("agent_a").post(path).status_code == 403
    resent = office.client("manager").post(path)
    assert resent.status_code == 200, resent.text
    assert (resent.json()["ticket_id"], resent.json()["status"]) == (ticket["id"], "sent")
    assert _invitations_sent(office) == 2
    assert (
        office.client("manager").post("/api/tickets/999999/survey-invitation/resend").status_code
        == 404
    )
    with office.database.session() as session:
        record_unsubscribe(session, office.customer, "email", source="test")
    assert office.client("manager").post(path).status_code == 409


def test_invitation_rules_are_configured_by_managers(office: Office) -> None:
    manager, agent = office.client("manager"), office.client("agent_a")
    created = manager.post("/api/surveys", json={"name": "Quarterly", "template": "nps"})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    rules = f"/api/surveys/{sid}/invitation-rules"
    segment = {"trigger": "segment", "tag": "vip", "every_days": 90}
    assert agent.post(rules, json=segment).status_code == 403
    no_cadence = manager.post(rules, json={"trigger": "segment", "tag": "vip"})
    assert no_cadence.status_code == 422
    assert no_cadence.json()["error"]["field"] == "every_days"
    made = manager.post(rules, json=segment)
    assert made.status_code == 201, made.text
    assert (made.json()["segment_tag"], made.json()["every_days"], made.json()["active"]) == (
        "vip",
        90,
        True,
    )
    after_ticket = manager.post(rules, json={"trigger": "ticket_resolved", "delay_hours": 4})
    assert after_ticket.status_code == 201
    assert [r["trigger"] for r in agent.get(rules).json()] == ["segment", "ticket_resolved"]
    off = manager.patch(f"/api/survey-invitation-rules/{made.json()['id']}", json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert agent.get("/api/surveys/999999/invitation-rules").status_code == 404
