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
- :func:`promise_state` -- where a ticket stands against its promise, in SQL (filter, sort, show);
- :func:`sla_status` -- the ticket against its service promise at a given instant (the SLA clock
  evaluated over the event log; :func:`sla_inputs` are its policy and clock events).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, scoped
from kehu.core.sorting import sort_by
from kehu.core.users.tables import User
from kehu.customers.normalize import escape_like
from kehu.customers.search import matching_customer_ids
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
from kehu.desk.sla_store import VALUE_TIERS, pure_policy
from kehu.desk.tables import (
    SlaPolicyVersion,
    Team,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketMessage,
)
from kehu.desk.workflow import ACTIVE_CATEGORIES, CATEGORIES, CHANNELS, KINDS, PRIORITIES, STATUSES
from kehu.errors import InputError, NotFoundError
from kehu.store.base import utc_now

__all__ = [
    "AT_RISK_WITHIN",
    "PROMISE_STATES",
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
    "promise_state",
    "promise_states",
    "read_ticket",
    "search_tickets",
    "sla_inputs",
    "sla_inputs_of",
    "sla_status",
    "sla_statuses",
    "sort_columns",
    "ticket_detail",
    "ticket_origins",
    "tickets_after",
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


@dataclass(frozen=True)
class TicketOrigin:
    """Whose ticket it is and when it was filed."""

    customer_id: int
    created_at: datetime


#: Ids per ``IN (...)`` list (SQLite allows 32766 bound values; keep far from it).
_IDS_PER_QUERY = 500


def ticket_origins(
    session: Session, principal: Principal, ticket_ids: Iterable[int]
) -> dict[int, TicketOrigin]:
    """The customer and creation time of each of ``ticket_ids`` in the caller's scope, in a few
    queries rather than one per ticket (ids out of scope or missing are left out)."""
    wanted = sorted(set(ticket_ids))
    found: dict[int, TicketOrigin] = {}
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        chunk = wanted[start : start + _IDS_PER_QUERY]
        statement = scoped(
            select(Ticket.id, Ticket.customer_id, Ticket.created_at).where(Ticket.id.in_(chunk)),
            principal,
            Ticket,
        )
        for ticket_id, customer_id, created_at in session.execute(statement):
            found[ticket_id] = TicketOrigin(customer_id, created_at)
    return found


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
    session: Session, events: Iterable[TicketEvent]
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


#: Tickets whose events :func:`sla_statuses` reads per query.
_STATUS_BATCH = 500


def sla_statuses(
    session: Session, tickets: Sequence[Ticket], now: datetime
) -> dict[int, SlaStatus]:
    """:func:`sla_status` of many tickets, reading their events a batch at a time (tickets
    without a policy are left out)."""
    statuses: dict[int, SlaStatus] = {}
    for start in range(0, len(tickets), _STATUS_BATCH):
        batch = {ticket.id: ticket for ticket in tickets[start : start + _STATUS_BATCH]}
        events: dict[int, list[TicketEvent]] = {ticket_id: [] for ticket_id in batch}
        for row in session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id.in_(list(batch)))
            .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id)
        ):
            events[row.ticket_id].append(row)
        for ticket_id, ticket in batch.items():
            inputs = sla_inputs_of(session, events[ticket_id])
            if inputs is not None:
                policy, clock = inputs
                statuses[ticket_id] = evaluate(policy, clock, max(now, ticket.created_at))
    return statuses


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


#: Where a ticket stands against its service promise (:func:`promise_state`): ``on_track``
#: (running, no warning), ``at_risk`` (running, a warning threshold crossed or due within
#: :data:`AT_RISK_WITHIN`), ``breached`` (a target broke: overdue now, an ``sla_breached`` event,
#: or resolved late), ``kept`` (resolved or closed within the promise), ``none`` (no promise, or
#: nothing known about it).
PROMISE_STATES = ("on_track", "at_risk", "breached", "kept", "none")
#: A running promise due this soon is at risk even before a warning threshold fired.
AT_RISK_WITHIN = timedelta(hours=1)


def promise_state(now: datetime) -> ColumnElement[str]:
    """The SQL expression of a ticket's promise state at ``now`` (one of
    :data:`PROMISE_STATES`): the same on SQLite and PostgreSQL, for filtering, sorting and
    showing. Warnings and breaches are read from the SLA check's events, so a ticket the check
    has not seen yet is judged by its due time alone."""
    active = Ticket.status_category.in_(list(ACTIVE_CATEGORIES))
    alerted = select(TicketEvent.id).where(TicketEvent.ticket_id == Ticket.id)
    breached_event = alerted.where(TicketEvent.kind == "sla_breached").exists()
    # a first-response warning before the first response no longer tells of a risk after it
    warned = (
        alerted.where(TicketEvent.kind == "sla_warning")
        .where(
            or_(Ticket.first_responded_at.is_(None), TicketEvent.at >= Ticket.first_responded_at)
        )
        .exists()
    )
    overdue = and_(Ticket.sla_due_at.is_not(None), Ticket.sla_due_at < now)
    due_soon = and_(Ticket.sla_due_at.is_not(None), Ticket.sla_due_at < now + AT_RISK_WITHIN)
    return case(
        (Ticket.sla_policy_version_id.is_(None), "none"),
        (or_(Ticket.sla_kept.is_(False), and_(active, overdue), breached_event), "breached"),
        (Ticket.sla_kept.is_(True), "kept"),
        (and_(active, or_(warned, due_soon)), "at_risk"),
        (active, "on_track"),
        else_="none",
    )


