"""Ticket commands: file, route, assign, transfer, change status and priority, edit; the
append-only event log every change is recorded in, and the SLA due times refreshed after it.

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

A change is made of the same steps wherever it is: :func:`load_for_change` (scope, permission,
version lock), the change, :func:`record_event` (and :func:`set_status` for a status move),
:func:`finish_change` (SLA due times, flush). :mod:`kehu.desk.ticket_messages` (replies, notes,
attachments) and :mod:`kehu.desk.ticket_merge` (merge and split) build on them; reads are in
:mod:`kehu.desk.ticket_queries`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kehu.core import outbox
from kehu.core.audit import record_audit
from kehu.core.auth import SYSTEM, Principal, require
from kehu.core.config import Settings
from kehu.core.events import TicketResolved, publish
from kehu.core.users.assignees import check_assignable
from kehu.customers.queries import customer_exists, preferred_language
from kehu.desk.assignment import check_may_work, pick_assignee
from kehu.desk.effort import record_cost_to_serve
from kehu.desk.messages import received_message
from kehu.desk.notifications import notify_ticket_change
from kehu.desk.routing import RoutingInput, route
from kehu.desk.schemas import MAX_TEXT, TicketCreate
from kehu.desk.sla import (
    SlaStatus,
    TargetState,
    TargetStatus,
    TicketAttributes,
    evaluate,
    next_alert_due,
)
from kehu.desk.sla_store import promise_zone, select_policy_version
from kehu.desk.tables import FiredAlert, SlaPolicyVersion, Team, Ticket, TicketCategory, TicketEvent
from kehu.desk.ticket_queries import get_ticket, sla_inputs
from kehu.desk.workflow import (
    ACTIVE_CATEGORIES,
    CHANNELS,
    KINDS,
    PRIORITIES,
    STATUS_CATEGORIES,
    check_transition,
    status_category,
)
from kehu.errors import ConflictError, InputError
from kehu.store.base import utc_now
from kehu.value.queries import value_tier_of

__all__ = [
    "EVENT_KINDS",
    "MAX_HANDLING_SECONDS",
    "assign",
    "auto_assign",
    "change_priority",
    "change_status",
    "checked_handling",
    "checked_now",
    "checked_text",
    "claim",
    "close",
    "create_ticket",
    "customer_value_tier",
    "finish_change",
    "insert_ticket",
    "load_for_change",
    "record_event",
    "refresh_sla",
    "reopen",
    "resolve",
    "set_status",
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


@orm_event.listens_for(TicketEvent, "before_update")
def _events_are_append_only(*_args: Any) -> None:
    raise ConflictError("ticket events are append-only; record a new event instead")


@orm_event.listens_for(TicketEvent, "before_delete")
def _events_are_never_deleted(*_args: Any) -> None:
    raise ConflictError("ticket events are append-only and cannot be deleted")


# -- the steps of a change -------------------------------------------------------------------


def checked_now(now: datetime | None) -> datetime:
    """``now``, or the clock when not given (``InputError`` when naive)."""
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


def checked_text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """``value`` stripped, checked against ``limit`` (and not empty when ``required``)."""
    if not isinstance(value, str):
        raise InputError("expected text", column=field)
    value = value.strip()
    if required and not value:
        raise InputError("must not be empty", column=field)
    if len(value) > limit:
        raise InputError(f"longer than {limit} characters", column=field)
    return value


def checked_handling(seconds: int) -> int:
    """The agent's handling time for one action: whole seconds, at most a day."""
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


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and ticket.version != expected_version:
        raise ConflictError(
            f"ticket {ticket.id} was changed by someone else (it is at version {ticket.version}, "
            f"you edited version {expected_version}); reload it and try again"
        )


