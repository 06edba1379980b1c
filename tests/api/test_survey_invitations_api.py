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
