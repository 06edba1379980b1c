"""Customer effort and one-stop resolution per ticket and per team, category and month; handling
time costed into the value engine's cost-to-serve."""

from __future__ import annotations

from decimal import Decimal

from desk import Desk, b
from sqlalchemy import select

from kehu.auth import SYSTEM
from kehu.service import tickets
from kehu.service.effort import cost_minor, effort_summary, ticket_effort
from kehu.service.tables import TicketEvent
from kehu.value.service import cost_to_serve_from_store
from kehu.value.tables import CostToServe


def test_one_stop_resolution(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        tickets.reply(
            session, desk.front_agent, t, "Refunded.", handling_seconds=300, now=b(3, 23, 9, 10)
        )
        tickets.resolve(session, desk.front_agent, t, handling_seconds=60, now=b(3, 23, 9, 11))
    with desk.database.session() as session:
        effort = ticket_effort(session, desk.manager, t)
    assert effort.first_contact_resolution is True
    assert (effort.transfers, effort.handoffs, effort.customer_contacts) == (0, 0, 1)
    assert effort.handling_seconds == 360


def test_an_effortful_ticket(desk: Desk) -> None:
    first = desk.new_ticket(b(3, 2, 9), category_id=desk.delivery_category)
    t = desk.new_ticket(b(3, 4, 9), category_id=desk.delivery_category)  # a repeat
    m = desk.manager
    with desk.database.session() as session:
        tickets.assign(session, m, t, 10, now=b(3, 4, 9, 5))
        tickets.reply(session, m, t, "Which parcel?", wait_for_customer=True, now=b(3, 4, 10))
        tickets.add_customer_reply(session, SYSTEM, t, "The blue one, as I said.", now=b(3, 4, 11))
        tickets.transfer(session, m, t, desk.billing, assignee_id=20, now=b(3, 4, 12))
        tickets.assign(session, m, t, None, now=b(3, 4, 12, 30))
        tickets.assign(session, m, t, 21, now=b(3, 4, 13))
        tickets.reply(session, m, t, "Refund sent.", now=b(3, 4, 14))
        tickets.resolve(session, m, t, now=b(3, 4, 14))
        tickets.reopen(session, m, t, now=b(3, 5, 9))
        tickets.resolve(session, m, t, now=b(3, 5, 10))
    with desk.database.session() as session:
        effort = ticket_effort(session, m, t)
        original = ticket_effort(session, m, first)
    assert effort.transfers == 1
    assert effort.handoffs == 2  # 10 -> 20 (transfer), 20 -> (unassigned) -> 21
    assert effort.customer_contacts == 2
    assert effort.agent_replies == 2
    assert effort.reopenings == 1
    assert effort.is_repeat and not original.is_repeat and original.repeated == 1
    assert effort.first_contact_resolution is False
    assert original.first_contact_resolution is None  # not resolved


def test_effort_per_team_category_and_month(desk: Desk) -> None:
    m = desk.manager
    quick = desk.new_ticket(b(3, 23, 9), category_id=desk.delivery_category)
    slow = desk.new_ticket(b(3, 30, 9), category_id=desk.delivery_category)
    april = desk.new_ticket(b(4, 1, 9), category_id=desk.delivery_category)
    desk.new_ticket(b(3, 23, 9), category_id=desk.billing_category)
    with desk.database.session() as session:
        tickets.reply(session, m, quick, "Done.", handling_seconds=600, now=b(3, 23, 10))
        tickets.resolve(session, m, quick, now=b(3, 23, 10))
        tickets.reply(session, m, slow, "Hm.", now=b(3, 30, 10))
        tickets.reply(session, m, slow, "Done.", handling_seconds=1200, now=b(3, 30, 11))
        tickets.resolve(session, m, slow, now=b(3, 30, 11))
        tickets.resolve(session, m, april, now=b(4, 1, 10))
    with desk.database.session() as session:
        rows = effort_summary(session, m, settings=desk.settings)
        front_only = effort_summary(session, desk.front_agent, settings=desk.settings)
    table = {(r.team_id, r.category_id, r.month): r for r in rows}
    march = table[(desk.front, desk.delivery_category, "2026-03")]
    assert (march.tickets, march.resolved, march.first_contact_resolutions) == (2, 2, 1)
    assert march.first_contact_resolution_rate == 0.5
    assert march.repeats == 1  # the second delivery ticket within 7 days
    assert march.handling_seconds == 1800
    assert march.contacts_per_ticket == 1.0
    assert table[(desk.front, desk.delivery_category, "2026-04")].first_contact_resolutions == 1
    billing = table[(desk.billing, desk.billing_category, "2026-03")]
    assert (billing.tickets, billing.resolved, billing.first_contact_resolution_rate) == (
        1,
        0,
        None,
    )
    assert {r.team_id for r in front_only} == {desk.front}


def test_handling_time_becomes_cost_to_serve(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        s = desk.settings
        tickets.reply(
            session, desk.manager, t, "On it.", handling_seconds=600, now=b(3, 23, 10), settings=s
        )
        tickets.add_note(
            session,
            desk.manager,
            t,
            "called the courier",
            handling_seconds=90,
            now=b(3, 23, 11),
            settings=s,
        )
        tickets.add_note(session, desk.manager, t, "no cost", now=b(3, 23, 12), settings=s)
    with desk.database.session() as session:
        rows = session.scalars(select(CostToServe).order_by(CostToServe.id)).all()
        events = {
            e.id: e
            for e in session.scalars(select(TicketEvent).where(TicketEvent.handling_seconds > 0))
        }
    # 36 per hour: 600 s = 6.00, 90 s = 0.90 (minor units)
    assert [(r.customer_id, r.amount_minor) for r in rows] == [
        (desk.customer, 600),
        (desk.customer, 90),
    ]
    assert {r.source for r in rows} == {f"ticket_event:{i}" for i in events}
    assert rows[0].recorded_at == b(3, 23, 10)
    costs = cost_to_serve_from_store(desk.database)
    assert costs.to_dict() == {"C-1": 690}


def test_cost_rounding() -> None:
    assert cost_minor(1, Decimal("36"), 2) == 1  # 0.01
    assert cost_minor(3600, Decimal("29.99"), 2) == 2999
    assert cost_minor(50, Decimal("36"), 2) == 50
    assert cost_minor(45, Decimal("1"), 2) == 1  # 1.25 minor units -> 1 (half-even)
    assert cost_minor(0, Decimal("36"), 2) == 0
