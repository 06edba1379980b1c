"""Ticket use cases: file, route, work and close tickets, with an append-only event log.

Every use case takes a :class:`~sqlalchemy.orm.Session` (the caller owns the transaction), the
acting :class:`~kehu.core.auth.Principal`, and ``now`` (defaults to the clock; tests pass it). They
raise kehu errors only:

- :class:`~kehu.errors.NotFoundError` for an unknown ticket id *and* for one outside the caller's
  scope, with the same message;
- :class:`~kehu.errors.ConflictError` for an illegal status change (with the reason) and for a
  stale edit: callers pass ``expected_version`` (the ``version`` they displayed); a concurrent
  update detected at flush is a conflict too;
- :class:`~kehu.errors.InputError` naming the field for bad input.

Each change appends one or more :class:`~kehu.desk.tables.TicketEvent` rows (``before`` /
``after`` JSON, actor, UTC instant, the agent's ``handling_seconds`` for that action). Handling
time is costed at once into ``cost_to_serve`` (:func:`kehu.desk.effort.record_cost_to_serve`).
After every change the SLA clock is evaluated again from the event log and the due times stored on
the ticket (``first_response_due_at``, ``resolution_due_at``, and ``sla_due_at``, the earliest
running one, which the queue sorts by), with ``sla_next_alert_at``, when the earliest alert not
fired yet is due (the SLA check reads only the tickets it has come for).

SLA clock events come from ticket events: ``created``; ``replied`` (first response);
``paused`` (status to waiting_on_customer); ``resumed`` (out of waiting, e.g. the customer
replied); ``resolved``; ``closed`` (stops the clock like a resolution when not resolved before);
``reopened``; and any event whose ``after`` carries ``sla_policy_version_id`` (a change of
priority, kind, channel or escalation that selects another policy: ``policy_changed``).

:func:`record_event` is the one place ticket changes are recorded, so it also appends the audit
event (``ticket.<kind>`` on entity ``ticket``, the event's ``before``/``after``) in the same
transaction. Events carry ids, never message bodies (those live in ``ticket_messages``). The SLA
clock's own observations (``sla_warning``, ``sla_breached``) change nothing and are not audited;
the escalations they trigger are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kehu.core import outbox
from kehu.core.audit import record_audit
from kehu.core.auth import SYSTEM, Principal, require, scoped
from kehu.core.users.assignees import check_assignable
from kehu.customers.tables import Customer
from kehu.desk.attachment_names import attachment_name
from kehu.desk.effort import record_cost_to_serve
from kehu.desk.routing import RoutingInput, route
from kehu.desk.schemas import MAX_TEXT, TicketCreate
from kehu.desk.settings import ServiceSettings, get_service_settings
from kehu.desk.sla import (
    EventKind,
    SlaEvent,
    SlaPolicy,
    SlaStatus,
    TargetState,
    TargetStatus,
    TicketAttributes,
    evaluate,
    next_alert_due,
)
from kehu.desk.sla_store import pure_policy, select_policy_version
from kehu.desk.tables import (
    FiredAlert,
    SlaPolicyVersion,
    Team,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketEvent,
    TicketMessage,
)
from kehu.desk.workflow import (
    ACTIVE_CATEGORIES,
    PRIORITIES,
    STATUS_CATEGORIES,
    check_transition,
    status_category,
)
from kehu.errors import ConflictError, InputError, NotFoundError
from kehu.store.base import utc_now
from kehu.value.queries import value_tier_of

__all__ = [
    "EVENT_KINDS",
    "add_attachment",
    "add_customer_reply",
    "add_note",
    "assign",
    "change_priority",
    "change_status",
    "close",
    "create_ticket",
    "customer_value_tier",
    "get_ticket",
    "list_attachments",
    "list_events",
    "list_messages",
    "list_queue",
    "list_tickets",
    "merge_tickets",
    "read_attachment",
    "record_event",
    "refresh_sla",
    "reopen",
    "reply",
    "resolve",
    "sla_status",
    "split_ticket",
    "transfer",
    "update_ticket",
]

EVENT_KINDS = (
    "created",
    "assigned",
    "transferred",
    "replied",
    "customer_replied",
    "note_added",
    "paused",
    "resumed",
    "resolved",
    "reopened",
    "closed",
    "merged",
    "split",
    "priority_changed",
    "escalated",
    "sla_warning",
    "sla_breached",
    "status_changed",  # new -> in_progress without a reply
    "updated",  # subject, description, kind, channel or category edited
    "attachment_added",
)

#: events that record what the SLA clock saw, not a change: kept out of the audit log
NOT_AUDITED = frozenset({"sla_warning", "sla_breached"})

MAX_HANDLING_SECONDS = 24 * 3600
_NOT_FOUND = "no ticket with id {}"


@orm_event.listens_for(TicketEvent, "before_update")
def _events_are_append_only(*_args: Any) -> None:
    raise ConflictError("ticket events are append-only; record a new event instead")


@orm_event.listens_for(TicketEvent, "before_delete")
def _events_are_never_deleted(*_args: Any) -> None:
    raise ConflictError("ticket events are append-only and cannot be deleted")


# -- helpers ----------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    if now is None:
        return utc_now()
    if now.tzinfo is None:
        raise InputError("now must be timezone-aware", column="now")
    return now


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(
            "the ticket was changed by someone else meanwhile; reload it and try again"
        ) from None


def _text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise InputError("expected text", column=field)
    value = value.strip()
    if required and not value:
        raise InputError("must not be empty", column=field)
    if len(value) > limit:
        raise InputError(f"longer than {limit} characters", column=field)
    return value


def _handling(seconds: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise InputError("expected whole seconds", column="handling_seconds", value=seconds)
    if not 0 <= seconds <= MAX_HANDLING_SECONDS:
        raise InputError(
            f"must be between 0 and {MAX_HANDLING_SECONDS}",
            column="handling_seconds",
            value=seconds,
        )
    return seconds


def _actor_kind(principal: Principal) -> str:
    return "system" if principal.is_system else "user"


def _load(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    write: bool = False,
    expected_version: int | None = None,
) -> Ticket:
    """The ticket in the caller's scope. For a change (``write``): check ``expected_version``,
    then take the next version at once (``UPDATE ... WHERE version = <read>``), which both
    detects a concurrent change (``ConflictError``) and holds the row for the rest of the
    transaction."""
    if write:
        require(principal, "tickets:write")
    statement = scoped(select(Ticket).where(Ticket.id == ticket_id), principal, Ticket)
    ticket = session.scalars(statement).first()
    if ticket is None:
        raise NotFoundError(_NOT_FOUND.format(ticket_id))
    if write:
        _check_version(ticket, expected_version)
        ticket.version = ticket.version + 1
        _flush(session)
    return ticket


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and ticket.version != expected_version:
        raise ConflictError(
            f"ticket {ticket.id} was changed by someone else (it is at version {ticket.version}, "
            f"you edited version {expected_version}); reload it and try again"
        )


def record_event(
    session: Session,
    ticket: Ticket,
    principal: Principal,
    kind: str,
    now: datetime,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    handling_seconds: int = 0,
    actor_kind: str | None = None,
    settings: ServiceSettings | None = None,
) -> TicketEvent:
    assert kind in EVENT_KINDS, kind
    event = TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        actor_id=principal.user_id,
        actor_kind=actor_kind or _actor_kind(principal),
        at=now,
        before=before or {},
        after=after or {},
        handling_seconds=handling_seconds,
    )
    session.add(event)
    session.flush()
    if handling_seconds:
        record_cost_to_serve(
            session,
            customer_id=ticket.customer_id,
            handling_seconds=handling_seconds,
            event_id=event.id,
            recorded_at=now,
            settings=settings,
        )
    if kind not in NOT_AUDITED:
        record_audit(
            session, principal, f"ticket.{kind}", "ticket", ticket.id, before or None, after or None
        )
    return event


def customer_value_tier(session: Session, customer_id: int) -> str | None:
    """The customer's latest value tier (from the value engine's ``customer_scores``)."""
    return value_tier_of(session, customer_id)


def _attributes(ticket: Ticket) -> TicketAttributes:
    return TicketAttributes(
        priority=ticket.priority,
        kind=ticket.kind,
        channel=ticket.channel,
        value_tier=ticket.value_tier,
    )


def _reselect_policy(session: Session, ticket: Ticket, after: dict[str, Any]) -> None:
    """After a change of the ticket's attributes: switch to the policy that applies now, if it
    is another one (noted in ``after``, which the SLA clock reads as ``policy_changed``). No
    policy matching any more keeps the one the ticket has."""
    ticket.value_tier = customer_value_tier(session, ticket.customer_id)
    chosen = select_policy_version(session, _attributes(ticket))
    if chosen is None or chosen.id == ticket.sla_policy_version_id:
        return
    current = (
        session.get(SlaPolicyVersion, ticket.sla_policy_version_id)
        if ticket.sla_policy_version_id is not None
        else None
    )
    if current is not None and current.policy_id == chosen.policy_id:
        return  # the same policy, edited since: the ticket keeps the version it was promised
    ticket.sla_policy_version_id = chosen.id
    after["sla_policy_version_id"] = chosen.id


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


def _sla_inputs(session: Session, ticket: Ticket) -> tuple[SlaPolicy, list[SlaEvent]] | None:
    events = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.at, TicketEvent.id)
    ).all()
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
    inputs = _sla_inputs(session, ticket)
    if inputs is None:
        return None
    policy, events = inputs
    return evaluate(policy, events, max(now, ticket.created_at))


def refresh_sla(session: Session, ticket: Ticket, now: datetime) -> SlaStatus | None:
    """Evaluate the SLA clock and store the due times, when the SLA check must next look at
    the ticket (``sla_next_alert_at``) and, once resolved, whether the promise was kept.

    The clock is read as the ticket stands after its last event, ``now`` or later: an SLA
    check that began before an agent's change must not store the times of the ticket as it
    was (a resume it did not see would leave the next alert unscheduled)."""
    session.flush()
    inputs = _sla_inputs(session, ticket)
    if inputs is None:
        ticket.first_response_due_at = ticket.resolution_due_at = ticket.sla_due_at = None
        ticket.sla_next_alert_at = None
        ticket.sla_kept = None
        return None
    policy, events = inputs
    status = evaluate(policy, events, max(now, ticket.created_at, *(e.at for e in events)))

    def running_due(target: TargetStatus) -> datetime | None:
        if target.stopped_at is not None or target.state is TargetState.PAUSED:
            return None
        return target.due

    ticket.first_response_due_at = running_due(status.first_response)
    ticket.resolution_due_at = running_due(status.resolution)
    dues = [d for d in (ticket.first_response_due_at, ticket.resolution_due_at) if d]
    ticket.sla_due_at = min(dues) if dues else None
    ticket.sla_kept = status.kept if ticket.merged_into_id is None else None
    ticket.sla_next_alert_at = None
    if ticket.status_category in ACTIVE_CATEGORIES:  # the only tickets the SLA check looks at
        raised = set(
            session.scalars(select(FiredAlert.alert_key).where(FiredAlert.ticket_id == ticket.id))
        )
        ticket.sla_next_alert_at = next_alert_due(status, raised)
    return status


def _touch(session: Session, ticket: Ticket, now: datetime) -> None:
    """End of a change: due times recalculated, flushed."""
    ticket.updated_at = now
    refresh_sla(session, ticket, now)
    _flush(session)


def _set_status(
    session: Session,
    ticket: Ticket,
    principal: Principal,
    target: str,
    now: datetime,
    *,
    handling_seconds: int = 0,
    actor_kind: str | None = None,
    settings: ServiceSettings | None = None,
    extra: dict[str, Any] | None = None,
) -> TicketEvent:
    """Move to ``target`` (checked) and record the event the move means."""
    current = ticket.status
    check_transition(current, target)
    if target == "waiting_on_customer":
        kind = "paused"
    elif target == "resolved":
        kind = "resolved"
        ticket.resolved_at = now
    elif target == "closed":
        kind = "closed"
        ticket.closed_at = now
    elif current == "resolved":
        kind = "reopened"
        ticket.resolved_at = None
    elif current == "waiting_on_customer":
        kind = "resumed"
    else:
        kind = "status_changed"
    ticket.status = target
    ticket.status_category = status_category(target)
    return record_event(
        session,
        ticket,
        principal,
        kind,
        now,
        before={"status": current},
        after={"status": target, **(extra or {})},
        handling_seconds=handling_seconds,
        actor_kind=actor_kind,
        settings=settings,
    )


def _check_category(session: Session, category_id: int | None) -> None:
    if category_id is not None and session.get(TicketCategory, category_id) is None:
        raise InputError("no such category", column="category_id", value=category_id)


def _check_team(session: Session, team_id: int | None) -> None:
    if team_id is not None and session.get(Team, team_id) is None:
        raise InputError("no such team", column="team_id", value=team_id)


def _promise_text(ticket: Ticket) -> str:
    if ticket.first_response_due_at is None:
        return "We will answer as soon as we can."
    due = ticket.first_response_due_at.strftime("%Y-%m-%d %H:%M UTC")
    text = f"We promise a first answer by {due}"
    if ticket.resolution_due_at is not None:
        text += f" and a resolution by {ticket.resolution_due_at.strftime('%Y-%m-%d %H:%M UTC')}"
    return text + "."


# -- creating ---------------------------------------------------------------------------------


def create_ticket(
    session: Session,
    principal: Principal,
    data: TicketCreate,
    *,
    now: datetime | None = None,
    settings: ServiceSettings | None = None,
    acknowledge: bool = True,
    recipient: str | None = None,
    handling_seconds: int = 0,
) -> Ticket:
    """File a ticket: link repeats, route it to a team, give it its SLA policy version, record
    ``created`` and queue the acknowledgement (with the promise) in the outbox."""
    require(principal, "tickets:write")
    now = _now(now)
    settings = settings or get_service_settings()
    handling_seconds = _handling(handling_seconds)
    if session.scalar(select(Customer.id).where(Customer.id == data.customer_id)) is None:
        raise InputError("no such customer", column="customer_id", value=data.customer_id)
    _check_category(session, data.category_id)
    _check_team(session, data.team_id)
    check_assignable(session, data.assignee_id, column="assignee_id")
    return _create(
        session,
        principal,
        data,
        now,
        settings,
        acknowledge=acknowledge,
        recipient=recipient,
        handling_seconds=handling_seconds,
    )


def _create(
    session: Session,
    principal: Principal,
    data: TicketCreate,
    now: datetime,
    settings: ServiceSettings,
    *,
    acknowledge: bool,
    recipient: str | None,
    handling_seconds: int,
    split_from: Ticket | None = None,
) -> Ticket:
    tier = customer_value_tier(session, data.customer_id)
    repeat_of_id = None
    if data.category_id is not None and split_from is None:
        window_start = now - timedelta(days=settings.repeat_window_days)
        repeat_of_id = session.scalar(
            select(Ticket.id)
            .where(
                Ticket.customer_id == data.customer_id,
                Ticket.category_id == data.category_id,
                Ticket.created_at >= window_start,
                Ticket.created_at <= now,
                Ticket.merged_into_id.is_(None),
            )
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(1)
        )
    team_id = data.team_id
    if team_id is None:
        team_id = route(
            session,
            RoutingInput(data.kind, data.channel, data.priority, data.category_id, tier),
        )
    attributes = TicketAttributes(data.priority, data.kind, data.channel, tier)
    policy = select_policy_version(session, attributes)
    ticket = Ticket(
        customer_id=data.customer_id,
        kind=data.kind,
        channel=data.channel,
        priority=data.priority,
        status="new",
        status_category=STATUS_CATEGORIES["new"],
        subject=data.subject,
        description=data.description,
        team_id=team_id,
        assignee_id=data.assignee_id,
        category_id=data.category_id,
        repeat_of_id=repeat_of_id,
        split_from_id=split_from.id if split_from is not None else None,
        sla_policy_version_id=policy.id if policy is not None else None,
        value_tier=tier,
        created_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    after = {
        "kind": ticket.kind,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "status": ticket.status,
        "team_id": team_id,
        "assignee_id": ticket.assignee_id,
        "category_id": ticket.category_id,
        "repeat_of_id": repeat_of_id,
        "sla_policy_version_id": ticket.sla_policy_version_id,
    }
    if split_from is not None:
        after["split_from_id"] = split_from.id
    record_event(
        session,
        ticket,
        principal,
        "created",
        now,
        after=after,
        handling_seconds=handling_seconds,
        settings=settings,
    )
    _touch(session, ticket, now)
    if acknowledge:
        outbox.enqueue(
            session,
            purpose="acknowledgement",
            customer_id=ticket.customer_id,
            regarding=("ticket", ticket.id),
            recipient=recipient,
            subject=f"[#{ticket.id}] We received your message: {ticket.subject}",
            body=(
                f"Thank you for contacting us. Your reference is #{ticket.id}.\n\n"
                f"{_promise_text(ticket)}\n"
            ),
            now=now,
            dedupe_key=f"ticket:{ticket.id}:acknowledgement",
        )
    return ticket


# -- reading ----------------------------------------------------------------------------------


def get_ticket(session: Session, principal: Principal, ticket_id: int) -> Ticket:
    """The ticket, if it exists and is in the caller's scope (else ``NotFoundError``)."""
    return _load(session, principal, ticket_id)