def promise_states(
    session: Session, principal: Principal, ticket_ids: Iterable[int], now: datetime
) -> dict[int, str]:
    """The promise state (:func:`promise_state`) of each ticket of ``ticket_ids`` in scope."""
    statement = scoped(
        select(Ticket.id, promise_state(now)).where(Ticket.id.in_(list(ticket_ids))),
        principal,
        Ticket,
    )
    return {ticket_id: state for ticket_id, state in session.execute(statement)}


@dataclass(frozen=True)
class TicketSearch:
    """The filters of the ticket list and the queue. Code filters match any of their codes (none
    given: any code; an unknown code is an ``InputError`` naming the filter). Every one of
    ``words`` must appear (case-insensitive) in the subject, the description or a message of
    the ticket, or find its customer through the customer search
    (:func:`kehu.customers.search.matching_customer_ids`: names, contacts, pinyin, through the
    customer search index). ``unassigned`` keeps tickets with no assignee; ``promise`` filters
    by :data:`PROMISE_STATES` at ``now`` (the clock when ``None``); ``value_tier`` is the
    customer's value tier the ticket was filed with; ``customer_tag`` a tag of the customer.
    Merged tickets only on request."""

    status: Sequence[str] = ()
    status_category: Sequence[str] = ()
    kind: Sequence[str] = ()
    priority: Sequence[str] = ()
    channel: Sequence[str] = ()
    promise: Sequence[str] = ()
    value_tier: Sequence[str] = ()
    team_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    customer_id: int | None = None
    category_id: int | None = None
    customer_tag: str = ""
    words: str = ""
    include_merged: bool = False
    now: datetime | None = None


_PRIORITY_RANK = case({p: i for i, p in enumerate(PRIORITIES)}, value=Ticket.priority, else_=-1)
_PROMISE_RANK = {state: i for i, state in enumerate(("breached", "at_risk", "on_track"))}
_SORTS: dict[str, Any] = {
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "due": Ticket.sla_due_at,
    "priority": _PRIORITY_RANK,
    "status": Ticket.status,
    "id": Ticket.id,
    "subject": Ticket.subject,
    "kind": Ticket.kind,
    "team": select(Team.name).where(Team.id == Ticket.team_id).scalar_subquery(),
    "assignee": select(User.display_name).where(User.id == Ticket.assignee_id).scalar_subquery(),
}
#: What :func:`search_tickets` sorts by (``-`` before a key: descending; see
#: :func:`kehu.core.sorting.sort_by`); ``promise`` sorts breached first, then at risk, on
#: track, and the rest.
SORT_KEYS = (*_SORTS, "promise")


def sort_columns(now: datetime) -> dict[str, Any]:
    """What each of :data:`SORT_KEYS` sorts by at ``now``."""
    rank = case(_PROMISE_RANK, value=promise_state(now), else_=len(_PROMISE_RANK))
    return {**_SORTS, "promise": rank}


def _codes(values: Sequence[str], allowed: tuple[str, ...], field: str) -> list[str]:
    bad = [c for c in values if c not in allowed]
    if bad:
        raise InputError(f"one of {', '.join(allowed)}", column=field, value=bad[0])
    return list(values)


def _word_condition(principal: Principal, term: str) -> ColumnElement[bool]:
    pattern = f"%{escape_like(term.lower())}%"
    in_messages = select(TicketMessage.ticket_id).where(
        TicketMessage.body.ilike(pattern, escape="\\")
    )
    either = [
        Ticket.subject.ilike(pattern, escape="\\"),
        Ticket.description.ilike(pattern, escape="\\"),
        Ticket.id.in_(in_messages),
    ]
    if principal.can("customers:read"):
        either.append(Ticket.customer_id.in_(matching_customer_ids(principal, term)))
    return or_(*either)


def _searched(principal: Principal, search: TicketSearch) -> Select[Any]:
    statement = select(Ticket)
    for column, values, allowed, name in (
        (Ticket.status, search.status, STATUSES, "status"),
        (Ticket.status_category, search.status_category, CATEGORIES, "status_category"),
        (Ticket.kind, search.kind, KINDS, "kind"),
        (Ticket.priority, search.priority, PRIORITIES, "priority"),
        (Ticket.channel, search.channel, CHANNELS, "channel"),
        (Ticket.value_tier, search.value_tier, VALUE_TIERS, "tier"),
        (promise_state(search.now or utc_now()), search.promise, PROMISE_STATES, "promise"),
    ):
        codes = _codes(values, allowed, name)
        if codes:
            statement = statement.where(column.in_(codes))
    if search.team_id is not None:
        statement = statement.where(Ticket.team_id == search.team_id)
    if search.assignee_id is not None:
        statement = statement.where(Ticket.assignee_id == search.assignee_id)
    if search.unassigned:
        statement = statement.where(Ticket.assignee_id.is_(None))
    if search.customer_id is not None:
        statement = statement.where(Ticket.customer_id == search.customer_id)
    if search.category_id is not None:
        statement = statement.where(Ticket.category_id == search.category_id)
    if search.customer_tag.strip():
        tagged = matching_customer_ids(principal, tag=search.customer_tag.strip())
        statement = statement.where(Ticket.customer_id.in_(tagged))
    for term in search.words.split():
        statement = statement.where(_word_condition(principal, term))
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
    order = sort_by(
        sort, sort_columns(search.now or utc_now()), default="-created_at", tiebreak=Ticket.id
    )
    return _page(session, statement, order, limit, offset)


def tickets_after(
    session: Session, principal: Principal, after_id: int, *, limit: int = 500
) -> list[TicketOut]:
    """Tickets in the caller's scope with an id above ``after_id``, oldest id first, at most
    ``limit``: for a reader that goes through new tickets incrementally (ids only grow)."""
    statement = scoped(select(Ticket).where(Ticket.id > after_id), principal, Ticket)
    rows = session.scalars(statement.order_by(Ticket.id).limit(limit))
    return [TicketOut.model_validate(t) for t in rows]


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
