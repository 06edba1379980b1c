"""Ticket reads: one ticket (with its service promise now), the queue, search, the lists of a
ticket's events, messages and attachments.

Every read applies the permission layer (:func:`kehu.core.auth.scoped`): a ticket outside the
caller's scope is a :class:`~kehu.errors.NotFoundError` with the same message as an unknown id,
and lists leave such tickets out.

What the front doors show comes back as schemas (:mod:`kehu.desk.schemas`: ``TicketOut``,
``TicketDetail``, ``TicketPage``, ``TicketEventOut`` ...); :func:`get_ticket` returns the row,
for the other use cases (:mod:`kehu.desk.ticket_commands`, :mod:`kehu.desk.similar`, ...).

- :func:`list_queue` -- tickets still to work on, most urgent promise first (API and pages);
- :func:`search_tickets` -- the filters of the ticket list and its export (:class:`TicketSearch`);
- :func:`sla_status` -- the ticket against its service promise at a given instant (the SLA clock
  evaluated over the event log; :func:`sla_inputs` are its policy and clock events).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, scoped
from kehu.core.sorting import sort_by
from kehu.customers.normalize import escape_like
from kehu.desk.routing import category_path
from kehu.desk.schemas import (
    AttachmentOut,
    SlaOut,
    TargetOut,
    TicketDetail,
    TicketEventOut,
    TicketMessageOut,
    TicketOut,
    TicketPage,
)
from kehu.desk.sla import EventKind, SlaEvent, SlaPolicy, SlaStatus, TargetStatus, evaluate
from kehu.desk.sla_store import pure_policy
from kehu.desk.tables import SlaPolicyVersion, Ticket, TicketAttachment, TicketEvent, TicketMessage
from kehu.desk.workflow import ACTIVE_CATEGORIES, CATEGORIES, CHANNELS, KINDS, PRIORITIES, STATUSES
from kehu.errors import InputError, NotFoundError
from kehu.store.base import utc_now

__all__ = [
    "SORT_KEYS",
    "TicketSearch",
    "count_active_tickets",
    "detail_of",
    "get_ticket",
    "list_attachments",
    "list_events",
    "list_messages",
    "list_queue",
    "list_tickets",
    "read_ticket",
    "search_tickets",
    "sla_inputs",
    "sla_inputs_of",
    "sla_status",
    "ticket_detail",
]

NOT_FOUND = "no ticket with id {}"


# -- one ticket -------------------------------------------------------------------------------


def get_ticket(session: Session, principal: Principal, ticket_id: int) -> Ticket:
    """The ticket, if it exists and is in the caller's scope (else ``NotFoundError``)."""
    statement = scoped(select(Ticket).where(Ticket.id == ticket_id), principal, Ticket)
    ticket = session.scalars(statement).first()
    if ticket is None:
        raise NotFoundError(NOT_FOUND.format(ticket_id))
    return ticket


def read_ticket(session: Session, principal: Principal, ticket_id: int) -> TicketOut:
    """The ticket as the front doors show it (``NotFoundError`` outside the caller's scope)."""
    return TicketOut.model_validate(get_ticket(session, principal, ticket_id))


def ticket_detail(
    session: Session, principal: Principal, ticket_id: int, *, now: datetime | None = None
) -> TicketDetail:
    """The ticket with its category path and its service promise as of ``now``."""
    return detail_of(session, get_ticket(session, principal, ticket_id), now=now)


def detail_of(session: Session, ticket: Ticket, *, now: datetime | None = None) -> TicketDetail:
    """:func:`ticket_detail` of a ticket a use case returned (already in the caller's scope)."""
    out = TicketDetail.model_validate(ticket)
    out.category_path = category_path(session, ticket.category_id) or None
    out.sla = _sla_out(ticket, sla_status(session, ticket, now or utc_now()))
    return out


def _target_out(target: TargetStatus) -> TargetOut:
    return TargetOut(
        state=str(target.state),
        goal_seconds=int(target.goal.total_seconds()),
        consumed_seconds=int(target.consumed.total_seconds()),
        remaining_seconds=int(target.remaining.total_seconds()),
        due_at=target.due,
        stopped_at=target.stopped_at,
        breached_at=target.breached_at,
    )


def _sla_out(ticket: Ticket, status: SlaStatus | None) -> SlaOut | None:
    if status is None or ticket.sla_policy_version_id is None:
        return None
    return SlaOut(
        policy_id=status.policy.id,
        policy_version=status.policy.version,
        policy_name=status.policy.name,
        evaluated_at=status.now,
        paused=status.paused,
        breached=status.breached,
        kept=status.kept,
        first_response=_target_out(status.first_response),
        resolution=_target_out(status.resolution),
    )


# -- the service promise (SLA clock) ----------------------------------------------------------


@lru_cache(maxsize=256)
def _cached_policy(key: str) -> SlaPolicy:
    data = json.loads(key)
    row = SlaPolicyVersion(**data)
    return pure_policy(row)


