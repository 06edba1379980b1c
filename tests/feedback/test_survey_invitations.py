"""Survey invitations on the store (SQLite always, PostgreSQL when configured): a resolved
ticket invites once, after the rule's delay, and never twice; a purchase from an import of the
past invites nobody, a recent one does; the contact cap holds across triggers; an unsubscribed
customer is skipped; the one reminder goes once; the respondent saves, resumes and submits
through the link, after which the link thanks and records nothing; forged and expired links
record nothing; a manager re-sends a ticket's survey. No published figure is involved: the
expected values follow from the inputs and the settings given here."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.core.events import PurchaseRecorded, publish
from kehu.core.outbox import OutboxMessage
from kehu.customers.schemas import ContactIn, CustomerCreate
from kehu.customers.service import create_customer
from kehu.desk.schemas import TicketCreate
from kehu.desk.ticket_commands import create_ticket, reopen, resolve
from kehu.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from kehu.feedback import invitations, surveys
from kehu.feedback.invitation_tables import SurveyInvitation
from kehu.feedback.invitations import AlreadyAnswered
from kehu.feedback.tables import SurveyAnswer, SurveyResponse
from kehu.store.db import Database
from staff_support import add_staff

MANAGER = Principal.for_user(1, ["manager"])
AGENT = Principal.for_user(10, ["agent"])
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
SETTINGS = Settings(  # type: ignore[call-arg]
    _env_file=None,
    public_base_url="https://service.example.com",
    survey_contact_days=30,
    survey_link_days=14,
    survey_reminder_days=3,
)
LINK = re.compile(r"https://service\.example\.com/s/([A-Za-z0-9_-]+)")
STOP = re.compile(r"https://service\.example\.com/unsubscribe/([A-Za-z0-9_-]+)")


def _customer(session, external_id: str, language: str = "en") -> int:  # type: ignore[no-untyped-def]
    return create_customer(
        session,
        SYSTEM,
        CustomerCreate(
            external_id=external_id,
            name=f"Customer {external_id}",
            preferred_language=language,
            contacts=[ContactIn(type="email", value=f"{external_id.lower()}@example.com")],
        ),
    ).id


def _ticket(session, customer: int) -> int:  # type: ignore[no-untyped-def]
    return create_ticket(
        session,
        SYSTEM,
        TicketCreate(customer_id=customer, kind="complaint", channel="phone", subject="Late"),
        now=NOW - timedelta(days=1),
        settings=SETTINGS,
        acknowledge=False,
    ).id


def _invitations(session) -> list[SurveyInvitation]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id)))


def _messages(session, purpose: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == purpose).order_by(OutboxMessage.id)
        )
    )


@pytest.fixture
def csat(database: Database) -> int:
    """The desk's CSAT survey, published, sent 24 hours after a ticket is resolved."""
    with database.session() as session:
        add_staff(session, 1, 10)
        survey = surveys.create_survey(session, MANAGER, name="Desk CSAT", template_key="csat")
        surveys.publish_survey(session, MANAGER, survey.id)
        invitations.create_rule(
            session, MANAGER, survey.id, "ticket_resolved", delay_hours=24, now=NOW
        )
        return survey.id


def _resolve(database: Database, customer: int | None = None, at: datetime = NOW) -> int:
    with database.session() as session:
        customer = customer or _customer(session, "C-1")
        ticket = _ticket(session, customer)
        resolve(session, SYSTEM, ticket, now=at, settings=SETTINGS)
        return ticket


def test_a_resolved_ticket_invites_once_after_the_delay(database: Database, csat: int) -> None:
    ticket = _resolve(database)
    report = invitations.run_invitations(database, NOW + timedelta(hours=23), SETTINGS)
    assert report.sent == 0
    with database.session() as session:  # reopened and resolved again: still one invitation
        reopen(session, SYSTEM, ticket, now=NOW + timedelta(hours=2), settings=SETTINGS)
        resolve(session, SYSTEM, ticket, now=NOW + timedelta(hours=3), settings=SETTINGS)
    report = invitations.run_invitations(database, NOW + timedelta(hours=25), SETTINGS)
    assert report.sent == 1
    invitations.run_invitations(database, NOW + timedelta(hours=26), SETTINGS)
    with database.session() as session:
        [invitation] = _invitations(session)
        assert (invitation.ticket_id, invitation.status, invitation.trigger) == (
            ticket,
            "sent",
            "ticket_resolved",
        )
        assert invitation.expires_at == NOW + timedelta(hours=25, days=14)
        [message] = _messages(session, "survey_invitation")
        assert message.regarding_type == "survey_invitation"
        assert LINK.search(message.body) and STOP.search(message.body)
        assert "How did we do?" in message.subject