def list_queue(
    session: Session,
    principal: Principal,
    *,
    team_id: int | None = None,
    assignee_id: int | None = None,
    categories: Sequence[str] = ACTIVE_CATEGORIES,
    limit: int = 50,
    offset: int = 0,
) -> list[Ticket]:
    """Tickets still to work on, in the caller's scope, most urgent promise first (earliest
    ``sla_due_at``; tickets without a running target last, oldest first)."""
    statement = select(Ticket).where(
        Ticket.status_category.in_(list(categories)), Ticket.merged_into_id.is_(None)
    )
    if team_id is not None:
        statement = statement.where(Ticket.team_id == team_id)
    if assignee_id is not None:
        statement = statement.where(Ticket.assignee_id == assignee_id)
    statement = scoped(statement, principal, Ticket).order_by(
        Ticket.sla_due_at.is_(None), Ticket.sla_due_at, Ticket.created_at, Ticket.id
    )
    return list(session.scalars(statement.limit(limit).offset(offset)))


def list_tickets(
    session: Session,
    principal: Principal,
    *,
    customer_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Ticket]:
    """Tickets in the caller's scope, newest first (optionally of one customer)."""
    statement = select(Ticket)
    if customer_id is not None:
        statement = statement.where(Ticket.customer_id == customer_id)
    statement = scoped(statement, principal, Ticket).order_by(
        Ticket.created_at.desc(), Ticket.id.desc()
    )
    return list(session.scalars(statement.limit(limit).offset(offset)))


