"""Erasing a customer's personal data: names, contacts and notes go, and so do the payloads of
the audit events about the customer and its tickets; the audit chain still verifies, and still
catches tampering; only admins may erase."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kehu.core.audit import verify_chain
from kehu.core.audit.tables import AuditEvent
from kehu.core.auth import SYSTEM, Principal
from kehu.customers.erasure import erase_customer_personal_data
from kehu.customers.merge import merge_customers
from kehu.customers.schemas import ContactIn, CustomerCreate, CustomerUpdate, PreferenceIn
from kehu.customers.search import search_statement
from kehu.customers.service import (
    add_contact,
    create_customer,
    edit_customer,
    get_customer,
    may_contact,
    set_contact_preference,
)
from kehu.customers.tables import Customer, CustomerContact, CustomerEvent
from kehu.desk import tickets
from kehu.desk.schemas import TicketCreate
from kehu.desk.settings import ServiceSettings
from kehu.desk.tables import Ticket
from kehu.errors import NotFoundError, PermissionDeniedError
from kehu.store.db import Database

ADMIN = Principal.for_user(1, ["admin"], display_name="Ada")
MANAGER = Principal.for_user(2, ["manager"], display_name="Max")
NOW = datetime(2026, 3, 20, 10, tzinfo=UTC)
NAME = "王小明"
PERSONAL = (NAME, "wang@example.com", "13800138000", "likes green tea", "Parcel for 王")


def _payloads(session: Session) -> str:
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    return json.dumps([[e.before, e.after] for e in events], ensure_ascii=False)


@pytest.fixture
def wang(database: Database, tmp_path: Path) -> dict[str, int]:
    """王小明 with contacts, notes, an edit, a refused channel, a merged duplicate and a ticket;
    and Erika, who must be left alone."""
    settings = ServiceSettings(_env_file=None, outbox_dir=tmp_path / "outbox")  # type: ignore[call-arg]
    with database.session() as session:
        wang = create_customer(
            session,
            SYSTEM,
            CustomerCreate(
                name="王晓明",
                external_id="C-1",
                notes="likes green tea",
                contacts=[ContactIn(type="email", value="wang@example.com")],
            ),
        ).id
        edit_customer(session, MANAGER, wang, CustomerUpdate(version=1, name=NAME))
        add_contact(session, MANAGER, wang, ContactIn(type="phone", value="13800138000"))
        set_contact_preference(
            session, MANAGER, wang, PreferenceIn(channel="sms", preference="refused", source="call")
        )
        duplicate = create_customer(
            session,
            SYSTEM,
            CustomerCreate(
                name=NAME, contacts=[ContactIn(type="email", value="wang.xm@example.com")]
            ),
        ).id
        merge_customers(session, MANAGER, wang, duplicate)
        ticket = tickets.create_ticket(
            session,
            MANAGER,
            TicketCreate(
                customer_id=wang, kind="complaint", channel="email", subject="Parcel arrived"
            ),
            now=NOW,
            settings=settings,
            acknowledge=False,
        )
        tickets.update_ticket(
            session, MANAGER, ticket.id, subject="Parcel for 王", now=NOW, settings=settings
        )
        erika = create_customer(
            session,
            SYSTEM,
            CustomerCreate(
                name="Erika Mustermann",
                contacts=[ContactIn(type="email", value="erika@example.com")],
            ),
        ).id
    return {"wang": wang, "duplicate": duplicate, "ticket": ticket.id, "erika": erika}


def test_erasure_removes_personal_data_and_the_chain_still_verifies(
    database: Database, wang: dict[str, int]
) -> None:
    with database.session() as session:
        assert NAME in _payloads(session)
        assert session.scalars(search_statement(ADMIN, "小明")).all()
        result = erase_customer_personal_data(session, ADMIN, wang["wang"])
    assert result.customer_ids == [wang["wang"], wang["duplicate"]]
    assert result.contacts_removed == 3
    assert result.tickets == 1
    assert result.audit_events_erased > 0

    with database.session() as session:
        payloads = _payloads(session)
        for text in PERSONAL:
            assert text not in payloads, text
        assert "wang.xm@example.com" not in payloads
        assert "Erika Mustermann" in payloads  # other customers keep their audit trail
        detail = get_customer(session, ADMIN, wang["wang"])
        assert detail.name is None and detail.notes is None and detail.contacts == []
        assert detail.external_id == "C-1"
        row = session.get(Customer, wang["wang"])
        assert row is not None and row.search_text == "c-1"
        assert session.scalars(search_statement(ADMIN, "小明")).all() == []
        assert session.scalars(search_statement(ADMIN, "C-1")).all()
        assert (
            session.scalars(
                select(CustomerContact).where(CustomerContact.customer_id == wang["duplicate"])
            ).all()
            == []
        )
        events = session.scalars(
            select(CustomerEvent).where(CustomerEvent.customer_id == wang["wang"])
        ).all()
        assert events and all(e.data == {"erased": True} for e in events)
        assert may_contact(session, wang["wang"], "sms") is False  # the refusal still holds
        ticket = session.get(Ticket, wang["ticket"])
        assert ticket is not None and ticket.customer_id == wang["wang"]

        erased = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer.erased")
        ).one()
        assert erased.actor_user_id == 1 and erased.actor_name == "Ada"
        assert erased.entity_id == str(wang["wang"]) and erased.erased_at is None
        assert erased.after["customer_ids"] == [wang["wang"], wang["duplicate"]]

        verification = verify_chain(session)
        assert verification.ok, verification
        assert verification.erased_events == result.audit_events_erased


def test_tampering_still_fails_the_chain_after_erasure(
    database: Database, wang: dict[str, int]
) -> None:
    with database.session() as session:
        erase_customer_personal_data(session, ADMIN, wang["wang"])
    with database.session() as session:
        erased = session.scalars(
            select(AuditEvent.seq).where(
                AuditEvent.entity == "customer",
                AuditEvent.entity_id == str(wang["wang"]),
                AuditEvent.erased_at.is_not(None),
            )
        ).first()
        assert erased is not None
        session.execute(
            update(AuditEvent).where(AuditEvent.seq == erased).values(actor_name="Mallory")
        )
    with database.session() as session:
        verification = verify_chain(session)
        assert not verification.ok and verification.first_bad_seq == erased


def test_erasing_again_is_harmless(database: Database, wang: dict[str, int]) -> None:
    with database.session() as session:
        erase_customer_personal_data(session, ADMIN, wang["wang"])
    with database.session() as session:
        again = erase_customer_personal_data(session, ADMIN, wang["wang"])
        assert again.contacts_removed == 0
        assert verify_chain(session).ok


def test_only_admins_erase(database: Database, wang: dict[str, int]) -> None:
    with database.session() as session:
        for principal in (MANAGER, Principal.for_user(3, ["agent"])):
            with pytest.raises(PermissionDeniedError):
                erase_customer_personal_data(session, principal, wang["wang"])
        with pytest.raises(NotFoundError):
            erase_customer_personal_data(session, ADMIN, 999_999)
    with database.session() as session:
        assert NAME in _payloads(session)