def test_the_invitation_is_in_the_customers_language(database: Database, csat: int) -> None:
    with database.session() as session:
        customer = _customer(session, "C-ZH", language="zh-Hans")
    _resolve(database, customer)
    invitations.run_invitations(database, NOW + timedelta(hours=25), SETTINGS)
    with database.session() as session:
        [message] = _messages(session, "survey_invitation")
        assert "我们做得怎么样？" in message.subject
        assert "How did we do" not in message.body


def test_a_purchase_of_the_past_invites_nobody_a_recent_one_does(
    database: Database, csat: int
) -> None:
    with database.session() as session:
        invitations.create_rule(session, MANAGER, csat, "purchase", delay_hours=0, now=NOW)
        old, new = _customer(session, "C-OLD"), _customer(session, "C-NEW")
        for customer, latest in ((old, NOW - timedelta(days=400)), (new, NOW - timedelta(hours=5))):
            publish(
                session,
                PurchaseRecorded(at=NOW, customer_id=customer, import_id=7, count=3, latest=latest),
            )
    invitations.run_invitations(database, NOW, SETTINGS)
    with database.session() as session:
        assert [(i.customer_id, i.trigger, i.status) for i in _invitations(session)] == [
            (new, "purchase", "sent")
        ]


def test_the_contact_cap_holds_across_triggers(database: Database, csat: int) -> None:
    with database.session() as session:
        invitations.create_rule(session, MANAGER, csat, "purchase", delay_hours=0, now=NOW)
        customer = _customer(session, "C-1")
        publish(
            session,
            PurchaseRecorded(at=NOW, customer_id=customer, import_id=7, count=1, latest=NOW),
        )
    invitations.run_invitations(database, NOW, SETTINGS)
    _resolve(database, customer)  # 25 hours later, well within 30 days
    _resolve(database, customer, at=NOW + timedelta(days=31))  # after the cap: sent
    invitations.run_invitations(database, NOW + timedelta(hours=25), SETTINGS)
    invitations.run_invitations(database, NOW + timedelta(days=32), SETTINGS)
    with database.session() as session:
        assert [(i.trigger, i.status, i.skip_reason) for i in _invitations(session)] == [
            ("purchase", "expired", None),  # sent; its link ran out unanswered since
            ("ticket_resolved", "skipped", "contact_cap"),
            ("ticket_resolved", "sent", None),
        ]


def test_an_unsubscribed_customer_is_not_invited(database: Database, csat: int) -> None:
    with database.session() as session:
        invitations.create_rule(session, MANAGER, csat, "purchase", now=NOW)
        customer = _customer(session, "C-1")
        publish(
            session,
            PurchaseRecorded(at=NOW, customer_id=customer, import_id=7, count=1, latest=NOW),
        )
    invitations.run_invitations(database, NOW, SETTINGS)
    with database.session() as session:
        [message] = _messages(session, "survey_invitation")
        stop = STOP.search(message.body)
        assert stop is not None
        assert invitations.unsubscribe(session, stop.group(1), now=NOW, confirm=True) == customer
    _resolve(database, customer, at=NOW + timedelta(days=40))
    invitations.run_invitations(database, NOW + timedelta(days=42), SETTINGS)
    with database.session() as session:
        assert [(i.status, i.skip_reason) for i in _invitations(session)][-1] == (
            "skipped",
            "unsubscribed",
        )
        assert len(_messages(session, "survey_invitation")) == 1


def test_one_reminder_and_then_the_link_expires(database: Database, csat: int) -> None:
    _resolve(database)
    sent_at = NOW + timedelta(hours=24)
    invitations.run_invitations(database, sent_at, SETTINGS)
    assert (
        invitations.run_invitations(database, sent_at + timedelta(days=2), SETTINGS).reminded == 0
    )
    assert (
        invitations.run_invitations(database, sent_at + timedelta(days=3), SETTINGS).reminded == 1
    )
    assert (
        invitations.run_invitations(database, sent_at + timedelta(days=5), SETTINGS).reminded == 0
    )
    with database.session() as session:
        [reminder] = _messages(session, "survey_reminder")
        assert LINK.search(reminder.body)
        assert _invitations(session)[0].status == "reminded"
    report = invitations.run_invitations(database, sent_at + timedelta(days=14), SETTINGS)
    assert report.expired == 1
    with database.session() as session:
        assert _invitations(session)[0].status == "expired"


def _token(database: Database) -> str:
    with database.session() as session:
        [message] = _messages(session, "survey_invitation")
        found = LINK.search(message.body)
        assert found is not None
        return found.group(1)


def _counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(SurveyResponse)) or 0,
            session.scalar(select(func.count()).select_from(SurveyAnswer)) or 0,
        )