def list_events(session: Session, principal: Principal, ticket_id: int) -> list[TicketEvent]:
    _load(session, principal, ticket_id)
    return list(
        session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    )


def list_messages(
    session: Session, principal: Principal, ticket_id: int, *, include_internal: bool = True
) -> list[TicketMessage]:
    _load(session, principal, ticket_id)
    statement = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
    if not include_internal:
        statement = statement.where(TicketMessage.internal.is_(False))
    return list(session.scalars(statement.order_by(TicketMessage.created_at, TicketMessage.id)))


# -- working ----------------------------------------------------------------------------------


def assign(
    session: Session,
    principal: Principal,
    ticket_id: int,
    assignee_id: int | None,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: ServiceSettings | None = None,
) -> Ticket:
    """Give the ticket to ``assignee_id`` (``None``: unassign). A change from one agent to
    another is a hand-off (see :mod:`kehu.desk.effort`)."""
    now = _now(now)
    ticket = _load(session, principal, ticket_id, write=True, expected_version=expected_version)
    check_assignable(session, assignee_id, column="assignee_id")
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot be assigned")
    if assignee_id == ticket.assignee_id:
        return ticket
    before = {"assignee_id": ticket.assignee_id}
    ticket.assignee_id = assignee_id
    record_event(
        session,
        ticket,
        principal,
        "assigned",
        now,
        before=before,
        after={"assignee_id": assignee_id},
        handling_seconds=_handling(handling_seconds),
        settings=settings,
    )
    _touch(session, ticket, now)
    return ticket


