"""The conversation on a ticket: agents' replies (sent to the customer through the outbox), what
the customer wrote, internal notes, and attachments (checked, stored, read back).

The same rules as every ticket change (:mod:`kehu.desk.ticket_commands`): scope, permission,
``expected_version``, one event per change, SLA due times refreshed. A reply is the first
response of the SLA clock; a customer's message resumes a ticket waiting on them and reopens a
resolved one. Listing messages and attachments is a read (:mod:`kehu.desk.ticket_queries`:
``list_messages``, ``list_attachments``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from kehu.core import outbox
from kehu.core.auth import Principal
from kehu.core.config import Settings
from kehu.desk.attachment_names import attachment_name
from kehu.desk.notifications import check_mentions, mention_ids
from kehu.desk.tables import Ticket, TicketAttachment, TicketMessage
from kehu.desk.ticket_commands import (
    checked_handling,
    checked_now,
    checked_text,
    finish_change,
    load_for_change,
    record_event,
    set_status,
)
from kehu.desk.ticket_queries import get_ticket
from kehu.errors import ConflictError, InputError, NotFoundError

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "add_attachment",
    "add_customer_reply",
    "add_note",
    "read_attachment",
    "reply",
    "sniff_content_type",
]


# -- replies and notes ------------------------------------------------------------------------


def reply(
    session: Session,
    principal: Principal,
    ticket_id: int,
    body: str,
    *,
    wait_for_customer: bool = False,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
    recipient: str | None = None,
) -> Ticket:
    """An agent's reply to the customer (queued in the outbox). The first reply is the first
    response; a new ticket goes to in_progress, and with ``wait_for_customer`` the ticket waits
    on the customer (the SLA clock pauses)."""
    now = checked_now(now)
    body = checked_text(body, "body")
    ticket = load_for_change(session, principal, ticket_id, expected_version=expected_version)
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot be replied to; file a new ticket")
    if wait_for_customer and ticket.status == "resolved":
        raise ConflictError("reopen the resolved ticket before waiting on the customer")
    mentioned = check_mentions(session, ticket, body)
    message = TicketMessage(
        ticket_id=ticket.id,
        kind="reply",
        internal=False,
        author_id=principal.user_id,
        body=body,
        created_at=now,
    )
    session.add(message)
    session.flush()
    status_before = ticket.status
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
    record_event(
        session,
        ticket,
        principal,
        "replied",
        now,
        before={"status": status_before},
        after={"message_id": message.id, **mention_ids(mentioned)},
        handling_seconds=checked_handling(handling_seconds),
        settings=settings,
    )
    if wait_for_customer and ticket.status != "waiting_on_customer":
        set_status(session, ticket, principal, "waiting_on_customer", now, settings=settings)
    elif ticket.status == "new":
        set_status(session, ticket, principal, "in_progress", now, settings=settings)
    finish_change(session, ticket, now)
    outbox.enqueue(
        session,
        purpose="reply",
        customer_id=ticket.customer_id,
        regarding=("ticket", ticket.id),
        recipient=recipient,
        subject=f"Re: [#{ticket.id}] {ticket.subject}",
        body=body,
        now=now,
        dedupe_key=f"ticket:{ticket.id}:message:{message.id}",
    )
    return ticket


def add_customer_reply(
    session: Session,
    principal: Principal,
    ticket_id: int,
    body: str,
    *,
    now: datetime | None = None,
    settings: Settings,
) -> Ticket:
    """The customer wrote again (status page, e-mail, a call logged by an agent). A ticket
    waiting on the customer resumes (the SLA clock runs again); a resolved one is reopened; a
    closed one refuses (the customer files a new ticket, linked as a repeat)."""
    now = checked_now(now)
    body = checked_text(body, "body")
    ticket = load_for_change(session, principal, ticket_id)
    if ticket.status == "closed":
        raise ConflictError("the ticket is closed; file a new ticket (it is linked as a repeat)")
    message = TicketMessage(
        ticket_id=ticket.id, kind="customer", internal=False, body=body, created_at=now
    )
    session.add(message)
    session.flush()
    record_event(
        session,
        ticket,
        principal,
        "customer_replied",
        now,
        after={"message_id": message.id},
        actor_kind="customer",
        settings=settings,
    )
    if ticket.status in ("waiting_on_customer", "resolved"):
        set_status(
            session, ticket, principal, "in_progress", now, actor_kind="customer", settings=settings
        )
    finish_change(session, ticket, now)
    return ticket


def add_note(
    session: Session,
    principal: Principal,
    ticket_id: int,
    body: str,
    *,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
) -> TicketMessage:
    """An internal note (never sent to the customer). Colleagues ``@mentioned`` in it are
    notified; a mention of one who cannot see the ticket is refused
    (:class:`kehu.desk.notifications.MentionRefused`)."""
    now = checked_now(now)
    body = checked_text(body, "body")
    ticket = load_for_change(session, principal, ticket_id)
    mentioned = check_mentions(session, ticket, body)
    message = TicketMessage(
        ticket_id=ticket.id,
        kind="note",
        internal=True,
        author_id=principal.user_id,
        body=body,
        created_at=now,
    )
    session.add(message)
    session.flush()
    record_event(
        session,
        ticket,
        principal,
        "note_added",
        now,
        after={"message_id": message.id, **mention_ids(mentioned)},
        handling_seconds=checked_handling(handling_seconds),
        settings=settings,
    )
    finish_change(session, ticket, now)
    return message


# -- attachments ------------------------------------------------------------------------------

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/pdf": (b"%PDF-",),
}


ALLOWED_CONTENT_TYPES = (*_SIGNATURES, "text/plain")


def sniff_content_type(content: bytes) -> str | None:
    """The type the bytes themselves show (png, jpeg, pdf, or UTF-8 plain text), or ``None``."""
    for content_type, signatures in _SIGNATURES.items():
        if content.startswith(signatures):
            return content_type
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x1b\x7f"):
        return None
    return "text/plain"


def add_attachment(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    filename: str,
    content_type: str,
    content: bytes,
    now: datetime | None = None,
    settings: Settings,
) -> TicketAttachment:
    """Attach a file. Refused (``InputError``): over the size limit, a type outside png, jpeg,
    pdf and plain text, or a declared type its bytes do not match. Bytes are kept in the database,
    or under ``attachment_dir`` when set (named by their SHA-256, never by the user's name); the
    name is kept in its own script, made safe by :func:`attachment_name`."""
    now = checked_now(now)
    ticket = load_for_change(session, principal, ticket_id)
    declared = content_type.split(";")[0].strip().lower()
    if declared not in ALLOWED_CONTENT_TYPES:
        raise InputError(
            f"attachments may be {', '.join(ALLOWED_CONTENT_TYPES)}",
            column="content_type",
            value=content_type,
        )
    if len(content) > settings.attachment_max_bytes:
        raise InputError(
            f"the file is {len(content)} bytes, over the limit of {settings.attachment_max_bytes}",
            column="content",
        )
    if not content:
        raise InputError("the file is empty", column="content")
    actual = sniff_content_type(content)
    if actual != declared:
        raise InputError(
            f"the content does not match the declared type {declared!r} "
            f"(it looks like {actual or 'an unsupported type'})",
            column="content_type",
            value=content_type,
        )
    safe_name = attachment_name(filename)
    digest = hashlib.sha256(content).hexdigest()
    storage_path = None
    stored: bytes | None = content
    if settings.attachment_dir is not None:
        directory = Path(settings.attachment_dir) / digest[:2]
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / digest
        if not path.exists():
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(content)
            temporary.replace(path)
        storage_path = f"{digest[:2]}/{digest}"
        stored = None
    attachment = TicketAttachment(
        ticket_id=ticket.id,
        filename=safe_name,
        content_type=declared,
        size=len(content),
        sha256=digest,
        storage_path=storage_path,
        content=stored,
        uploaded_by=principal.user_id,
        created_at=now,
    )
    session.add(attachment)
    session.flush()
    record_event(
        session,
        ticket,
        principal,
        "attachment_added",
        now,
        after={"attachment_id": attachment.id, "filename": safe_name, "size": len(content)},
        settings=settings,
    )
    finish_change(session, ticket, now)
    return attachment


def read_attachment(
    session: Session,
    principal: Principal,
    attachment_id: int,
    *,
    settings: Settings,
) -> tuple[TicketAttachment, bytes]:
    """The attachment and its bytes (``NotFoundError`` if its ticket is out of scope)."""
    attachment = session.get(TicketAttachment, attachment_id)
    message = f"no attachment with id {attachment_id}"
    if attachment is None:
        raise NotFoundError(message)
    try:
        get_ticket(session, principal, attachment.ticket_id)
    except NotFoundError:
        raise NotFoundError(message) from None
    if attachment.content is not None:
        return attachment, attachment.content
    if settings.attachment_dir is None or attachment.storage_path is None:
        raise NotFoundError(f"{message} (its file store is not configured)")
    return attachment, (Path(settings.attachment_dir) / attachment.storage_path).read_bytes()
