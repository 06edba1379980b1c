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
- **reopened** (for the reopen rate): resolved (not merged away) and reopened at least once;
- **handling seconds**: the sum of the agents' recorded handling time (not the ticket's age).

:func:`effort_summary` aggregates per team, category and month (of creation, in the reporting
time zone). :func:`kept_promise_rates` gives the reliability figure per policy, team and month
(of resolution). Both are computed by the store (GROUP BY over the tickets in the caller's row
scope, with the per-ticket figures of the event log in a window-function subquery), so a report
over years of tickets moves a row per group, not every ticket and event, into Python.

Cost-to-serve: every agent action that records handling time writes, in the same transaction, one
``cost_to_serve`` row (handling seconds x ``handling_cost_per_hour`` / 3600, in integer minor
units, half-even rounding, ``source = "ticket_event:<event id>"``) through
:func:`record_cost_to_serve`. The value engine sums that table per customer for profit, so the
figure is always current and each action is costed exactly once (it shares the event's
transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    CTE,
    FromClause,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, scoped
from kehu.core.config import Settings
from kehu.core.money import Money
from kehu.desk.sla import reporting_month, reporting_zone
from kehu.desk.tables import SlaPolicyVersion, Ticket, TicketEvent
from kehu.desk.ticket_queries import get_ticket
from kehu.value import costs as value_costs

__all__ = [
    "NO_TEAM",
    "CustomerEffort",
    "EffortRow",
    "KeptPromiseRow",
    "KeptPromiseTicket",
    "TicketEffort",
    "TicketFigures",
    "cost_minor",
    "customer_effort",
    "effort_summary",
    "effort_tickets",
    "kept_promise_rates",
    "kept_promise_tickets",
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
    settings: Settings,
) -> int | None:
    """Price one agent action and record it with the value domain's cost-to-serve
    (:func:`kehu.value.costs.record_cost_to_serve`); the row id, ``None`` if it costs nothing."""
    amount = cost_minor(
        handling_seconds, settings.handling_cost_per_hour, settings.currency_minor_units
    )
    return value_costs.record_cost_to_serve(
        session,
        customer_id=customer_id,
        # the rate, handling_cost_per_hour, is in KEHU_CURRENCY
        cost=Money(amount, settings.currency),
        source=f"{COST_SOURCE_PREFIX}{event_id}",
        recorded_at=recorded_at,
    )


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


# -- the figures in SQL -------------------------------------------------------------------------
#
# Both reports are GROUP BY queries over the tickets the caller may read (the ticket row scope is
# applied to the innermost select, so the event counts only ever see tickets in scope). Each
# ticket's figures are one row of ``_ticket_figures``; the reports sum those rows per group.


def _counted(kind: str) -> Any:
    return func.sum(case((TicketEvent.kind == kind, 1), else_=0))


def _event_counts(ticket_ids: Select[Any]) -> Subquery:
    """Per ticket: transfers, customer replies, agent replies, reopenings, handling seconds."""
    return (
        select(
            TicketEvent.ticket_id.label("ticket_id"),
            _counted("transferred").label("transfers"),
            _counted("customer_replied").label("customer_replies"),
            _counted("replied").label("agent_replies"),
            _counted("reopened").label("reopenings"),
            func.sum(TicketEvent.handling_seconds).label("handling_seconds"),
        )
        .where(TicketEvent.ticket_id.in_(ticket_ids))
        .group_by(TicketEvent.ticket_id)
        .subquery("event_counts")
    )


def _handoff_counts(ticket_ids: Select[Any]) -> Subquery:
    """Per ticket: changes of the responsible agent from one agent to another.

    The owner is set by ``created`` (possibly to nobody) and by every ``assigned`` /
    ``transferred`` naming an assignee; unassigning names none and so leaves the owner as it was
    (a hand-off across an unassigned spell still counts). Each owner-setting event is compared
    with the one before it (``lag`` in event order); ``created`` itself is never a hand-off.
    """
    # compared for equality only: the JSON value as text fits any id width on both stores
    assignee = TicketEvent.after["assignee_id"].as_string()
    owners = (
        select(
            TicketEvent.ticket_id.label("ticket_id"),
            TicketEvent.kind.label("kind"),
            assignee.label("owner"),
            func.lag(assignee)
            .over(partition_by=TicketEvent.ticket_id, order_by=(TicketEvent.at, TicketEvent.id))
            .label("previous_owner"),
        )
        .where(
            TicketEvent.ticket_id.in_(ticket_ids),
            or_(
                TicketEvent.kind == "created",
                and_(TicketEvent.kind.in_(("assigned", "transferred")), assignee.is_not(None)),
            ),
        )
        .subquery("owners")
    )
    return (
        select(owners.c.ticket_id, func.count().label("handoffs"))
        .where(
            owners.c.kind != "created",
            owners.c.previous_owner.is_not(None),
            owners.c.owner != owners.c.previous_owner,
        )
        .group_by(owners.c.ticket_id)
        .subquery("handoff_counts")
    )


def _ticket_figures(tickets: FromClause, *extra: Any) -> Select[Any]:
    """One row per ticket of ``tickets`` (which has ``id``, ``resolved_at``, ``merged_into_id``
    and ``repeat_of_id``) with its effort figures; ``extra`` columns are passed through."""
    ticket_ids = select(tickets.c.id)
    counts = _event_counts(ticket_ids)
    handoffs = _handoff_counts(ticket_ids)
    transfers = func.coalesce(counts.c.transfers, 0)
    # the contact that filed the ticket, then every customer reply
    contacts = 1 + func.coalesce(counts.c.customer_replies, 0)
    replies = func.coalesce(counts.c.agent_replies, 0)
    reopenings = func.coalesce(counts.c.reopenings, 0)
    resolved = and_(tickets.c.resolved_at.is_not(None), tickets.c.merged_into_id.is_(None))
    one_stop = and_(resolved, transfers == 0, replies <= 1, contacts == 1, reopenings == 0)
    return (
        select(
            tickets.c.id.label("ticket_id"),
            transfers.label("transfers"),
            func.coalesce(handoffs.c.handoffs, 0).label("handoffs"),
            contacts.label("customer_contacts"),
            replies.label("agent_replies"),
            reopenings.label("reopenings"),
            case((tickets.c.repeat_of_id.is_not(None), 1), else_=0).label("is_repeat"),
            func.coalesce(counts.c.handling_seconds, 0).label("handling_seconds"),
            case((resolved, 1), else_=0).label("resolved"),
            case((one_stop, 1), else_=0).label("first_contact_resolution"),
            case((and_(resolved, reopenings > 0), 1), else_=0).label("reopened"),
            *extra,
        )
        .select_from(tickets)
        .outerjoin(counts, counts.c.ticket_id == tickets.c.id)
        .outerjoin(handoffs, handoffs.c.ticket_id == tickets.c.id)
    )


def _month_starts(first: datetime, last: datetime, timezone: str) -> list[tuple[str, datetime]]:
    """The reporting months from ``first``'s to ``last``'s (in ``timezone``), each with the UTC
    instant it begins: the first instant whose local date is the 1st (local midnight; when a
    daylight-saving gap swallows midnight, fold=0 reads it as the instant the clock jumped)."""
    zone = reporting_zone(timezone)
    local = first.astimezone(zone)
    year, month = local.year, local.month
    last_month = reporting_month(last, timezone)
    starts = []
    while True:
        label = f"{year:04d}-{month:02d}"
        starts.append((label, datetime(year, month, 1, tzinfo=zone).astimezone(UTC)))
        if label >= last_month:
            return starts
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _months_of(session: Session, column: Any, timezone: str) -> list[tuple[str, datetime]]:
    """The reporting months ``column``'s values fall in (none for no rows)."""
    first, last = session.execute(select(func.min(column), func.max(column))).one()
    if first is None:
        return []
    return _month_starts(first, last, timezone)


def _reporting_month_of(column: Any, months: Sequence[tuple[str, datetime]]) -> Any:
    """SQL for :func:`~kehu.desk.sla.reporting_month` of ``column``, given the months its
    values fall in (:func:`_months_of`): a comparison with each month's first instant, so the
    same on SQLite, which has no time zone database, and PostgreSQL."""
    if len(months) == 1:
        return literal(months[0][0])
    return case(
        *[(column < start, literal(label)) for (label, _), (_, start) in pairwise(months)],
        else_=literal(months[-1][0]),
    )


def ticket_effort(session: Session, principal: Principal, ticket_id: int) -> TicketEffort:
    """Effort figures of one ticket (``NotFoundError`` if unknown or out of scope)."""
    ticket = get_ticket(session, principal, ticket_id)
    one = (
        select(Ticket.id, Ticket.resolved_at, Ticket.merged_into_id, Ticket.repeat_of_id)
        .where(Ticket.id == ticket.id)
        .subquery("one_ticket")
    )
    row = session.execute(_ticket_figures(one)).one()
    repeated = session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.repeat_of_id == ticket.id)
    )
    resolved = bool(row.resolved)
    return TicketEffort(
        ticket_id=ticket.id,
        transfers=int(row.transfers),
        handoffs=int(row.handoffs),
        customer_contacts=int(row.customer_contacts),
        agent_replies=int(row.agent_replies),
        reopenings=int(row.reopenings),
        is_repeat=bool(row.is_repeat),
        repeated=int(repeated or 0),
        handling_seconds=int(row.handling_seconds),
        resolved=resolved,
        first_contact_resolution=bool(row.first_contact_resolution) if resolved else None,
    )