def transfer(
    session: Session,
    principal: Principal,
    ticket_id: int,
    team_id: int,
    *,
    reason: str = "",
    assignee_id: int | None = None,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: ServiceSettings | None = None,
) -> Ticket:
    """Move the ticket to another team (the assignee is cleared unless one is given)."""
    now = _now(now)
    ticket = _load(session, principal, ticket_id, write=True, expected_version=expected_version)
    _check_team(session, team_id)
    check_assignable(session, assignee_id, column="assignee_id")
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot be transferred")
    if team_id == ticket.team_id:
        raise ConflictError(f"the ticket is already with team {team_id}")
    before = {"team_id": ticket.team_id, "assignee_id": ticket.assignee_id}
    ticket.team_id = team_id
    ticket.assignee_id = assignee_id
    record_event(
        session,
        ticket,
        principal,
        "transferred",
        now,
        before=before,
        after={
            "team_id": team_id,
            "assignee_id": assignee_id,
            "reason": _text(reason, "reason", required=False, limit=2000),
        },
        handling_seconds=_handling(handling_seconds),
        settings=settings,
    )
    _touch(session, ticket, now)
    return ticket


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
    settings: ServiceSettings | None = None,
    recipient: str | None = None,
) -> Ticket:
    """An agent's reply to the customer (queued in the outbox). The first reply is the first
    response; a new ticket goes to in_progress, and with ``wait_for_customer`` the ticket waits
    on the customer (the SLA clock pauses)."""
    now = _now(now)
    body = _text(body, "body")
    ticket = _load(session, principal, ticket_id, write=True, expected_version=expected_version)
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot be replied to; file a new ticket")
    if wait_for_customer and ticket.status == "resolved":
        raise ConflictError("reopen the resolved ticket before waiting on the customer")
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
        after={"message_id": message.id},
        handling_seconds=_handling(handling_seconds),
        settings=settings,
    )
    if wait_for_customer and ticket.status != "waiting_on_customer":
        _set_status(session, ticket, principal, "waiting_on_customer", now, settings=settings)
    elif ticket.status == "new":
        _set_status(session, ticket, principal, "in_progress", now, settings=settings)
    _touch(session, ticket, now)
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
    settings: ServiceSettings | None = None,
) -> Ticket:
    """The customer wrote again (status page, e-mail, a call logged by an agent). A ticket
    waiting on the customer resumes (the SLA clock runs again); a resolved one is reopened; a
    closed one refuses (the customer files a new ticket, linked as a repeat)."""
    now = _now(now)
    body = _text(body, "body")
    ticket = _load(session, principal, ticket_id, write=True)
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
        _set_status(
            session, ticket, principal, "in_progress", now, actor_kind="customer", settings=settings
        )
    _touch(session, ticket, now)
    return ticket


