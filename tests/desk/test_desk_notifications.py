"""The desk's notifications: whoever is given a ticket by someone else (assign, transfer, filed
for them, the system), whoever is @mentioned in a note or reply, and the assignee of a ticket
whose promise is at risk or broken; a mention of a colleague who cannot see the ticket is
refused, naming them. Taking a ticket oneself notifies nobody."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import kehu.domains  # noqa: F401  (every domain's registrations)
from desk import Desk, b
from kehu.core.auth import SYSTEM, Principal
from kehu.core.notifications import Notification, list_notifications, unread_count
from kehu.core.outbox import OutboxMessage
from kehu.core.users.tables import User
from kehu.customers.erasure import erase_customer_personal_data
from kehu.desk import ticket_commands, ticket_messages
from kehu.desk.notifications import ASSIGNED, MENTIONED, PROMISE_AT_RISK, MentionRefused
from kehu.desk.tables import TicketEvent, TicketMessage
from kehu.desk.worker import sla_check

FRONT_AGENT = 10
BILLING_AGENT = 20


def notes(desk: Desk, user_id: int) -> list[tuple[str, int | None, str]]:
    with desk.database.session() as session:
        rows = session.scalars(
            select(Notification)
            .where(Notification.recipient_id == user_id)
            .order_by(Notification.id)
        )
        return [(n.kind, n.regarding_id, n.title) for n in rows]


def named(desk: Desk, user_id: int, name: str, email: str) -> None:
    with desk.database.session() as session:
        user = session.get_one(User, user_id)
        user.display_name, user.email = name, email


@pytest.fixture(autouse=True)
def manager_is_a_manager(desk: Desk) -> None:
    """User 1 is ``desk.manager``: a manager, who sees every team's tickets."""
    with desk.database.session() as session:
        session.get_one(User, 1).role = "manager"


def test_an_assignment_by_someone_else_notifies_the_assignee(desk: Desk) -> None:
    named(desk, 1, "Mia Manager", "mia@example.com")
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.assign(
            session, desk.manager, t, FRONT_AGENT, now=b(3, 23, 10), settings=desk.settings
        )
    assert notes(desk, FRONT_AGENT) == [
        (ASSIGNED, t, f"Ticket #{t} was assigned to you by Mia Manager: Parcel arrived broken")
    ]
    with desk.database.session() as session:
        mail = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "notification")
        ).one()
    assert mail.recipient == "staff10@example.com" and mail.regarding_id == t
    assert f"/tickets/{t}" in mail.body


