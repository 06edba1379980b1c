"""Customer effort, one-stop resolution, handling cost and the kept-promise rate.

Per ticket (:func:`ticket_effort`), from its event log:

- **transfers**: ``transferred`` events (team to team);
- **hand-offs**: changes of the responsible agent from one agent to another (``assigned`` or
  ``transferred`` with an assignee), unassigning in between does not hide a hand-off;
- **customer contacts**: the contact that filed the ticket plus every ``customer_replied``;
- **repeat**: the ticket was linked as a repeat of an earlier one (``repeat_of_id``);
  **repeated**: how many later tickets were linked as repeats of it;
- **reopenings**: ``reopened`` events;
- **first-contact resolution** (one-stop): resolved (not merged away) with no transfer, at most
  one agent reply, no further customer contact and never reopened; ``None`` while unresolved;
- **handling seconds**: the sum of the agents' recorded handling time (not the ticket's age).

:func:`effort_summary` aggregates per team, category and month (of creation, in the reporting
time zone). :func:`kept_promise_rates` gives the reliability figure per policy, team and month
(of resolution).

Cost-to-serve: every agent action that records handling time writes, in the same transaction, one
``cost_to_serve`` row (handling seconds x ``handling_cost_per_hour`` / 3600, in integer minor
units, half-even rounding, ``source = "ticket_event:<event id>"``) through
:func:`record_cost_to_serve`. The value engine sums that table per customer for profit, so the
figure is always current and each action is costed exactly once (it shares the event's
transaction).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu.auth import Principal, scoped
from kehu.service.settings import ServiceSettings, get_service_settings
from kehu.service.sla import kept_promise_rate, reporting_month
from kehu.service.tables import SlaPolicyVersion, Ticket, TicketEvent
from kehu.value.tables import CostToServe

__all__ = [
    "EffortRow",
    "KeptPromiseRow",
    "TicketEffort",
    "cost_minor",
    "effort_summary",
    "kept_promise_rates",
    "record_cost_to_serve",
    "ticket_effort",
]

COST_SOURCE_PREFIX = "ticket_event:"


def cost_minor(handling_seconds: int, rate_per_hour: Decimal, minor_units: int) -> int:
    """Cost of ``handling_seconds`` at ``rate_per_hour`` (major units), in minor units."""
    amount = (
        Decimal(handling_seconds) * rate_per_hour / Decimal(3600) * (Decimal(10) ** minor_units)
    )
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def record_cost_to_serve(
    session: Session,
    *,
    customer_id: int,
    handling_seconds: int,
    event_id: int,
    recorded_at: datetime,
    settings: ServiceSettings | None = None,
) -> CostToServe | None:
    """Write the cost of one agent action to ``cost_to_serve`` (``None`` if it costs nothing)."""
    settings = settings or get_service_settings()
    amount = cost_minor(
        handling_seconds, settings.handling_cost_per_hour, settings.currency_minor_units
    )
    if amount == 0:
        return None
    row = CostToServe(
        customer_id=customer_id,
        amount_minor=amount,
        source=f"{COST_SOURCE_PREFIX}{event_id}",
        recorded_at=recorded_at,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class TicketEffort:
    ticket_id: int
    transfers: int
    handoffs: int
    customer_contacts: int
    agent_replies: int
    reopenings: int
    is_repeat: bool
    repeated: int
    handling_seconds: int
    resolved: bool
    first_contact_resolution: bool | None


def _effort(ticket: Ticket, events: Sequence[TicketEvent], repeated: int) -> TicketEffort:
    transfers = handoffs = contacts = replies = reopenings = handling = 0
    contacts = 1
    owner: int | None = None
    for event in events:
        handling += event.handling_seconds
        kind = event.kind
        if kind == "created":
            owner = event.after.get("assignee_id")
        elif kind == "transferred":
            transfers += 1
        elif kind == "customer_replied":
            contacts += 1
        elif kind == "replied":
            replies += 1
        elif kind == "reopened":
            reopenings += 1
        if kind in ("assigned", "transferred"):
            new_owner = event.after.get("assignee_id")
            if new_owner is not None:
                if owner is not None and new_owner != owner:
                    handoffs += 1
                owner = new_owner
    resolved = ticket.resolved_at is not None and ticket.merged_into_id is None
    fcr = None
    if resolved:
        fcr = transfers == 0 and replies <= 1 and contacts == 1 and reopenings == 0
    return TicketEffort(
        ticket_id=ticket.id,
        transfers=transfers,
        handoffs=handoffs,
        customer_contacts=contacts,
        agent_replies=replies,
        reopenings=reopenings,
        is_repeat=ticket.repeat_of_id is not None,
        repeated=repeated,
        handling_seconds=handling,
        resolved=resolved,
        first_contact_resolution=fcr,
    )


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _efforts(session: Session, tickets: Sequence[Ticket]) -> dict[int, TicketEffort]:
    ids = [t.id for t in tickets]
    events: dict[int, list[TicketEvent]] = defaultdict(list)
    repeated: dict[int, int] = defaultdict(int)
    for chunk in _chunks(ids):
        for event in session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id.in_(chunk))
            .order_by(TicketEvent.at, TicketEvent.id)
        ):
            events[event.ticket_id].append(event)
        for original, count in session.execute(
            select(Ticket.repeat_of_id, func.count())
            .where(Ticket.repeat_of_id.in_(chunk))
            .group_by(Ticket.repeat_of_id)
        ):
            if original is not None:
                repeated[original] = count
    return {t.id: _effort(t, events[t.id], repeated[t.id]) for t in tickets}


def ticket_effort(session: Session, principal: Principal, ticket_id: int) -> TicketEffort:
    """Effort figures of one ticket (``NotFoundError`` if unknown or out of scope)."""
    from kehu.service.tickets import get_ticket

    ticket = get_ticket(session, principal, ticket_id)
    return _efforts(session, [ticket])[ticket.id]


@dataclass(frozen=True)
class EffortRow:
    team_id: int | None
    category_id: int | None
    month: str
    tickets: int
    resolved: int
    first_contact_resolutions: int
    transfers: int
    handoffs: int
    customer_contacts: int
    repeats: int
    reopenings: int
    handling_seconds: int

    @property
    def first_contact_resolution_rate(self) -> float | None:
        """One-stop resolutions out of resolved tickets."""
        return self.first_contact_resolutions / self.resolved if self.resolved else None

    @property
    def contacts_per_ticket(self) -> float:
        return self.customer_contacts / self.tickets


def _scoped_tickets(
    session: Session,
    principal: Principal,
    since: datetime | None,
    until: datetime | None,
    column: Any,
) -> list[Ticket]:
    statement = select(Ticket)
    if since is not None:
        statement = statement.where(column >= since)
    if until is not None:
        statement = statement.where(column < until)
    return list(session.scalars(scoped(statement, principal, Ticket).order_by(Ticket.id)))


def effort_summary(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    settings: ServiceSettings | None = None,
) -> list[EffortRow]:
    """Effort per team, category and month of creation (tickets in the caller's scope, created
    in ``[since, until)``), sorted by month, team, category."""
    settings = settings or get_service_settings()
    tickets = [
        t
        for t in _scoped_tickets(session, principal, since, until, Ticket.created_at)
        if t.merged_into_id is None
    ]
    efforts = _efforts(session, tickets)
    groups: dict[tuple[int | None, int | None, str], list[int]] = defaultdict(lambda: [0] * 10)
    for ticket in tickets:
        e = efforts[ticket.id]
        key = (
            ticket.team_id,
            ticket.category_id,
            reporting_month(ticket.created_at, settings.reporting_timezone),
        )
        g = groups[key]
        for i, value in enumerate(
            (
                1,
                e.resolved,
                bool(e.first_contact_resolution),
                e.transfers,
                e.handoffs,
                e.customer_contacts,
                e.is_repeat,
                e.reopenings,
                e.handling_seconds,
            )
        ):
            g[i] += int(value)
    rows = [
        EffortRow(team, category, month, *values[:9])
        for (team, category, month), values in groups.items()
    ]
    rows.sort(key=lambda r: (r.month, r.team_id or 0, r.category_id or 0))
    return rows


@dataclass(frozen=True)
class KeptPromiseRow:
    policy_id: int
    policy_name: str
    team_id: int | None
    month: str
    kept: int
    total: int

    @property
    def rate(self) -> float:
        return self.kept / self.total


def kept_promise_rates(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    settings: ServiceSettings | None = None,
) -> list[KeptPromiseRow]:
    """Kept promises out of resolved tickets per policy, team and month of resolution (tickets
    in the caller's scope resolved in ``[since, until)``; merged tickets do not count)."""
    settings = settings or get_service_settings()
    tickets = [
        t
        for t in _scoped_tickets(session, principal, since, until, Ticket.resolved_at)
        if t.sla_kept is not None and t.merged_into_id is None and t.resolved_at is not None
    ]
    version_ids = {t.sla_policy_version_id for t in tickets if t.sla_policy_version_id}
    versions = (
        {
            v.id: v
            for v in session.scalars(
                select(SlaPolicyVersion).where(SlaPolicyVersion.id.in_(sorted(version_ids)))
            )
        }
        if version_ids
        else {}
    )
    names: dict[int, str] = {}
    pairs = []
    for ticket in tickets:
        assert ticket.resolved_at is not None and ticket.sla_policy_version_id is not None
        version = versions[ticket.sla_policy_version_id]
        names[version.policy_id] = version.name
        key = (
            version.policy_id,
            ticket.team_id,
            reporting_month(ticket.resolved_at, settings.reporting_timezone),
        )
        pairs.append((key, ticket.sla_kept))
    rates = kept_promise_rate(pairs)
    rows = [
        KeptPromiseRow(policy_id, names[policy_id], team_id, month, rate.kept, rate.total)
        for (policy_id, team_id, month), rate in rates.items()
    ]
    rows.sort(key=lambda r: (r.month, r.policy_id, r.team_id or 0))
    return rows