def add_note(
    session: Session,
    principal: Principal,
    ticket_id: int,
    body: str,
    *,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: ServiceSettings | None = None,
) -> TicketMessage:
    """An internal note (never sent to the customer)."""
    now = _now(now)
    body = _text(body, "body")
    ticket = _load(session, principal, ticket_id, write=True)
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
        after={"message_id": message.id},
        handling_seconds=_handling(handling_seconds),
        settings=settings,
    )
    _touch(session, ticket, now)
    return message


def change_status(
    session: Session,
    principal: Principal,
    ticket_id: int,
    status: str,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: ServiceSettings | None = None,
    resolution: str | None = None,
) -> Ticket:
    """Move the ticket along the transition table (illegal moves: ``ConflictError`` with the
    reason). To waiting_on_customer pauses the SLA clock, out of it resumes it."""
    now = _now(now)
    ticket = _load(session, principal, ticket_id, write=True, expected_version=expected_version)
    extra = {}
    if resolution:
        extra["resolution"] = _text(resolution, "resolution", limit=2000)
    _set_status(
        session,
        ticket,
        principal,
        status,
        now,
        handling_seconds=_handling(handling_seconds),
        settings=settings,
        extra=extra,
    )
    _touch(session, ticket, now)
    return ticket


def resolve(session: Session, principal: Principal, ticket_id: int, **options: Any) -> Ticket:
    return change_status(session, principal, ticket_id, "resolved", **options)