def test_the_respondent_saves_resumes_and_submits_once(database: Database, csat: int) -> None:
    ticket = _resolve(database)
    invitations.run_invitations(database, NOW + timedelta(hours=24), SETTINGS)
    token = _token(database)
    at = NOW + timedelta(days=2)
    with database.session() as session:
        shown = invitations.open_survey(session, token, now=at)
        assert (shown.answers, shown.language) == ({}, "en")
        with pytest.raises(InputError) as refused:
            invitations.answer_survey(session, token, {"satisfaction": "6"}, submit=False, now=at)
        assert refused.value.column == "satisfaction"
    assert _counts(database) == (0, 0)
    with database.session() as session:
        saved = invitations.answer_survey(
            session, token, {"satisfaction": "2"}, submit=False, now=at
        )
        assert saved is not None and saved.answers == {"satisfaction": 2}
    with database.session() as session:  # reopened later: resumed
        assert invitations.open_survey(session, token, now=at).answers == {"satisfaction": 2}
        invitations.answer_survey(
            session, token, {"satisfaction": "4", "comment": "Quick"}, submit=True, now=at
        )
    with database.session() as session:
        [response] = session.scalars(select(SurveyResponse))
        assert (response.status, response.ticket_id, response.channel) == (
            "submitted",
            ticket,
            "email",
        )
        [invitation] = _invitations(session)
        assert (invitation.status, invitation.response_id) == ("responded", response.id)
        assert response.invitation_id == invitation.id
    before = _counts(database)
    with database.session() as session, pytest.raises(AlreadyAnswered):
        invitations.open_survey(session, token, now=at)
    with database.session() as session, pytest.raises(AlreadyAnswered):
        invitations.answer_survey(session, token, {"satisfaction": "1"}, submit=True, now=at)
    assert _counts(database) == before == (1, 2)


def test_forged_and_expired_links_record_nothing(database: Database, csat: int) -> None:
    _resolve(database)
    invitations.run_invitations(database, NOW + timedelta(hours=24), SETTINGS)
    token = _token(database)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    late = NOW + timedelta(hours=24, days=14)
    for link, at in ((forged, NOW + timedelta(days=2)), (token, late), ("x", NOW)):
        with database.session() as session, pytest.raises(NotFoundError):
            invitations.answer_survey(session, link, {"satisfaction": "5"}, submit=True, now=at)
    assert _counts(database) == (0, 0)


def test_a_manager_resends_a_tickets_survey(database: Database, csat: int) -> None:
    ticket = _resolve(database)
    invitations.run_invitations(database, NOW + timedelta(hours=24), SETTINGS)
    with database.session() as session:
        with pytest.raises(PermissionDeniedError):
            invitations.resend_for_ticket(session, AGENT, ticket, settings=SETTINGS)
        invitations.resend_for_ticket(
            session, MANAGER, ticket, now=NOW + timedelta(days=1, hours=1), settings=SETTINGS
        )
        assert len(_messages(session, "survey_invitation")) == 2
        assert len(_invitations(session)) == 1
        with pytest.raises(NotFoundError):
            invitations.resend_for_ticket(session, MANAGER, ticket + 99, settings=SETTINGS)
    token = _token_last(database)
    with database.session() as session:
        invitations.answer_survey(
            session, token, {"satisfaction": "5"}, submit=True, now=NOW + timedelta(days=2)
        )
        with pytest.raises(ConflictError):
            invitations.resend_for_ticket(session, MANAGER, ticket, settings=SETTINGS)


def _token_last(database: Database) -> str:
    with database.session() as session:
        found = LINK.search(_messages(session, "survey_invitation")[-1].body)
        assert found is not None
        return found.group(1)


def test_a_segment_is_invited_on_its_schedule(database: Database, csat: int) -> None:
    with database.session() as session:
        tagged = create_customer(
            session,
            SYSTEM,
            CustomerCreate(
                external_id="C-T",
                name="Tagged",
                tags=["vip"],
                contacts=[ContactIn(type="email", value="t@example.com")],
            ),
        ).id
        _customer(session, "C-U")
        invitations.create_rule(
            session, MANAGER, csat, "segment", tag="vip", every_days=60, now=NOW
        )
        with pytest.raises(InputError) as refused:
            invitations.create_rule(session, MANAGER, csat, "segment", tag="vip", now=NOW)
        assert refused.value.column == "every_days"
    assert invitations.run_invitations(database, NOW, SETTINGS).sent == 1
    assert invitations.run_invitations(database, NOW + timedelta(days=1), SETTINGS).scheduled == 0
    with database.session() as session:
        assert [(i.customer_id, i.trigger) for i in _invitations(session)] == [(tagged, "segment")]