@dataclass(frozen=True)
class CustomerEffort:
    """The effort a customer has spent so far, over their tickets the caller may read (merged
    tickets left out): what the ticket page's customer panel shows."""

    tickets: int
    transfers: int
    repeats: int
    customer_contacts: int
    reopenings: int


def customer_effort(session: Session, principal: Principal, customer_id: int) -> CustomerEffort:
    """:class:`CustomerEffort` of ``customer_id`` (tickets in the caller's row scope only)."""
    tickets = _tickets_in_scope(
        principal,
        (Ticket.id, Ticket.resolved_at, Ticket.merged_into_id, Ticket.repeat_of_id),
        Ticket.created_at,
        None,
        None,
        Ticket.customer_id == customer_id,
        Ticket.merged_into_id.is_(None),
        name="customer_tickets",
    )
    figures = _ticket_figures(tickets).subquery("figures")
    row = session.execute(
        select(
            func.count(),
            *(
                func.coalesce(func.sum(figures.c[name]), 0)
                for name in ("transfers", "is_repeat", "customer_contacts", "reopenings")
            ),
        )
    ).one()
    return CustomerEffort(*(int(value) for value in row))


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
    #: resolved tickets that were reopened at least once before (the reopen rate's numerator)
    reopened: int = 0

    @property
    def first_contact_resolution_rate(self) -> float | None:
        """One-stop resolutions out of resolved tickets."""
        return self.first_contact_resolutions / self.resolved if self.resolved else None

    @property
    def reopen_rate(self) -> float | None:
        """Resolved tickets reopened at least once, out of resolved tickets."""
        return self.reopened / self.resolved if self.resolved else None

    @property
    def contacts_per_ticket(self) -> float:
        return self.customer_contacts / self.tickets