def reopen(session: Session, principal: Principal, ticket_id: int, **options: Any) -> Ticket:
    ticket = _load(session, principal, ticket_id)
    if ticket.status != "resolved":
        raise ConflictError(f"only a resolved ticket can be reopened; this one is {ticket.status}")
    return change_status(session, principal, ticket_id, "in_progress", **options)


def close(session: Session, principal: Principal, ticket_id: int, **options: Any) -> Ticket:
    return change_status(session, principal, ticket_id, "closed", **options)


def change_priority(
    session: Session,
    principal: Principal,
    ticket_id: int,
    priority: str,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: ServiceSettings | None = None,
    kind: str = "priority_changed",
    extra: dict[str, Any] | None = None,
) -> Ticket:
    """Change the priority; if another policy applies now the ticket switches to it from this
    instant (business time consumed so far is kept) and its due times are recalculated."""
    now = _now(now)
    if priority not in PRIORITIES:
        raise InputError(
            f"unknown priority; priorities are {', '.join(PRIORITIES)}",
            column="priority",
            value=priority,
        )
    ticket = _load(session, principal, ticket_id, write=True, expected_version=expected_version)
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot change priority")
    if ticket.priority == priority and kind == "priority_changed":
        return ticket
    before = {"priority": ticket.priority}
    ticket.priority = priority
    after: dict[str, Any] = {"priority": priority, **(extra or {})}
    _reselect_policy(session, ticket, after)
    record_event(
        session,
        ticket,
        principal,
        kind,
        now,
        before=before,
        after=after,
        handling_seconds=_handling(handling_seconds),
        settings=settings,
    )
    _touch(session, ticket, now)
    return ticket


