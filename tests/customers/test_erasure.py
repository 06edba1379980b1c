"""Erasing a customer's personal data: names, contacts and notes go, and so does every field the
domains registered (kehu.core.personal_data): ticket subjects, message bodies, the text in
ticket event payloads, outbox messages, archived rows of merges, attachments and their files,
and the payloads of the audit events about the customer and its tickets; the audit chain still
verifies, and still catches tampering; only admins may erase."""

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
from kehu.core.config import Settings
from kehu.core.jobs import run_due_jobs
from kehu.core.outbox import OutboxMessage, enqueue
from kehu.core.personal_data import MARKER
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
from kehu.customers.tables import Customer, CustomerContact, CustomerEvent, CustomerMerge
from kehu.desk import ticket_commands, ticket_messages
from kehu.desk.schemas import TicketCreate
from kehu.desk.tables import Ticket, TicketAttachment, TicketEvent, TicketMessage
from kehu.errors import NotFoundError, PermissionDeniedError
from kehu.store.db import Database

ADMIN = Principal.for_user(1, ["admin"], display_name="Ada")
MANAGER = Principal.for_user(2, ["manager"], display_name="Max")
NOW = datetime(2026, 3, 20, 10, tzinfo=UTC)
NAME = "王小明"
PERSONAL = (NAME, "wang@example.com", "13800138000", "likes green tea", "Parcel for 王")
#: what 王小明 wrote and sent on the ticket
MESSAGE = "Please call 王小明 on 13800138000 after six"
RECEIPT = "Receipt for 王小明, 13800138000".encode()


def _payloads(session: Session) -> str:
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    return json.dumps([[e.before, e.after] for e in events], ensure_ascii=False)


def _personal_rows(session: Session) -> str:
    """Every text the registered tables hold about tickets, messages, merges and the outbox."""
    texts: list[object] = []
    for ticket in session.scalars(select(Ticket)):
        texts += [ticket.subject, ticket.description]
    texts += list(session.scalars(select(TicketMessage.body)))
    for event in session.scalars(select(TicketEvent)):
        texts += [event.before, event.after]
    for attachment in session.scalars(select(TicketAttachment)):
        texts += [attachment.filename, attachment.content]
    for message in session.scalars(select(OutboxMessage)):
        texts += [message.recipient, message.subject, message.body]
    texts += [merge.steps for merge in session.scalars(select(CustomerMerge))]
    return json.dumps(texts, ensure_ascii=False, default=str)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, outbox_dir=tmp_path / "outbox", attachment_dir=tmp_path / "files"
    )


@pytest.fixture
def wang(database: Database, settings: Settings) -> dict[str, int]:
    """王小明 with contacts, notes, an edit, a refused channel, a merged duplicate (whose phone
    is archived in the merge record), a ticket with a message, an attachment and outbox
    messages; and Erika, who must be left alone."""
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
                name=NAME,
                contacts=[
                    ContactIn(type="email", value="wang.xm@example.com"),
                    ContactIn(type="phone", value="13800138000"),  # archived by the merge
                ],
            ),
        ).id
        merge_customers(session, MANAGER, wang, duplicate)
        ticket = ticket_commands.create_ticket(
            session,
            MANAGER,
            TicketCreate(
                customer_id=wang, kind="complaint", channel="email", subject="Parcel arrived"
            ),
            now=NOW,
            settings=settings,
            acknowledge=False,
        )
        ticket_commands.update_ticket(
            session, MANAGER, ticket.id, subject="Parcel for 王", now=NOW, settings=settings
        )
        ticket_messages.add_customer_reply(
            session, MANAGER, ticket.id, MESSAGE, now=NOW, settings=settings
        )
        attachment = ticket_messages.add_attachment(
            session,
            MANAGER,
            ticket.id,
            filename="王小明-receipt.txt",
            content_type="text/plain",
            content=RECEIPT,
            now=NOW,
            settings=settings,
        )
        enqueue(
            session,
            purpose="reply",
            customer_id=wang,
            regarding=("ticket", ticket.id),
            recipient="wang@example.com",
            subject="Re: Parcel for 王",
            body=f"Dear {NAME}, we will call 13800138000.",
            now=NOW,
        )
        enqueue(  # a notification to staff about the ticket quotes it
            session,
            purpose="escalation",
            regarding=("ticket", ticket.id),
            recipient="team@example.com",
            subject="SLA warning (Parcel for 王)",
            body=MESSAGE,
            now=NOW,
        )
        erika = create_customer(
            session,
            SYSTEM,
            CustomerCreate(
                name="Erika Mustermann",
                contacts=[ContactIn(type="email", value="erika@example.com")],
            ),
        ).id
        erika_ticket = ticket_commands.create_ticket(
            session,
            MANAGER,
            TicketCreate(customer_id=erika, kind="inquiry", channel="email", subject="Erika's"),
            now=NOW,
            settings=settings,
            acknowledge=False,
        )
        erika_file = ticket_messages.add_attachment(
            session,
            MANAGER,
            erika_ticket.id,
            filename="erika.txt",
            content_type="text/plain",
            content=b"Erika's own receipt",
            now=NOW,
            settings=settings,
        )
    return {
        "wang": wang,
        "duplicate": duplicate,
        "ticket": ticket.id,
        "attachment": attachment.id,
        "erika": erika,
        "erika_ticket": erika_ticket.id,
        "erika_attachment": erika_file.id,
    }