def _tickets_in_scope(
    principal: Principal,
    columns: Sequence[Any],
    period_column: Any,
    since: datetime | None,
    until: datetime | None,
    *conditions: Any,
    name: str,
) -> CTE:
    """The caller's tickets (the ticket row scope), ``period_column`` in ``[since, until)``."""
    statement = scoped(select(*columns).where(*conditions), principal, Ticket)
    if since is not None:
        statement = statement.where(period_column >= since)
    if until is not None:
        statement = statement.where(period_column < until)
    return statement.cte(name)


def _created_in_scope(principal: Principal, since: datetime | None, until: datetime | None) -> CTE:
    """The tickets the effort figures count: the caller's, created in ``[since, until)``, not
    merged away."""
    return _tickets_in_scope(
        principal,
        (
            Ticket.id,
            Ticket.team_id,
            Ticket.category_id,
            Ticket.created_at,
            Ticket.resolved_at,
            Ticket.merged_into_id,
            Ticket.repeat_of_id,
        ),
        Ticket.created_at,
        since,
        until,
        Ticket.merged_into_id.is_(None),
        name="tickets_in_scope",
    )


def effort_summary(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    settings: Settings,
) -> list[EffortRow]:
    """Effort per team, category and month of creation (tickets in the caller's scope, created
    in ``[since, until)``), sorted by month, team, category."""
    tickets = _created_in_scope(principal, since, until)
    months = _months_of(session, tickets.c.created_at, settings.reporting_timezone)
    if not months:
        return []
    figures = _ticket_figures(
        tickets,
        tickets.c.team_id,
        tickets.c.category_id,
        _reporting_month_of(tickets.c.created_at, months).label("month"),
    ).subquery("figures")
    # grouped by the subquery's columns: PostgreSQL does not see two renderings of the month
    # expression (each with its own bound parameters) as the same GROUP BY expression
    group = (figures.c.team_id, figures.c.category_id, figures.c.month)
    statement = select(
        *group,
        func.count(),
        *(
            func.sum(figures.c[name])
            for name in (
                "resolved",
                "first_contact_resolution",
                "transfers",
                "handoffs",
                "customer_contacts",
                "is_repeat",
                "reopenings",
                "handling_seconds",
                "reopened",
            )
        ),
    ).group_by(*group)
    rows = [
        EffortRow(team, category, month, *(int(value) for value in values))
        for team, category, month, *values in session.execute(statement)
    ]
    rows.sort(key=lambda r: (r.month, r.team_id or 0, r.category_id or 0))
    return rows


