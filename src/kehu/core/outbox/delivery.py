"""Putting messages in the outbox and delivering them.

Every message to a customer (acknowledgement, reply, escalation, later survey invitations and
loyalty statements) and every internal notification is first written to ``outbox_messages`` in
the same transaction as the change that caused it (:func:`enqueue`), then delivered by the
``outbox_deliver`` job (:func:`deliver_outbox`).

Delivery is at least once: a message is marked ``sent`` in the transaction that sent it, so a
crash between sending and committing sends it again on the next run. The file transport is
idempotent (one ``<id>-<purpose>.eml`` file per message, written atomically), so files never
duplicate.

The platform does not know customers. Two hooks, registered by the customers domain, answer for
a message to a customer (``customer_id`` set):

- the **contact policy** ``(session, customer_id, channel, consent) -> bool``: may it go? A refusal
  marks the message ``suppressed``. ``consent`` is the message's: ``service`` or ``marketing``.
- the **address book** ``(session, customer_id, channel) -> str | None``: where to, when the
  message names no ``recipient``.

Without a contact policy registered, messages to customers are held back (``suppressed``, with the
reason): sending without asking would ignore a refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehu.core.config import Settings
from kehu.core.outbox.tables import OutboxMessage
from kehu.core.outbox.transports import Transport, make_transport
from kehu.store.db import Database

__all__ = [
    "AddressBook",
    "ContactPolicy",
    "DeliveryReport",
    "deliver_outbox",
    "enqueue",
    "register_address_book",
    "register_contact_policy",
]

ContactPolicy = Callable[[Session, int, str, str], bool]
AddressBook = Callable[[Session, int, str], str | None]

_HOOKS: dict[str, Callable[..., object]] = {}


def register_contact_policy(policy: ContactPolicy) -> None:
    """Set the function asked whether a message may go to a customer (one per deployment)."""
    _HOOKS["contact_policy"] = policy


def register_address_book(book: AddressBook) -> None:
    """Set the function that finds a customer's address on a channel (one per deployment)."""
    _HOOKS["address_book"] = book


def enqueue(
    session: Session,
    *,
    purpose: str,
    subject: str,
    body: str,
    now: datetime,
    customer_id: int | None = None,
    regarding: tuple[str, int] | None = None,
    recipient: str | None = None,
    channel: str = "email",
    consent: str = "service",
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Put a message in the outbox (in the caller's transaction). ``regarding`` names what it is
    about (``("ticket", 12)``). With ``dedupe_key``, a second message with the same key is not
    added (returns ``None``)."""
    if consent not in ("service", "marketing"):
        raise ValueError(f"consent is 'service' or 'marketing', not {consent!r}")
    if dedupe_key is not None:
        existing = session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if existing is not None:
            return None
    message = OutboxMessage(
        customer_id=customer_id,
        regarding_type=regarding[0] if regarding else None,
        regarding_id=regarding[1] if regarding else None,
        purpose=purpose,
        channel=channel,
        consent=consent,
        recipient=recipient,
        subject=subject[:300],
        body=body,
        status="pending",
        dedupe_key=dedupe_key,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:  # the same dedupe key, added concurrently
        return None
    return message


@dataclass
class DeliveryReport:
    sent: int = 0
    suppressed: int = 0
    undeliverable: int = 0
    failed: int = 0


def _header_name(regarding_type: str) -> str:
    return "X-Kehu-" + "-".join(part.capitalize() for part in regarding_type.split("_")) + "-Id"


def _email(row: OutboxMessage, recipient: str, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.outbox_sender
    message["To"] = recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = make_msgid(idstring=f"kehu-outbox-{row.id}")
    message["X-Kehu-Outbox-Id"] = str(row.id)
    if row.regarding_type is not None and row.regarding_id is not None:
        message[_header_name(row.regarding_type)] = str(row.regarding_id)  # X-Kehu-Ticket-Id
    message.set_content(row.body)
    return message


def deliver_outbox(
    database: Database,
    now: datetime,
    *,
    settings: Settings,
    transport: Transport | None = None,
    limit: int = 100,
    may_contact: ContactPolicy | None = None,
) -> DeliveryReport:
    """Deliver up to ``limit`` pending messages (one transaction; rows locked with SKIP LOCKED on
    PostgreSQL, a single writer on SQLite, so concurrent workers never send one twice).
    ``may_contact`` defaults to the registered contact policy."""
    transport = transport or make_transport(settings)
    policy = may_contact or _HOOKS.get("contact_policy")
    address_book = _HOOKS.get("address_book")
    report = DeliveryReport()
    with database.session() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if database.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for row in session.scalars(query).all():
            row.attempts += 1
            recipient = row.recipient
            if row.customer_id is not None:
                if policy is None:
                    row.status = "suppressed"
                    row.last_error = "no contact policy is registered to ask"
                    report.suppressed += 1
                    continue
                if not policy(session, row.customer_id, row.channel, row.consent):
                    row.status = "suppressed"
                    row.last_error = "the customer's contact preferences exclude this channel"
                    report.suppressed += 1
                    continue
                if not recipient and address_book is not None:
                    found = address_book(session, row.customer_id, row.channel)
                    recipient = found if isinstance(found, str) else None
            if not recipient:
                row.status = "undeliverable"
                row.last_error = "no address to send to"
                report.undeliverable += 1
                continue
            row.recipient = recipient
            try:
                transport.send(_email(row, recipient, settings), row.id, row.purpose)
            except Exception as exc:  # delivery errors are recorded, retried up to 5 times
                row.last_error = f"{type(exc).__name__}: {exc}"
                if row.attempts >= 5:
                    row.status = "failed"
                report.failed += 1
                continue
            row.status = "sent"
            row.sent_at = now
            report.sent += 1
    return report
