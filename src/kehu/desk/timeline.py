"""Tickets on the customer's 360 timeline.

:func:`ticket_timeline_entries` is the ``tickets`` source of
:mod:`kehu.customers.timeline`: every event of the customer's tickets that the principal may see
(the ticket scope applies: an agent sees the events of their teams' tickets), newest first.
Internal notes appear as "note added" without their text.
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
    "sla_warning": "Ticket #{id} close to its service promise",
    "sla_breached": "Ticket #{id} broke its service promise",
}


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
        yield TimelineEntry(
            at=event.at,
            kind=f"ticket_{event.kind}",
            title=title.format(id=ticket.id, subject=ticket.subject),
            detail={
                "ticket_id": ticket.id,
                "event_id": event.id,
                "status": ticket.status,
                "kind": ticket.kind,
                "channel": ticket.channel,
                "priority": ticket.priority,
            },
            ref=f"ticket_event:{event.id}",
        )
