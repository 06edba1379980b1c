"""Merging and splitting tickets.

- :func:`merge_tickets` -- two tickets of the same customer about one matter: the source is
  closed with ``merged_into_id`` (its promise no longer counts), both record ``merged``;
- :func:`split_ticket` -- a separate matter raised in a ticket becomes a new ticket (same
  customer, kind, channel, priority, category and team), both record ``split``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kehu.core.auth import Principal
from kehu.core.config import Settings
from kehu.desk.schemas import TicketCreate
from kehu.desk.tables import Ticket
from kehu.desk.ticket_commands import (
    checked_handling,
    checked_now,
    checked_text,
    finish_change,
    insert_ticket,
    load_for_change,
    record_event,
    set_status,
)
from kehu.errors import ConflictError, InputError

__all__ = ["merge_tickets", "split_ticket"]


def merge_tickets(
    session: Session,
    principal: Principal,
    source_id: int,
    target_id: int,
    *,
    now: datetime | None = None,
    settings: Settings,
    handling_seconds: int = 0,
) -> Ticket:
    """Merge ``source`` into ``target`` (same customer): the source is closed with
    ``merged_into_id``; both get a ``merged`` event. Returns the target."""
    now = checked_now(now)
    if source_id == target_id:
        raise InputError("a ticket cannot be merged into itself", column="target_id")
    source = load_for_change(session, principal, source_id)
    target = load_for_change(session, principal, target_id)
    if source.customer_id != target.customer_id:
        raise ConflictError("only tickets of the same customer can be merged")
    if source.status == "closed":
        raise ConflictError(f"ticket {source_id} is closed and cannot be merged")
    if target.status == "closed":
        raise ConflictError(f"ticket {target_id} is closed; merge into an open ticket")
    source.merged_into_id = target.id
    record_event(
        session,
        source,
        principal,
        "merged",
        now,
        before={"status": source.status},
        after={"merged_into_id": target.id},
        handling_seconds=checked_handling(handling_seconds),
        settings=settings,
    )
    set_status(session, source, principal, "closed", now, settings=settings)
    record_event(
        session,
        target,
        principal,
        "merged",
        now,
        after={"merged_from_id": source.id},
        settings=settings,
    )
    finish_change(session, source, now)
    finish_change(session, target, now)
    return target


def split_ticket(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    subject: str,
    description: str = "",
    now: datetime | None = None,
    settings: Settings,
    handling_seconds: int = 0,
) -> Ticket:
    """A new ticket for a separate matter raised in ``ticket_id`` (same customer, kind, channel,
    priority, category and team); both record ``split``. Returns the new ticket."""
    now = checked_now(now)
    original = load_for_change(session, principal, ticket_id)
    if original.status == "closed":
        raise ConflictError("a closed ticket cannot be split")
    data = TicketCreate(
        customer_id=original.customer_id,
        kind=original.kind,  # type: ignore[arg-type]
        channel=original.channel,  # type: ignore[arg-type]
        subject=checked_text(subject, "subject", limit=300),
        description=checked_text(description, "description", required=False),
        priority=original.priority,  # type: ignore[arg-type]
        category_id=original.category_id,
        team_id=original.team_id,
    )
    new = insert_ticket(
        session,
        principal,
        data,
        now,
        settings,
        acknowledge=False,
        recipient=None,
        handling_seconds=0,
        split_from=original,
    )
    record_event(
        session,
        original,
        principal,
        "split",
        now,
        after={"split_into_id": new.id},
        handling_seconds=checked_handling(handling_seconds),
        settings=settings,
    )
    finish_change(session, original, now)
    return new