def _stored_file(session: Session, settings: Settings, attachment_id: int) -> Path:
    attachment = session.get(TicketAttachment, attachment_id)
    assert attachment is not None and attachment.storage_path is not None
    assert settings.attachment_dir is not None
    return settings.attachment_dir / attachment.storage_path


def test_erasure_removes_personal_data_and_the_chain_still_verifies(
    database: Database, wang: dict[str, int], settings: Settings
) -> None:
    with database.session() as session:
        assert NAME in _payloads(session)
        assert session.scalars(search_statement(ADMIN, "小明")).all()
        before = _personal_rows(session)
        for text in (NAME, MESSAGE, "13800138000", "Parcel for 王", "王小明-receipt.txt"):
            assert text in before, text
        merge = session.scalars(select(CustomerMerge)).one()
        assert "13800138000" in json.dumps(merge.steps)  # the duplicate's phone, archived
        wang_file = _stored_file(session, settings, wang["attachment"])
        erika_file = _stored_file(session, settings, wang["erika_attachment"])
        assert wang_file.read_bytes() == RECEIPT and erika_file.exists()
        ticket_version = session.get(Ticket, wang["ticket"]).version  # type: ignore[union-attr]
        result = erase_customer_personal_data(session, ADMIN, wang["wang"], now=NOW)
    assert result.customer_ids == [wang["wang"], wang["duplicate"]]
    assert result.contacts_removed == 3
    assert result.tickets == 1
    assert result.audit_events_erased > 0
    assert result.erased["ticket_messages"] == 1
    assert result.erased["ticket_attachments"] == 1
    assert result.erased["outbox_messages"] == 1
    assert result.erased["outbox_messages:tickets"] == 2
    assert result.erased["customer_merges"] == 1

    # the file goes once the erasure committed, by the job it scheduled; Erika's stays
    assert wang_file.exists()
    outcomes = run_due_jobs(database, NOW, "test-worker", settings=settings)
    assert [o.run.name for o in outcomes if not o.ok] == []
    assert not wang_file.exists()
    assert erika_file.read_bytes() == b"Erika's own receipt"

    with database.session() as session:
        rows = _personal_rows(session)
        for text in (*PERSONAL, MESSAGE, "王小明", "wang.xm@example.com", "王小明-receipt.txt"):
            assert text not in rows, text
        assert "Erika's" in rows and "erika.txt" in rows  # other customers keep theirs
        ticket_row = session.get(Ticket, wang["ticket"])
        assert ticket_row is not None and ticket_row.subject == MARKER
        assert ticket_row.version == ticket_version + 1  # an edit begun before is refused
        body = session.scalars(
            select(TicketMessage.body).where(TicketMessage.ticket_id == wang["ticket"])
        ).all()
        assert body == [MARKER]
        created = session.scalars(
            select(TicketEvent).where(
                TicketEvent.ticket_id == wang["ticket"], TicketEvent.kind == "created"
            )
        ).one()
        assert created.after["status"] == "new" and created.after["kind"] == "complaint"
        attachment = session.get(TicketAttachment, wang["attachment"])
        assert attachment is not None and attachment.filename == MARKER
        assert attachment.storage_path is None and attachment.content is None
        assert attachment.size == len(RECEIPT)  # the figures stay
        recipients = session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.customer_id == wang["wang"])
        ).all()
        assert recipients == [None]
        merge = session.scalars(select(CustomerMerge)).one()
        assert merge.steps and "13800138000" not in json.dumps(merge.steps)

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