def update_ticket(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: ServiceSettings | None = None,
    **changes: Any,
) -> Ticket:
    """Edit ``subject``, ``description``, ``kind``, ``channel`` or ``category_id``."""
    from kehu.desk.workflow import CHANNELS, KINDS

    now = _now(now)
    ticket = _load(session, principal, ticket_id, write=True, expected_version=expected_version)
    allowed = {"subject", "description", "kind", "channel", "category_id"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InputError("this field cannot be edited here", column=unknown[0])
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot be edited")
    if "subject" in changes:
        changes["subject"] = _text(changes["subject"], "subject", limit=300)
    if "description" in changes:
        changes["description"] = _text(changes["description"], "description", required=False)
    if "kind" in changes and changes["kind"] not in KINDS:
        raise InputError(f"kinds are {', '.join(KINDS)}", column="kind", value=changes["kind"])
    if "channel" in changes and changes["channel"] not in CHANNELS:
        raise InputError(
            f"channels are {', '.join(CHANNELS)}", column="channel", value=changes["channel"]
        )
    if "category_id" in changes:
        _check_category(session, changes["category_id"])
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        if getattr(ticket, name) != value:
            before[name] = getattr(ticket, name)
            after[name] = value
            setattr(ticket, name, value)
    if not after:
        return ticket
    if "kind" in after or "channel" in after:
        _reselect_policy(session, ticket, after)
    record_event(
        session,
        ticket,
        principal,
        "updated",
        now,
        before=before,
        after=after,
        handling_seconds=_handling(handling_seconds),
        settings=settings,
    )
    _touch(session, ticket, now)
    return ticket


def merge_tickets(
    session: Session,
    principal: Principal,
    source_id: int,
    target_id: int,
    *,
    now: datetime | None = None,
    settings: ServiceSettings | None = None,
    handling_seconds: int = 0,
) -> Ticket:
    """Merge ``source`` into ``target`` (same customer): the source is closed with
    ``merged_into_id``; both get a ``merged`` event. Returns the target."""
    now = _now(now)
    if source_id == target_id:
        raise InputError("a ticket cannot be merged into itself", column="target_id")
    source = _load(session, principal, source_id, write=True)
    target = _load(session, principal, target_id, write=True)
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
        handling_seconds=_handling(handling_seconds),
        settings=settings,
    )
    _set_status(session, source, principal, "closed", now, settings=settings)
    record_event(session, target, principal, "merged", now, after={"merged_from_id": source.id})
    _touch(session, source, now)
    _touch(session, target, now)
    return target