def _policy_of(session: Session, version_id: int) -> SlaPolicy:
    row = session.get(SlaPolicyVersion, version_id)
    assert row is not None
    data = {
        "policy_id": row.policy_id,
        "version": row.version,
        "name": row.name,
        "first_response_seconds": row.first_response_seconds,
        "resolution_seconds": row.resolution_seconds,
        "calendar": row.calendar,
        "priorities": row.priorities,
        "kinds": row.kinds,
        "channels": row.channels,
        "value_tiers": row.value_tiers,
        "warning_thresholds": row.warning_thresholds,
        "order": row.order,
    }
    return _cached_policy(json.dumps(data, sort_keys=True))


_SLA_KINDS = {
    "created": EventKind.CREATED,
    "replied": EventKind.FIRST_RESPONSE,
    "paused": EventKind.PAUSED,
    "resumed": EventKind.RESUMED,
    "resolved": EventKind.RESOLVED,
    "closed": EventKind.RESOLVED,
    "reopened": EventKind.REOPENED,
}


def sla_inputs(session: Session, ticket: Ticket) -> tuple[SlaPolicy, list[SlaEvent]] | None:
    events = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.at, TicketEvent.id)
    ).all()
    return sla_inputs_of(session, events)


def sla_inputs_of(
    session: Session, events: Sequence[TicketEvent]
) -> tuple[SlaPolicy, list[SlaEvent]] | None:
    """The policy a ticket was given and its SLA events, from its ticket events in order (by
    ``at``, then ``id``); ``None`` without a policy. For reports that load many tickets' events
    at once."""
    initial: SlaPolicy | None = None
    sla_events: list[SlaEvent] = []
    for row in events:
        version_id = row.after.get("sla_policy_version_id") if row.after else None
        kind = _SLA_KINDS.get(row.kind)
        if kind is EventKind.CREATED:
            sla_events.append(SlaEvent(at=row.at, kind=kind))
        if version_id is not None:
            policy = _policy_of(session, int(version_id))
            if initial is None:
                initial = policy
            else:
                sla_events.append(SlaEvent(row.at, EventKind.POLICY_CHANGED, policy))
        if kind is not None and kind is not EventKind.CREATED:
            sla_events.append(SlaEvent(at=row.at, kind=kind))
    if initial is None:
        return None
    return initial, sla_events


def sla_status(session: Session, ticket: Ticket, now: datetime) -> SlaStatus | None:
    """The ticket against its service promise at ``now`` (``None`` without a policy)."""
    inputs = sla_inputs(session, ticket)
    if inputs is None:
        return None
    policy, events = inputs
    return evaluate(policy, events, max(now, ticket.created_at))


# -- the queue, lists and search --------------------------------------------------------------


def _page(
    session: Session, statement: Select[Any], order: Sequence[Any], limit: int, offset: int
) -> TicketPage:
    total = session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    rows = session.scalars(statement.order_by(*order).limit(limit).offset(offset))
    return TicketPage(items=[TicketOut.model_validate(t) for t in rows], total=int(total))


#: The queue's order: earliest running promise first, tickets without one last, oldest first.
QUEUE_ORDER = (Ticket.sla_due_at.is_(None), Ticket.sla_due_at, Ticket.created_at, Ticket.id)


def list_queue(
    session: Session,
    principal: Principal,
    *,
    team_id: int | None = None,
    assignee_id: int | None = None,
    categories: Sequence[str] = ACTIVE_CATEGORIES,
    limit: int = 50,
    offset: int = 0,
) -> TicketPage:
    """Tickets still to work on, in the caller's scope, most urgent promise first (earliest
    ``sla_due_at``; tickets without a running target last, oldest first); merged tickets are
    left out."""
    statement = select(Ticket).where(
        Ticket.status_category.in_(list(categories)), Ticket.merged_into_id.is_(None)
    )
    if team_id is not None:
        statement = statement.where(Ticket.team_id == team_id)
    if assignee_id is not None:
        statement = statement.where(Ticket.assignee_id == assignee_id)
    return _page(session, scoped(statement, principal, Ticket), QUEUE_ORDER, limit, offset)