#: ``team`` of the per-ticket listings: this id means the tickets of no team.
NO_TEAM = 0


def _of_team(column: Any, team: int | None) -> Any:
    """``team``: ``None`` every team, :data:`NO_TEAM` no team, else that team."""
    if team is None:
        return true()
    return column.is_(None) if team == NO_TEAM else column == team


@dataclass(frozen=True)
class TicketFigures:
    """One ticket's row of :func:`effort_summary` (what it adds to its team and month)."""

    ticket_id: int
    team_id: int | None
    month: str
    transfers: int
    is_repeat: bool
    resolved: bool
    first_contact_resolution: bool
    reopened: bool


def effort_tickets(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    team: int | None = None,
    month: str | None = None,
    settings: Settings,
) -> list[TicketFigures]:
    """The tickets :func:`effort_summary` counts (same scope, period and per-ticket figures),
    one row each, of ``team`` (``None``: every team, :data:`NO_TEAM`: none) and ``month`` (of
    creation; ``None``: every month), by ticket id."""
    tickets = _created_in_scope(principal, since, until)
    months = _months_of(session, tickets.c.created_at, settings.reporting_timezone)
    if not months:
        return []
    figures = _ticket_figures(
        tickets,
        tickets.c.team_id,
        _reporting_month_of(tickets.c.created_at, months).label("month"),
    ).subquery("figures")
    statement = select(figures).where(_of_team(figures.c.team_id, team))
    if month is not None:
        statement = statement.where(figures.c.month == month)
    return [
        TicketFigures(
            ticket_id=row.ticket_id,
            team_id=row.team_id,
            month=row.month,
            transfers=int(row.transfers),
            is_repeat=bool(row.is_repeat),
            resolved=bool(row.resolved),
            first_contact_resolution=bool(row.first_contact_resolution),
            reopened=bool(row.reopened),
        )
        for row in session.execute(statement.order_by(figures.c.ticket_id))
    ]


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