def split_ticket(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    subject: str,
    description: str = "",
    now: datetime | None = None,
    settings: ServiceSettings | None = None,
    handling_seconds: int = 0,
) -> Ticket:
    """A new ticket for a separate matter raised in ``ticket_id`` (same customer, kind, channel,
    priority, category and team); both record ``split``. Returns the new ticket."""
    now = _now(now)
    settings = settings or get_service_settings()
    original = _load(session, principal, ticket_id, write=True)
    if original.status == "closed":
        raise ConflictError("a closed ticket cannot be split")
    data = TicketCreate(
        customer_id=original.customer_id,
        kind=original.kind,  # type: ignore[arg-type]
        channel=original.channel,  # type: ignore[arg-type]
        subject=_text(subject, "subject", limit=300),
        description=_text(description, "description", required=False),
        priority=original.priority,  # type: ignore[arg-type]
        category_id=original.category_id,
        team_id=original.team_id,
    )
    new = _create(
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
        handling_seconds=_handling(handling_seconds),
        settings=settings,
    )
    _touch(session, original, now)
    return new


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
    settings: ServiceSettings | None = None,
) -> TicketAttachment:
    """Attach a file. Refused (``InputError``): over the size limit, a type outside png, jpeg,
    pdf and plain text, or a declared type its bytes do not match. Bytes are kept in the database,
    or under ``attachment_dir`` when set (named by their SHA-256, never by the user's name); the
    name is kept in its own script, made safe by :func:`attachment_name`."""
    now = _now(now)
    settings = settings or get_service_settings()
    ticket = _load(session, principal, ticket_id, write=True)
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
    )
    _touch(session, ticket, now)
    return attachment


def list_attachments(
    session: Session, principal: Principal, ticket_id: int
) -> list[TicketAttachment]:
    _load(session, principal, ticket_id)
    return list(
        session.scalars(
            select(TicketAttachment)
            .where(TicketAttachment.ticket_id == ticket_id)
            .order_by(TicketAttachment.id)
        )
    )


def read_attachment(
    session: Session,
    principal: Principal,
    attachment_id: int,
    *,
    settings: ServiceSettings | None = None,
) -> tuple[TicketAttachment, bytes]:
    """The attachment and its bytes (``NotFoundError`` if its ticket is out of scope)."""
    settings = settings or get_service_settings()
    attachment = session.get(TicketAttachment, attachment_id)
    message = f"no attachment with id {attachment_id}"
    if attachment is None:
        raise NotFoundError(message)
    try:
        _load(session, principal, attachment.ticket_id)
    except NotFoundError:
        raise NotFoundError(message) from None
    if attachment.content is not None:
        return attachment, attachment.content
    if settings.attachment_dir is None or attachment.storage_path is None:
        raise NotFoundError(f"{message} (its file store is not configured)")
    return attachment, (Path(settings.attachment_dir) / attachment.storage_path).read_bytes()


# used by the SLA check (kehu.desk.worker)
SYSTEM_PRINCIPAL = SYSTEM
