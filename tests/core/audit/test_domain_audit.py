"""The customer and service-desk use cases audit themselves: who changed what, before and after,
in the same transaction as the change, and the chain verifies."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.audit import verify_chain
from kehu.core.audit.tables import AuditEvent
from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings as ServiceSettings
from kehu.customers.importing import import_customers_csv
from kehu.customers.merge import merge_customers
from kehu.customers.schemas import ContactIn, CustomerCreate, CustomerUpdate
from kehu.customers.service import add_contact, create_customer, edit_customer, tag_customer
from kehu.desk import routing, sla_store, ticket_commands, ticket_messages
from kehu.desk.schemas import TicketCreate
from kehu.store.db import Database
from staff_support import add_staff

ALICE = Principal.for_user(7, ["manager"], display_name="Alice")
NOW = datetime(2026, 3, 20, 10, tzinfo=UTC)
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(7)}


def _events(session: Session, entity: str, entity_id: object) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.seq)
        )
    )


def _actions(session: Session, entity: str, entity_id: object) -> list[str]:
    return [e.action for e in _events(session, entity, entity_id)]


def _customer(session: Session, name: str = "王小明", **fields: Any) -> int:
    data = CustomerCreate(
        name=name, contacts=[ContactIn(type="email", value="wang@example.com")], **fields
    )
    return create_customer(session, SYSTEM, data).id


@pytest.fixture
def database(database: Database) -> Database:
    """The shared store with the staff users these tests act as (actors are real users)."""
    with database.session() as session:
        add_staff(session, 1, 2, 3, 7)
    return database


@pytest.fixture
def settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(_env_file=None, outbox_dir=tmp_path / "outbox")  # type: ignore[call-arg]


def test_a_customer_edit_leaves_one_event_with_actor_before_and_after(database: Database) -> None:
    with database.session() as session:
        customer_id = _customer(session, notes="VIP")
    with database.session() as session:
        edit_customer(
            session, ALICE, customer_id, CustomerUpdate(version=1, name="王大明", notes="VIP")
        )
    with database.session() as session:
        events = [e for e in _events(session, "customer", customer_id)]
        assert [e.action for e in events] == ["customer.created", "customer.edited"]
        created, edited = events
        assert created.actor_name == "system" and created.actor_user_id is None
        assert created.after["name"] == "王小明"
        assert created.after["contacts"][0]["value"] == "wang@example.com"
        assert edited.actor_user_id == 7 and edited.actor_name == "Alice"
        assert edited.before == {"name": "王小明"}
        assert edited.after == {"name": "王大明"}
        assert verify_chain(session).ok


def test_a_ticket_transfer_leaves_one_event_and_no_message_body(
    database: Database, settings: ServiceSettings
) -> None:
    with database.session() as session:
        customer_id = _customer(session)
        front = routing.create_team(session, SYSTEM, "Front").id
        billing = routing.create_team(session, SYSTEM, "Billing").id
        ticket_id = ticket_commands.create_ticket(
            session,
            ALICE,
            TicketCreate(
                customer_id=customer_id,
                kind="complaint",
                channel="email",
                subject="Parcel arrived broken",
                team_id=front,
            ),
            now=NOW,
            settings=settings,
            acknowledge=False,
        ).id
    with database.session() as session:
        ticket_commands.transfer(
            session,
            ALICE,
            ticket_id,
            billing,
            reason="billing question",
            now=NOW,
            settings=settings,
        )
    with database.session() as session:
        ticket_messages.reply(
            session, ALICE, ticket_id, "Secret body 秘密", now=NOW + timedelta(1), settings=settings
        )
    with database.session() as session:
        events = _events(session, "ticket", ticket_id)
        actions = [e.action for e in events]
        assert actions[:2] == ["ticket.created", "ticket.transferred"]
        assert "ticket.replied" in actions and "ticket.status_changed" in actions
        transferred = [e for e in events if e.action == "ticket.transferred"]
        assert len(transferred) == 1
        event = transferred[0]
        assert event.actor_user_id == 7 and event.actor_name == "Alice"
        assert event.before == {"team_id": front, "assignee_id": None}
        assert event.after == {
            "team_id": billing,
            "assignee_id": None,
            "reason": "billing question",
        }
        payloads = json.dumps([[e.before, e.after] for e in events], ensure_ascii=False)
        assert "Secret body" not in payloads and "秘密" not in payloads
        assert verify_chain(session).ok


def test_every_customer_use_case_is_audited(database: Database) -> None:
    with database.session() as session:
        person = _customer(session)
        duplicate = _customer(session, "王小明 (dup)")
        tag_customer(session, ALICE, person, "vip")
        add_contact(session, ALICE, person, ContactIn(type="phone", value="13800138000"))
        merge_customers(session, ALICE, person, duplicate)
        csv = "external_id,name,email\nX-1,Ann,ann@example.com\nX-2,Bob,\n"
        import_customers_csv(session, ALICE, io.StringIO(csv), source="people.csv")
    with database.session() as session:
        assert _actions(session, "customer", person) == [
            "customer.created",
            "customer.tagged",
            "customer.contact_added",
            "customer.merged",
        ]
        assert _actions(session, "customer", duplicate) == [
            "customer.created",
            "customer.merged_into",
        ]
        imported = session.scalars(
            select(AuditEvent).where(
                AuditEvent.actor_user_id == 7, AuditEvent.action == "customer.created"
            )
        ).all()
        assert sorted(e.after["name"] for e in imported) == ["Ann", "Bob"]
        assert verify_chain(session).ok


def test_settings_changes_are_audited(database: Database) -> None:
    with database.session() as session:
        calendar = sla_store.create_calendar(
            session,
            ALICE,
            sla_store.calendar_from_json(
                {"name": "24x7", "timezone": "UTC", "weekly_hours": ALL_DAY}
            ),
        )
        policy = sla_store.create_policy(
            session,
            ALICE,
            name="standard",
            first_response=timedelta(hours=4),
            resolution=timedelta(hours=16),
            calendar_id=calendar.id,
        )
        sla_store.revise_policy(session, ALICE, policy.policy_id, first_response=timedelta(hours=2))
        sla_store.deactivate_policy(session, ALICE, policy.policy_id)
        team = routing.create_team(session, ALICE, "Front")
        add_staff(session, 42)
        routing.add_team_member(session, ALICE, team.id, 42)
        routing.remove_team_member(session, ALICE, team.id, 42)
        category = routing.create_category(session, ALICE, "Billing")
        rule = routing.create_routing_rule(session, ALICE, name="all", team_id=team.id)
        escalation = routing.create_escalation_rule(
            session, ALICE, name="raise", action="raise_priority", priority="high"
        )
    with database.session() as session:
        assert _actions(session, "business_calendar", calendar.id) == ["business_calendar.created"]
        assert _actions(session, "sla_policy", policy.policy_id) == [
            "sla_policy.created",
            "sla_policy.revised",
            "sla_policy.deactivated",
        ]
        revised = _events(session, "sla_policy", policy.policy_id)[1]
        assert revised.before == {"version": 1, "first_response_seconds": 4 * 3600}
        assert revised.after == {"version": 2, "first_response_seconds": 2 * 3600}
        assert _actions(session, "team", team.id) == [
            "team.created",
            "team.member_added",
            "team.member_removed",
        ]
        assert _actions(session, "ticket_category", category.id) == ["ticket_category.created"]
        assert _actions(session, "routing_rule", rule.id) == ["routing_rule.created"]
        assert _actions(session, "escalation_rule", escalation.id) == ["escalation_rule.created"]
        assert all(e.actor_user_id == 7 for e in session.scalars(select(AuditEvent)))
        assert verify_chain(session).ok


def test_a_change_rolled_back_leaves_no_audit_event(database: Database) -> None:
    with database.session() as session:
        customer_id = _customer(session)
    with pytest.raises(RuntimeError), database.session() as session:
        edit_customer(session, ALICE, customer_id, CustomerUpdate(version=1, name="Changed"))
        raise RuntimeError("the request failed later")
    with database.session() as session:
        assert _actions(session, "customer", customer_id) == ["customer.created"]
        assert verify_chain(session).ok