def load_for_change(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    expected_version: int | None = None,
) -> Ticket:
    """The ticket in the caller's scope, to change (needs ``tickets:write``): check
    ``expected_version``, then take the next version at once (``UPDATE ... WHERE version =
    <read>``), which both detects a concurrent change (``ConflictError``) and holds the row for
    the rest of the transaction."""
    require(principal, "tickets:write")
    ticket = get_ticket(session, principal, ticket_id)
    _check_version(ticket, expected_version)
    ticket.version = ticket.version + 1
    _flush(session)
    return ticket


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
    settings: Settings,
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
    # whoever a change concerns hears of it (assigned to them, mentioned, a promise at risk)
    notify_ticket_change(
        session,
        ticket,
        principal,
        kind,
        now,
        before=before or {},
        after=after or {},
        settings=settings,
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


def refresh_sla(session: Session, ticket: Ticket, now: datetime) -> SlaStatus | None:
    """Evaluate the SLA clock and store the due times, when the SLA check must next look at
    the ticket (``sla_next_alert_at``) and, once resolved, whether the promise was kept.

    The clock is read as the ticket stands after its last event, ``now`` or later: an SLA
    check that began before an agent's change must not store the times of the ticket as it
    was (a resume it did not see would leave the next alert unscheduled)."""
    session.flush()
    inputs = sla_inputs(session, ticket)
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


def finish_change(session: Session, ticket: Ticket, now: datetime) -> None:
    """End of a change: due times recalculated, flushed."""
    ticket.updated_at = now
    refresh_sla(session, ticket, now)
    _flush(session)


def _changed(
    session: Session,
    ticket: Ticket,
    principal: Principal,
    kind: str,
    now: datetime,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    handling_seconds: int,
    settings: Settings,
) -> Ticket:
    """The end of every change command: the event (with its handling time and cost), then the
    version, the SLA clock and the next alert (:func:`finish_change`)."""
    record_event(
        session,
        ticket,
        principal,
        kind,
        now,
        before=before,
        after=after,
        handling_seconds=checked_handling(handling_seconds),
        settings=settings,
    )
    finish_change(session, ticket, now)
    return ticket


def set_status(
    session: Session,
    ticket: Ticket,
    principal: Principal,
    target: str,
    now: datetime,
    *,
    handling_seconds: int = 0,
    actor_kind: str | None = None,
    settings: Settings,
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
    recorded = record_event(
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
    if target == "resolved":
        # satisfaction surveys (kehu.feedback.invitations) and retention follow-ups listen
        publish(
            session,
            TicketResolved(
                at=now,
                actor_id=principal.user_id,
                ticket_id=ticket.id,
                customer_id=ticket.customer_id,
                kind=ticket.kind,
            ),
        )
    return recorded


def _check_category(session: Session, category_id: int | None) -> None:
    if category_id is not None and session.get(TicketCategory, category_id) is None:
        raise InputError("no such category", column="category_id", value=category_id)


def _check_team(session: Session, team_id: int | None) -> None:
    if team_id is not None and session.get(Team, team_id) is None:
        raise InputError("no such team", column="team_id", value=team_id)


# -- creating ---------------------------------------------------------------------------------


def create_ticket(
    session: Session,
    principal: Principal,
    data: TicketCreate,
    *,
    now: datetime | None = None,
    settings: Settings,
    acknowledge: bool = True,
    recipient: str | None = None,
    handling_seconds: int = 0,
) -> Ticket:
    """File a ticket: link repeats, route it to a team, give it its SLA policy version, record
    ``created`` and queue the acknowledgement (with the promise) in the outbox."""
    require(principal, "tickets:write")
    now = checked_now(now)
    handling_seconds = checked_handling(handling_seconds)
    if not customer_exists(session, data.customer_id):
        raise InputError("no such customer", column="customer_id", value=data.customer_id)
    _check_category(session, data.category_id)
    _check_team(session, data.team_id)
    check_assignable(session, data.assignee_id, column="assignee_id")
    return insert_ticket(
        session,
        principal,
        data,
        now,
        settings,
        acknowledge=acknowledge,
        recipient=recipient,
        handling_seconds=handling_seconds,
    )


def insert_ticket(
    session: Session,
    principal: Principal,
    data: TicketCreate,
    now: datetime,
    settings: Settings,
    *,
    acknowledge: bool,
    recipient: str | None,
    handling_seconds: int,
    split_from: Ticket | None = None,
) -> Ticket:
    """The new ticket, routed, promised, recorded and acknowledged: :func:`create_ticket` and
    :func:`kehu.desk.ticket_merge.split_ticket` (with ``split_from``) check their input first."""
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
    auto_assign(session, ticket, now, settings=settings)
    finish_change(session, ticket, now)
    if acknowledge:
        told = received_message(
            ticket_id=ticket.id,
            subject=ticket.subject,
            first_response_due=ticket.first_response_due_at,
            resolution_due=ticket.resolution_due_at,
            zone=promise_zone(session, ticket.sla_policy_version_id, default=settings.timezone),
            language=preferred_language(session, ticket.customer_id),
        )
        outbox.enqueue(
            session,
            purpose="acknowledgement",
            customer_id=ticket.customer_id,
            regarding=("ticket", ticket.id),
            recipient=recipient,
            subject=told.subject,
            body=told.body,
            now=now,
            dedupe_key=f"ticket:{ticket.id}:acknowledgement",
        )
    return ticket


# -- working ----------------------------------------------------------------------------------


def auto_assign(session: Session, ticket: Ticket, now: datetime, *, settings: Settings) -> bool:
    """A ticket that arrived in a team without an assignee: give it to the member the team's
    automatic assignment picks (:mod:`kehu.desk.assignment`), recorded as an ``assigned``
    event of the system naming the rule. Whether it was assigned."""
    if ticket.team_id is None or ticket.assignee_id is not None:
        return False
    picked = pick_assignee(session, ticket.team_id, now)
    if picked is None:
        return False
    user_id, rule = picked
    ticket.assignee_id = user_id
    record_event(
        session,
        ticket,
        SYSTEM,
        "assigned",
        now,
        before={"assignee_id": None},
        after={"assignee_id": user_id, "rule": rule},
        actor_kind="system",
        settings=settings,
    )
    return True


def assign(
    session: Session,
    principal: Principal,
    ticket_id: int,
    assignee_id: int | None,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
    claimed: bool = False,
    within_team: bool = False,
) -> Ticket:
    """Give the ticket to ``assignee_id`` (``None``: unassign). With ``within_team`` (the
    ticket page, a claim) the assignee must be allowed to work the ticket's team
    (:func:`kehu.desk.assignment.check_may_work`); without it any active user, as the API has
    always allowed. A change from one agent to another is a hand-off (see
    :mod:`kehu.desk.effort`)."""
    now = checked_now(now)
    ticket = load_for_change(session, principal, ticket_id, expected_version=expected_version)
    check_assignable(session, assignee_id, column="assignee_id")
    if assignee_id is not None and within_team:
        check_may_work(session, assignee_id, ticket.team_id, now, column="assignee_id")
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot be assigned")
    if assignee_id == ticket.assignee_id:
        return ticket
    before = {"assignee_id": ticket.assignee_id}
    ticket.assignee_id = assignee_id
    after: dict[str, Any] = {"assignee_id": assignee_id}
    if claimed:
        after["claimed"] = True
    return _changed(
        session,
        ticket,
        principal,
        "assigned",
        now,
        before=before,
        after=after,
        handling_seconds=handling_seconds,
        settings=settings,
    )


def claim(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
) -> Ticket:
    """ "Take it": the caller assigns the ticket to themself (an ``assigned`` event marked
    ``claimed``). A ticket someone else holds is taken over, which is a hand-off; a stale
    ``expected_version`` is a conflict like every change."""
    if principal.user_id is None or principal.is_system:
        raise InputError("only a signed-in user can take a ticket", column="assignee_id")
    return assign(
        session,
        principal,
        ticket_id,
        principal.user_id,
        expected_version=expected_version,
        handling_seconds=handling_seconds,
        now=now,
        settings=settings,
        claimed=True,
        within_team=True,
    )


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
    settings: Settings,
) -> Ticket:
    """Move the ticket to another team (the assignee is cleared unless one is given)."""
    now = checked_now(now)
    ticket = load_for_change(session, principal, ticket_id, expected_version=expected_version)
    _check_team(session, team_id)
    check_assignable(session, assignee_id, column="assignee_id")
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot be transferred")
    if team_id == ticket.team_id:
        raise ConflictError(f"the ticket is already with team {team_id}")
    before = {"team_id": ticket.team_id, "assignee_id": ticket.assignee_id}
    ticket.team_id = team_id
    ticket.assignee_id = assignee_id
    _changed(
        session,
        ticket,
        principal,
        "transferred",
        now,
        before=before,
        after={
            "team_id": team_id,
            "assignee_id": assignee_id,
            "reason": checked_text(reason, "reason", required=False, limit=2000),
        },
        handling_seconds=handling_seconds,
        settings=settings,
    )
    # arriving without an assignee: the new team's automatic assignment, if it has one
    if auto_assign(session, ticket, now, settings=settings):
        finish_change(session, ticket, now)
    return ticket


def change_status(
    session: Session,
    principal: Principal,
    ticket_id: int,
    status: str,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
    resolution: str | None = None,
) -> Ticket:
    """Move the ticket along the transition table (illegal moves: ``ConflictError`` with the
    reason). To waiting_on_customer pauses the SLA clock, out of it resumes it."""
    now = checked_now(now)
    ticket = load_for_change(session, principal, ticket_id, expected_version=expected_version)
    extra = {}
    if resolution:
        extra["resolution"] = checked_text(resolution, "resolution", limit=2000)
    set_status(
        session,
        ticket,
        principal,
        status,
        now,
        handling_seconds=checked_handling(handling_seconds),
        settings=settings,
        extra=extra,
    )
    finish_change(session, ticket, now)
    return ticket


def resolve(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
    resolution: str | None = None,
) -> Ticket:
    return change_status(
        session,
        principal,
        ticket_id,
        "resolved",
        expected_version=expected_version,
        handling_seconds=handling_seconds,
        now=now,
        settings=settings,
        resolution=resolution,
    )


def reopen(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
) -> Ticket:
    ticket = get_ticket(session, principal, ticket_id)
    if ticket.status != "resolved":
        raise ConflictError(f"only a resolved ticket can be reopened; this one is {ticket.status}")
    return change_status(
        session,
        principal,
        ticket_id,
        "in_progress",
        expected_version=expected_version,
        handling_seconds=handling_seconds,
        now=now,
        settings=settings,
    )


def close(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
) -> Ticket:
    return change_status(
        session,
        principal,
        ticket_id,
        "closed",
        expected_version=expected_version,
        handling_seconds=handling_seconds,
        now=now,
        settings=settings,
    )


def change_priority(
    session: Session,
    principal: Principal,
    ticket_id: int,
    priority: str,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
    kind: str = "priority_changed",
    extra: dict[str, Any] | None = None,
) -> Ticket:
    """Change the priority; if another policy applies now the ticket switches to it from this
    instant (business time consumed so far is kept) and its due times are recalculated."""
    now = checked_now(now)
    if priority not in PRIORITIES:
        raise InputError(
            f"unknown priority; priorities are {', '.join(PRIORITIES)}",
            column="priority",
            value=priority,
        )
    ticket = load_for_change(session, principal, ticket_id, expected_version=expected_version)
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot change priority")
    if ticket.priority == priority and kind == "priority_changed":
        return ticket
    before = {"priority": ticket.priority}
    ticket.priority = priority
    after: dict[str, Any] = {"priority": priority, **(extra or {})}
    _reselect_policy(session, ticket, after)
    return _changed(
        session,
        ticket,
        principal,
        kind,
        now,
        before=before,
        after=after,
        handling_seconds=handling_seconds,
        settings=settings,
    )


def update_ticket(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    expected_version: int | None = None,
    handling_seconds: int = 0,
    now: datetime | None = None,
    settings: Settings,
    **changes: Any,
) -> Ticket:
    """Edit ``subject``, ``description``, ``kind``, ``channel`` or ``category_id``."""
    now = checked_now(now)
    ticket = load_for_change(session, principal, ticket_id, expected_version=expected_version)
    allowed = {"subject", "description", "kind", "channel", "category_id"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InputError("this field cannot be edited here", column=unknown[0])
    if ticket.status == "closed":
        raise ConflictError("a closed ticket cannot be edited")
    if "subject" in changes:
        changes["subject"] = checked_text(changes["subject"], "subject", limit=300)
    if "description" in changes:
        changes["description"] = checked_text(changes["description"], "description", required=False)
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
    return _changed(
        session,
        ticket,
        principal,
        "updated",
        now,
        before=before,
        after=after,
        handling_seconds=handling_seconds,
        settings=settings,
    )
