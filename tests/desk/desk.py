"""A small service desk for the ticket, worker, outbox and effort tests.

Calendar: Mon-Fri 09:00-17:00 Europe/Berlin, Good Friday (3 April 2026) and Easter Monday
(6 April 2026) closed. Policies: "standard" (4 h first response, 16 h resolution, warn at 75%)
for any ticket, "urgent" (1 h / 4 h) for urgent ones. Teams "Front" and "Billing"; categories
"Billing" > "Refund" and "Delivery"; a routing rule sends Billing (and sub-categories) to the
Billing team, everything else to Front. 20 March 2026 is a Friday; Berlin springs forward on
29 March.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.customers.tables import Customer
from kehu.desk import routing, sla_store
from kehu.desk.calendars import BusinessCalendar
from kehu.desk.schemas import TicketCreate
from kehu.desk.tables import Ticket
from kehu.desk.ticket_commands import create_ticket
from kehu.store.db import Database
from staff_support import add_staff

BERLIN = ZoneInfo("Europe/Berlin")
#: The users the desk's principals are, and agents the tests assign tickets to.
STAFF = (1, 10, 20, 21, 30)
H = timedelta(hours=1)

OFFICE = BusinessCalendar.office_hours(
    "Europe/Berlin", holidays=[date(2026, 4, 3), date(2026, 4, 6)], name="Berlin office"
)


def b(mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(2026, mo, d, h, mi, s, tzinfo=BERLIN)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "outbox_dir": tmp_path / "outbox",
        "handling_cost_per_hour": Decimal("36"),
        "currency_minor_units": 2,
        "reporting_timezone": "Europe/Berlin",
        "repeat_window_days": 7,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Desk:
    database: Database
    settings: Settings
    customer: int
    other_customer: int
    calendar: int
    standard: int  # policy ids
    urgent: int
    front: int  # team ids
    billing: int
    billing_category: int
    refund_category: int
    delivery_category: int
    manager: Principal
    front_agent: Principal
    billing_agent: Principal
    reader: Principal

    def new_ticket(self, now: datetime, principal: Principal | None = None, **fields: Any) -> int:
        data = {
            "customer_id": self.customer,
            "kind": "complaint",
            "channel": "email",
            "subject": "Parcel arrived broken",
            **fields,
        }
        with self.database.session() as session:
            ticket = create_ticket(
                session,
                principal or self.manager,
                TicketCreate(**data),
                now=now,
                settings=self.settings,
                recipient="customer@example.com",
            )
            return ticket.id

    def ticket(self, ticket_id: int) -> Ticket:
        with self.database.session() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            session.expunge(ticket)
            return ticket


def add_customer(session: Session, external_id: str, name: str) -> int:
    """A customer row with only the columns every version of the customers table has (the
    customers domain adds columns, with server defaults, in the same issue)."""
    session.execute(
        text(
            "INSERT INTO customers (external_id, name, created_at, updated_at) "
            "VALUES (:external_id, :name, :now, :now)"
        ),
        {"external_id": external_id, "name": name, "now": datetime(2026, 1, 1)},
    )
    return int(session.scalar(select(Customer.id).where(Customer.external_id == external_id)))


def build_desk(database: Database, tmp_path: Path, **settings: Any) -> Desk:
    with database.session() as session:
        add_staff(session, *STAFF)
        customer = add_customer(session, "C-1", "王小明")
        other = add_customer(session, "C-2", "Erika Mustermann")
        calendar = sla_store.create_calendar(session, SYSTEM, OFFICE)
        standard = sla_store.create_policy(
            session,
            SYSTEM,
            name="standard",
            first_response=4 * H,
            resolution=16 * H,
            calendar_id=calendar.id,
            warning_thresholds=(0.75,),
        )
        urgent = sla_store.create_policy(
            session,
            SYSTEM,
            name="urgent",
            first_response=1 * H,
            resolution=4 * H,
            calendar_id=calendar.id,
            priorities=["urgent"],
        )
        front = routing.create_team(session, SYSTEM, "Front", email="front@example.com")
        billing = routing.create_team(session, SYSTEM, "Billing", email="billing@example.com")
        billing_category = routing.create_category(session, SYSTEM, "Billing")
        refund = routing.create_category(session, SYSTEM, "Refund", parent_id=billing_category.id)
        delivery = routing.create_category(session, SYSTEM, "Delivery")
        routing.create_routing_rule(
            session,
            SYSTEM,
            name="billing",
            team_id=billing.id,
            position=1,
            category_ids=[billing_category.id],
        )
        routing.create_routing_rule(session, SYSTEM, name="rest", team_id=front.id, position=9)
        routing.add_team_member(session, SYSTEM, front.id, 10)
        routing.add_team_member(session, SYSTEM, billing.id, 20)
        ids = (
            customer,
            other,
            calendar.id,
            standard.policy_id,
            urgent.policy_id,
            front.id,
            billing.id,
            billing_category.id,
            refund.id,
            delivery.id,
        )
    (c, o, cal, std, urg, fr, bi, bc, rc, dc) = ids
    return Desk(
        database=database,
        settings=make_settings(tmp_path, **settings),
        customer=c,
        other_customer=o,
        calendar=cal,
        standard=std,
        urgent=urg,
        front=fr,
        billing=bi,
        billing_category=bc,
        refund_category=rc,
        delivery_category=dc,
        manager=Principal.for_user(1, ["manager"]),
        front_agent=Principal.for_user(10, ["agent"], [fr]),
        billing_agent=Principal.for_user(20, ["agent"], [bi]),
        reader=Principal.for_user(30, ["read_only"], [fr]),
    )