def test_taking_a_ticket_oneself_notifies_nobody(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.assign(
            session, desk.front_agent, t, FRONT_AGENT, now=b(3, 23, 10), settings=desk.settings
        )
        ticket_commands.assign(session, desk.front_agent, t, None, settings=desk.settings)
    assert notes(desk, FRONT_AGENT) == []


def test_a_transfer_and_the_system_notify_the_new_assignee(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.transfer(
            session,
            desk.front_agent,
            t,
            desk.billing,
            assignee_id=BILLING_AGENT,
            now=b(3, 23, 10),
            settings=desk.settings,
        )
        ticket_commands.assign(session, SYSTEM, t, FRONT_AGENT, settings=desk.settings)
    assert [kind for kind, _, _ in notes(desk, BILLING_AGENT)] == [ASSIGNED]
    assert notes(desk, FRONT_AGENT) == [
        (
            ASSIGNED,
            t,
            f"Ticket #{t} was assigned to you by the automatic assignment: Parcel arrived broken",
        )
    ]


def test_a_mention_in_a_note_notifies_the_colleague_in_their_language(desk: Desk) -> None:
    named(desk, 10, "Ana Lima", "ana@example.com")
    named(desk, 1, "Mia", "mia@example.com")
    with desk.database.session() as session:
        session.get_one(User, 1).locale = "zh-Hans"
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_messages.add_note(
            session,
            desk.front_agent,
            t,
            "@mia can we refund? (cc ana@example.com, @ana is me)",
            now=b(3, 23, 10),
            settings=desk.settings,
        )
        event = session.scalars(select(TicketEvent).where(TicketEvent.kind == "note_added")).one()
    assert event.after["mentioned_ids"] == [1, 10]
    assert notes(desk, 1) == [
        (MENTIONED, t, f"Ana Lima在工单 #{t} 中提到了您:Parcel arrived broken")
    ]
    assert notes(desk, FRONT_AGENT) == []  # one's own mention of oneself tells nobody


def test_a_mention_in_a_reply_notifies_too(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_messages.reply(
            session, desk.manager, t, "My colleague @staff10 will call you.", settings=desk.settings
        )
    assert [kind for kind, _, _ in notes(desk, FRONT_AGENT)] == [MENTIONED]


def test_a_mention_of_someone_who_cannot_see_the_ticket_is_refused(desk: Desk) -> None:
    named(desk, 20, "Bo Billing", "bo@example.com")
    t = desk.new_ticket(b(3, 23, 9))  # a Front ticket; agent 20 is in Billing only
    with desk.database.session() as session, pytest.raises(MentionRefused) as refused:
        ticket_messages.add_note(
            session, desk.front_agent, t, "ask @Bo Billing", settings=desk.settings
        )
    assert refused.value.names == ("Bo Billing",)
    assert refused.value.column == "mentions"
    assert "Bo Billing cannot see this ticket" in str(refused.value)
    with desk.database.session() as session:
        assert (
            session.scalars(select(TicketMessage).where(TicketMessage.ticket_id == t)).all() == []
        )
    assert notes(desk, 20) == []
    # the manager sees every team: mentioning them is fine
    with desk.database.session() as session:
        ticket_messages.add_note(session, desk.front_agent, t, "@staff1 ?", settings=desk.settings)
    assert [kind for kind, _, _ in notes(desk, 1)] == [MENTIONED]


def test_a_promise_at_risk_and_broken_tells_the_assignee(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))  # first response due 13:00, warning at 12:00
    with desk.database.session() as session:
        ticket_commands.assign(
            session, desk.front_agent, t, FRONT_AGENT, now=b(3, 23, 9, 5), settings=desk.settings
        )
    sla_check(desk.database, b(3, 23, 12, 30), settings=desk.settings)
    sla_check(desk.database, b(3, 23, 14), settings=desk.settings)
    sla_check(desk.database, b(3, 23, 14, 1), settings=desk.settings)
    assert notes(desk, FRONT_AGENT) == [
        (
            PROMISE_AT_RISK,
            t,
            f"Ticket #{t}: the first response promise is at risk. Parcel arrived broken",
        ),
        (
            PROMISE_AT_RISK,
            t,
            f"Ticket #{t}: the first response promise was broken. Parcel arrived broken",
        ),
    ]
    with desk.database.session() as session:
        agent = Principal.for_user(FRONT_AGENT, ["agent"], [desk.front])
        assert unread_count(session, agent) == 2
        # when the check noticed, not when the promise broke
        assert [n.created_at for n in list_notifications(session, agent)] == [
            b(3, 23, 14),
            b(3, 23, 12, 30),
        ]


def test_an_unassigned_ticket_at_risk_tells_nobody(desk: Desk) -> None:
    desk.new_ticket(b(3, 23, 9))
    sla_check(desk.database, b(3, 23, 14), settings=desk.settings)
    with desk.database.session() as session:
        assert session.scalars(select(Notification)).all() == []


def test_erasing_the_customer_erases_the_titles_quoting_the_ticket(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_commands.assign(session, desk.manager, t, FRONT_AGENT, settings=desk.settings)
        admin = Principal.for_user(1, ["admin"])
        erase_customer_personal_data(session, admin, desk.customer)
    assert notes(desk, FRONT_AGENT) == [(ASSIGNED, t, "[erased]")]


def test_a_ticket_filed_for_a_colleague_notifies_them_but_not_its_filer(desk: Desk) -> None:
    for_them = desk.new_ticket(b(3, 23, 9), assignee_id=FRONT_AGENT)
    desk.new_ticket(b(3, 23, 9), desk.front_agent, assignee_id=FRONT_AGENT)
    assert [(kind, ticket) for kind, ticket, _ in notes(desk, FRONT_AGENT)] == [
        (ASSIGNED, for_them)
    ]
