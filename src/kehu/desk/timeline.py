"""Tickets on the customer's 360 timeline.

:func:`ticket_timeline_entries` is the ``tickets`` source of
:mod:`kehu.customers.timeline`: every event of the customer's tickets that the principal may see
(the ticket scope applies: an agent sees the events of their teams' tickets), newest first.
Internal notes appear as "note added" without their text. An SLA warning or breach is dated
when the threshold was crossed or the promise broke and names the promise: its detail carries
``target`` (``first_response`` or ``resolution``) and ``due`` (ISO instant); a ticket has one of
each per promise, so up to two warnings and two breaches.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, scoped
from kehu.customers.timeline import TimelineEntry
from kehu.desk.tables import Ticket, TicketEvent

TITLES = {
    "created": "Ticket #{id} filed: {subject}",
    "assigned": "Ticket #{id} assigned",
    "transferred": "Ticket #{id} transferred to another team",
    "replied": "Reply sent on ticket #{id}",
    "customer_replied": "Customer wrote on ticket #{id}",
    "note_added": "Internal note on ticket #{id}",
    "paused": "Ticket #{id} waiting on the customer",
    "resumed": "Ticket #{id} resumed",
    "resolved": "Ticket #{id} resolved",
    "reopened": "Ticket #{id} reopened",
    "closed": "Ticket #{id} closed",
    "merged": "Ticket #{id} merged",
    "split": "Ticket #{id} split",
    "priority_changed": "Ticket #{id} priority changed",
    "escalated": "Ticket #{id} escalated",
    "sla_warning": "Ticket #{id} close to its service promise: {target}",
    "sla_breached": "Ticket #{id} broke its service promise: {target}",
}

#: the SLA check's events and what of their payload the timeline passes on
SLA_EVENTS = frozenset({"sla_warning", "sla_breached"})
_TARGET_NAMES = {"first_response": "first response", "resolution": "resolution"}


def ticket_timeline_entries(
    session: Session,
    customer_id: int,
    principal: Principal,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> Iterator[TimelineEntry]:
    """Timeline entries of the customer's tickets."""
    if not principal.can("tickets:read"):
        return
    statement = select(TicketEvent, Ticket).join(Ticket, Ticket.id == TicketEvent.ticket_id)
    statement = statement.where(Ticket.customer_id == customer_id)
    if since is not None:
        statement = statement.where(TicketEvent.at >= since)
    if until is not None:
        statement = statement.where(TicketEvent.at <= until)
    statement = scoped(statement, principal, Ticket)
    statement = statement.order_by(TicketEvent.at.desc(), TicketEvent.id.desc()).limit(limit)
    for event, ticket in session.execute(statement):
        title = TITLES.get(event.kind, "Ticket #{id}: " + event.kind.replace("_", " "))
        detail = {
            "ticket_id": ticket.id,
            "event_id": event.id,
            "status": ticket.status,
            "kind": ticket.kind,
            "channel": ticket.channel,
            "priority": ticket.priority,
        }
        target = ""
        if event.kind in SLA_EVENTS:
            after = event.after or {}
            target = str(after.get("target") or "")
            detail["target"] = target or None
            # a breach is its due time (events recorded before ``due`` was kept)
            detail["due"] = after.get("due") or (
                after.get("alert_at") if event.kind == "sla_breached" else None
            )
        yield TimelineEntry(
            at=event.at,
            kind=f"ticket_{event.kind}",
            title=title.format(
                id=ticket.id, subject=ticket.subject, target=_TARGET_NAMES.get(target, target)
            ),
            detail=detail,
            ref=f"ticket_event:{event.id}",
        )
