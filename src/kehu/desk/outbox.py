"""The outbox: every message to a customer (acknowledgement, reply, escalation) and every internal
notification is first written to ``outbox_messages`` in the same transaction as the change that
caused it, then delivered by the ``outbox_deliver`` job.

Delivery is at least once: a message is marked ``sent`` in the transaction that sent it, so a
crash between sending and committing sends it again on the next run. The file transport is
idempotent (one ``<id>-<purpose>.eml`` file per message, written atomically), so files never
duplicate. Transports: ``file`` (default; a directory of ``.eml`` files), ``console`` and
``smtp`` (``KEHU_SMTP_*`` settings).

Contact preferences: before a message *to a customer* is sent, ``kehu.customers.may_contact(
session, customer_id, channel, purpose)`` is asked (purpose ``"service"``: these are service
messages, not marketing); a refusal marks the message ``suppressed``. If ``kehu.customers`` does
not offer ``may_contact`` (yet), the check is skipped.
"""

from __future__ import annotations

import importlib
import os
import smtplib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol, TextIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehu.desk.settings import ServiceSettings, get_service_settings
from kehu.desk.tables import OutboxMessage
from kehu.store.db import Database

__all__ = [
    "ConsoleTransport",
    "DeliveryReport",
    "FileTransport",
    "SmtpTransport",
    "Transport",
    "deliver_outbox",
    "enqueue",
    "make_transport",
]


class Transport(Protocol):
    def send(self, message: EmailMessage, outbox_id: int, purpose: str) -> None: ...


class FileTransport:
    """Writes each message as ``<dir>/<id>-<purpose>.eml`` (idempotent, atomic)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, outbox_id: int, purpose: str) -> Path:
        return self.directory / f"{outbox_id:08d}-{purpose}.eml"

    def send(self, message: EmailMessage, outbox_id: int, purpose: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(outbox_id, purpose)
        if path.exists():
            return
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        temporary.write_bytes(bytes(message))
        os.replace(temporary, path)


class ConsoleTransport:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: EmailMessage, outbox_id: int, purpose: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"--- outbox message {outbox_id} ({purpose}) ---\n{message}\n")
        stream.flush()


class SmtpTransport:
    def __init__(self, settings: ServiceSettings) -> None:
        if not settings.smtp_host:
            from kehu.errors import ConfigurationError

            raise ConfigurationError("the smtp outbox transport needs KEHU_SMTP_HOST")
        self.settings = settings

    def send(self, message: EmailMessage, outbox_id: int, purpose: str) -> None:
        s = self.settings
        assert s.smtp_host is not None
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
            smtp.send_message(message)


def make_transport(settings: ServiceSettings) -> Transport:
    if settings.outbox_transport == "console":
        return ConsoleTransport()
    if settings.outbox_transport == "smtp":
        return SmtpTransport(settings)
    return FileTransport(settings.outbox_dir)


def enqueue(
    session: Session,
    *,
    purpose: str,
    subject: str,
    body: str,
    now: datetime,
    customer_id: int | None = None,
    ticket_id: int | None = None,
    recipient: str | None = None,
    channel: str = "email",
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Put a message in the outbox (in the caller's transaction). With ``dedupe_key``, a second
    message with the same key is not added (returns ``None``)."""
    if dedupe_key is not None:
        existing = session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if existing is not None:
            return None
    message = OutboxMessage(
        customer_id=customer_id,
        ticket_id=ticket_id,
        purpose=purpose,
        channel=channel,
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


def _may_contact() -> Callable[..., bool] | None:
    for name in ("kehu.customers", "kehu.customers.service", "kehu.customers.preferences"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        function = getattr(module, "may_contact", None)
        if callable(function):
            return function
    return None


def _customer_address(session: Session, customer_id: int, channel: str) -> str | None:
    """The customer's address for ``channel``: their primary contact of that type (the
    customers domain's ``customer_contacts``), else the first one; ``None`` if they have none."""
    tables = importlib.import_module("kehu.customers.tables")
    contact: Any = getattr(tables, "CustomerContact", None)
    if contact is None:
        return None
    return session.scalar(
        select(contact.value)
        .where(contact.customer_id == customer_id, contact.type == channel)
        .order_by(contact.is_primary.desc(), contact.id)
        .limit(1)
    )


@dataclass
class DeliveryReport:
    sent: int = 0
    suppressed: int = 0
    undeliverable: int = 0
    failed: int = 0


def _email(row: OutboxMessage, recipient: str, settings: ServiceSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.outbox_sender
    message["To"] = recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = make_msgid(idstring=f"kehu-outbox-{row.id}")
    message["X-Kehu-Outbox-Id"] = str(row.id)
    if row.ticket_id is not None:
        message["X-Kehu-Ticket-Id"] = str(row.ticket_id)
    message.set_content(row.body)
    return message


def deliver_outbox(
    database: Database,
    now: datetime,
    *,
    settings: ServiceSettings | None = None,
    transport: Transport | None = None,
    limit: int = 100,
    may_contact: Callable[..., bool] | None = None,
) -> DeliveryReport:
    """Deliver up to ``limit`` pending messages (one transaction; rows locked with SKIP LOCKED on
    PostgreSQL, a single writer on SQLite, so concurrent workers never send one twice).
    ``may_contact`` defaults to the customers domain's ``may_contact`` when it offers one."""
    settings = settings or get_service_settings()
    transport = transport or make_transport(settings)
    may_contact = may_contact or _may_contact()
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
            if row.customer_id is not None:
                if may_contact is not None and not may_contact(
                    session, row.customer_id, row.channel, "service"
                ):
                    row.status = "suppressed"
                    row.last_error = "the customer's contact preferences exclude this channel"
                    report.suppressed += 1
                    continue
                recipient = row.recipient or _customer_address(
                    session, row.customer_id, row.channel
                )
            else:
                recipient = row.recipient
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