def _resolved_with_promise(
    principal: Principal, since: datetime | None, until: datetime | None
) -> CTE:
    """The tickets the kept-promise rate counts: the caller's, resolved in ``[since, until)``
    with a promise result, not merged away."""
    return _tickets_in_scope(
        principal,
        (
            Ticket.id,
            Ticket.team_id,
            Ticket.resolved_at,
            Ticket.sla_kept,
            SlaPolicyVersion.policy_id,
            SlaPolicyVersion.name,
        ),
        Ticket.resolved_at,
        since,
        until,
        SlaPolicyVersion.id == Ticket.sla_policy_version_id,
        Ticket.sla_kept.is_not(None),
        Ticket.merged_into_id.is_(None),
        Ticket.resolved_at.is_not(None),
        name="resolved_in_scope",
    )


def kept_promise_rates(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    settings: Settings,
) -> list[KeptPromiseRow]:
    """Kept promises out of resolved tickets per policy, team and month of resolution (tickets
    in the caller's scope resolved in ``[since, until)``; merged tickets do not count). A
    policy is named as its version on the latest (highest id) of these tickets has it."""
    tickets = _resolved_with_promise(principal, since, until)
    months = _months_of(session, tickets.c.resolved_at, settings.reporting_timezone)
    if not months:
        return []
    results = select(
        tickets.c.policy_id,
        tickets.c.team_id,
        _reporting_month_of(tickets.c.resolved_at, months).label("month"),
        case((tickets.c.sla_kept.is_(True), 1), else_=0).label("kept"),
    ).subquery("results")
    group = (results.c.policy_id, results.c.team_id, results.c.month)
    counts = select(*group, func.sum(results.c.kept), func.count()).group_by(*group)
    latest = (
        select(tickets.c.policy_id, func.max(tickets.c.id).label("ticket_id"))
        .group_by(tickets.c.policy_id)
        .subquery("latest")
    )
    names: dict[int, str] = {
        policy_id: name
        for policy_id, name in session.execute(
            select(latest.c.policy_id, tickets.c.name).join(
                tickets, tickets.c.id == latest.c.ticket_id
            )
        )
    }
    rows = [
        KeptPromiseRow(policy_id, names[policy_id], team_id, month, int(kept), int(total))
        for policy_id, team_id, month, kept, total in session.execute(counts)
    ]
    rows.sort(key=lambda r: (r.month, r.policy_id, r.team_id or 0))
    return rows


@dataclass(frozen=True)
class KeptPromiseTicket:
    """One ticket :func:`kept_promise_rates` counts."""

    ticket_id: int
    team_id: int | None
    month: str
    kept: bool


def kept_promise_tickets(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    team: int | None = None,
    month: str | None = None,
    settings: Settings,
) -> list[KeptPromiseTicket]:
    """The tickets :func:`kept_promise_rates` counts (same scope and period), of ``team``
    (``None``: every team, :data:`NO_TEAM`: none) and ``month`` (of resolution; ``None``: every
    month), by ticket id."""
    tickets = _resolved_with_promise(principal, since, until)
    months = _months_of(session, tickets.c.resolved_at, settings.reporting_timezone)
    if not months:
        return []
    results = select(
        tickets.c.id,
        tickets.c.team_id,
        _reporting_month_of(tickets.c.resolved_at, months).label("month"),
        tickets.c.sla_kept,
    ).subquery("results")
    statement = select(results).where(_of_team(results.c.team_id, team))
    if month is not None:
        statement = statement.where(results.c.month == month)
    return [
        KeptPromiseTicket(row.id, row.team_id, row.month, bool(row.sla_kept))
        for row in session.execute(statement.order_by(results.c.id))
    ]