def list_tickets(
    session: Session,
    principal: Principal,
    *,
    customer_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[TicketOut]:
    """Tickets in the caller's scope, newest first (optionally of one customer)."""
    statement = select(Ticket)
    if customer_id is not None:
        statement = statement.where(Ticket.customer_id == customer_id)
    statement = scoped(statement, principal, Ticket).order_by(
        Ticket.created_at.desc(), Ticket.id.desc()
    )
    return [
        TicketOut.model_validate(t) for t in session.scalars(statement.limit(limit).offset(offset))
    ]


def count_active_tickets(
    session: Session, principal: Principal, customer_ids: Iterable[int]
) -> dict[int, int]:
    """Open or waiting tickets per customer, counting those the caller may see (an agent counts
    their teams' tickets only); customers without any are left out."""
    statement = scoped(
        select(Ticket.customer_id, func.count())
        .where(Ticket.customer_id.in_(list(customer_ids)))
        .where(Ticket.status_category.in_(list(ACTIVE_CATEGORIES)))
        .group_by(Ticket.customer_id),
        principal,
        Ticket,
    )
    return {customer_id: count for customer_id, count in session.execute(statement)}


@dataclass(frozen=True)
class TicketSearch:
    """The filters of the ticket list. Code filters match any of their codes (none given: any
    code; an unknown code is an ``InputError`` naming the filter); ``words`` must all appear in
    the subject or the description (case-insensitive); merged tickets only on request."""

    status: Sequence[str] = ()
    status_category: Sequence[str] = ()
    kind: Sequence[str] = ()
    priority: Sequence[str] = ()
    channel: Sequence[str] = ()
    team_id: int | None = None
    assignee_id: int | None = None
    customer_id: int | None = None
    category_id: int | None = None
    words: str = ""
    include_merged: bool = False


_PRIORITY_RANK = case({p: i for i, p in enumerate(PRIORITIES)}, value=Ticket.priority, else_=-1)
_SORTS: dict[str, Any] = {
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "due": Ticket.sla_due_at,
    "priority": _PRIORITY_RANK,
    "status": Ticket.status,
    "id": Ticket.id,
}
#: What :func:`search_tickets` sorts by (``-`` before a key: descending; see
#: :func:`kehu.core.sorting.sort_by`).
SORT_KEYS = tuple(_SORTS)


def _codes(values: Sequence[str], allowed: tuple[str, ...], field: str) -> list[str]:
    bad = [c for c in values if c not in allowed]
    if bad:
        raise InputError(f"one of {', '.join(allowed)}", column=field, value=bad[0])
    return list(values)


def _searched(principal: Principal, search: TicketSearch) -> Select[Any]:
    statement = select(Ticket)
    for column, values, allowed, name in (
        (Ticket.status, search.status, STATUSES, "status"),
        (Ticket.status_category, search.status_category, CATEGORIES, "status_category"),
        (Ticket.kind, search.kind, KINDS, "kind"),
        (Ticket.priority, search.priority, PRIORITIES, "priority"),
        (Ticket.channel, search.channel, CHANNELS, "channel"),
    ):
        codes = _codes(values, allowed, name)
        if codes:
            statement = statement.where(column.in_(codes))
    if search.team_id is not None:
        statement = statement.where(Ticket.team_id == search.team_id)
    if search.assignee_id is not None:
        statement = statement.where(Ticket.assignee_id == search.assignee_id)
    if search.customer_id is not None:
        statement = statement.where(Ticket.customer_id == search.customer_id)
    if search.category_id is not None:
        statement = statement.where(Ticket.category_id == search.category_id)
    for term in search.words.split():
        pattern = f"%{escape_like(term.lower())}%"
        statement = statement.where(
            or_(
                Ticket.subject.ilike(pattern, escape="\\"),
                Ticket.description.ilike(pattern, escape="\\"),
            )
        )
    if not search.include_merged:
        statement = statement.where(Ticket.merged_into_id.is_(None))
    return scoped(statement, principal, Ticket)


def search_tickets(
    session: Session,
    principal: Principal,
    search: TicketSearch,
    *,
    sort: str | None = "-created_at",
    limit: int = 100,
    offset: int = 0,
) -> TicketPage:
    """The tickets in the caller's scope that match ``search``, sorted by ``sort`` (keys of
    :data:`SORT_KEYS`, comma-separated, ``-`` for descending; ties by id). An unknown code is an
    ``InputError`` naming its filter, an unknown sort key one naming ``sort``."""
    statement = _searched(principal, search)
    order = sort_by(sort, _SORTS, default="-created_at", tiebreak=Ticket.id)
    return _page(session, statement, order, limit, offset)


def list_events(session: Session, principal: Principal, ticket_id: int) -> list[TicketEventOut]:
    """The ticket's event log, oldest first."""
    get_ticket(session, principal, ticket_id)
    rows = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    return [TicketEventOut.model_validate(e) for e in rows]


def list_messages(
    session: Session, principal: Principal, ticket_id: int, *, include_internal: bool = True
) -> list[TicketMessageOut]:
    """Replies, customer messages and (with ``include_internal``) internal notes, oldest first."""
    get_ticket(session, principal, ticket_id)
    statement = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
    if not include_internal:
        statement = statement.where(TicketMessage.internal.is_(False))
    rows = session.scalars(statement.order_by(TicketMessage.created_at, TicketMessage.id))
    return [TicketMessageOut.model_validate(m) for m in rows]


def list_attachments(session: Session, principal: Principal, ticket_id: int) -> list[AttachmentOut]:
    """The ticket's attachments (without their bytes: :func:`kehu.desk.ticket_messages.
    read_attachment`), oldest first."""
    get_ticket(session, principal, ticket_id)
    rows = session.scalars(
        select(TicketAttachment)
        .where(TicketAttachment.ticket_id == ticket_id)
        .order_by(TicketAttachment.id)
    )
    return [AttachmentOut.model_validate(a) for a in rows]
