"""The desk's own dashboard for a team lead: the backlog by age, first-response and resolution
times, the kept-promise rate, the reopen rate, one-stop resolution, transfers and repeats, per
team and month, each with the tickets behind it.

One definition of each figure: the effort figures and the kept-promise rate are those of
:mod:`kehu.desk.effort` (the service figures page and its API), read per ticket through
:func:`~kehu.desk.effort.effort_tickets` and :func:`~kehu.desk.effort.kept_promise_tickets`, so
a figure's list of tickets (:func:`figure_tickets`) is exactly what it counts.

- **backlog**: tickets still to work on (open or waiting on the customer, not merged) by age
  since creation (calendar time: under a day, 1-3 days, 3-7 days, 7-30 days, 30 days or more);
  **overdue** are those the queue marks "Breached": a running promise past its due time (not
  waiting on the customer). The backlog is as of now, not of the month window.
- **first-response time** and **resolution time**: the *business time* the service promise
  counted (:attr:`kehu.desk.sla.TargetStatus.consumed`: only the promise calendar's open hours,
  pauses while waiting on the customer left out), so the same clock as the promise itself;
  tickets without a service promise have no such clock and are not counted. First response by
  the month it stopped (the first reply, or a resolution without one), resolution by the month
  of resolution (as the kept-promise rate). Median and 90th percentile by nearest rank
  (:func:`nearest_rank`).
- **kept-promise rate** (by month of resolution): :func:`~kehu.desk.effort.kept_promise_rates`.
- **one-stop resolution rate**, **reopen rate** (out of resolved tickets), **transfers** and
  **repeats per ticket** (by month of creation): :func:`~kehu.desk.effort.effort_summary`.

Months are reporting months (``settings.reporting_timezone``). Everything counts only the
tickets in the caller's scope (an agent: their teams' tickets).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.orm import Session

from kehu.core.auth import Principal, scoped
from kehu.core.config import Settings
from kehu.desk.effort import NO_TEAM, effort_tickets, kept_promise_tickets
from kehu.desk.schemas import TicketOut
from kehu.desk.sla import reporting_month, reporting_zone
from kehu.desk.tables import Ticket
from kehu.desk.ticket_queries import sla_statuses
from kehu.desk.workflow import ACTIVE_CATEGORIES
from kehu.errors import InputError

__all__ = [
    "AGE_BUCKETS",
    "FIGURES",
    "NO_TEAM",
    "BacklogRow",
    "Dashboard",
    "Figures",
    "TimeSample",
    "desk_dashboard",
    "figure_tickets",
    "listed_tickets",
    "month_window",
    "months_between",
    "nearest_rank",
]

T = TypeVar("T")

#: The backlog's age buckets: (code, age from inclusive, to exclusive; ``None``: no limit).
AGE_BUCKETS: tuple[tuple[str, timedelta, timedelta | None], ...] = (
    ("under_1d", timedelta(0), timedelta(days=1)),
    ("1d_3d", timedelta(days=1), timedelta(days=3)),
    ("3d_7d", timedelta(days=3), timedelta(days=7)),
    ("7d_30d", timedelta(days=7), timedelta(days=30)),
    ("30d_plus", timedelta(days=30), None),
)

#: The figures whose tickets :func:`figure_tickets` lists.
FIGURES = (
    "backlog",
    "overdue",
    "first_response",
    "resolution",
    "kept",
    "one_stop",
    "reopened",
    "transfers",
    "repeats",
)


def nearest_rank(values: Sequence[T], fraction: float) -> T | None:
    """The ``fraction`` percentile of ``values`` by the **nearest-rank** definition: the value
    at rank ``ceil(fraction * n)`` (1-based, at least 1) of the ``n`` sorted values -- always
    one of the values, never an interpolation. The median (0.5) of an even count is the lower
    of the two middle values. ``None`` for no values."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if not values:
        return None
    ordered = sorted(values)  # type: ignore[type-var]
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def month_window(first: str, last: str, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants ``[since, until)`` of the reporting months ``first`` to ``last``
    (``YYYY-MM``, inclusive) in ``timezone``."""
    start, end = _month_start(first, "from", timezone), _month_start(last, "to", timezone)
    if end < start:
        raise InputError("the last month is before the first", column="to")
    year, month = int(last[:4]), int(last[5:7])
    following = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    return start, _month_start(following, "to", timezone)


def _month_start(month: str, column: str, timezone: str) -> datetime:
    try:
        year, number = int(month[:4]), int(month[5:7])
        if len(month) != 7 or month[4] != "-":
            raise ValueError(month)
        local = datetime(year, number, 1, tzinfo=reporting_zone(timezone))
    except ValueError:
        raise InputError(f"{month!r} is not a month (YYYY-MM)", column=column) from None
    return local.astimezone(UTC)


def months_between(first: str, last: str) -> list[str]:
    """``first`` to ``last`` (``YYYY-MM``, inclusive)."""
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# -- the backlog ---------------------------------------------------------------------------------


def _backlog(principal: Principal, now: datetime) -> Any:
    """The tickets still to work on, one row each: id, team, age bucket, overdue (0/1)."""
    # age < high  <=>  created after now - high (buckets in order, the first that fits)
    bucket = case(
        *[
            (Ticket.created_at > now - high, literal(code))
            for code, _low, high in AGE_BUCKETS
            if high is not None
        ],
        else_=literal(AGE_BUCKETS[-1][0]),
    )
    overdue = and_(
        Ticket.status_category != "waiting_on_customer",
        Ticket.sla_due_at.is_not(None),
        Ticket.sla_due_at < now,
    )
    statement = select(
        Ticket.id.label("ticket_id"),
        Ticket.team_id.label("team_id"),
        bucket.label("bucket"),
        case((overdue, 1), else_=0).label("overdue"),
    ).where(Ticket.status_category.in_(list(ACTIVE_CATEGORIES)), Ticket.merged_into_id.is_(None))
    return scoped(statement, principal, Ticket).subquery("backlog")


@dataclass(frozen=True)
class BacklogRow:
    """One team's backlog: tickets per age bucket (in :data:`AGE_BUCKETS` order), overdue."""

    team_id: int | None
    buckets: tuple[int, ...]
    overdue: int

    @property
    def tickets(self) -> int:
        return sum(self.buckets)


def _backlog_rows(session: Session, principal: Principal, now: datetime) -> list[BacklogRow]:
    backlog = _backlog(principal, now)
    counts: dict[int | None, list[int]] = defaultdict(lambda: [0] * (len(AGE_BUCKETS) + 1))
    codes = [code for code, _low, _high in AGE_BUCKETS]
    for team_id, bucket, tickets, overdue in session.execute(
        select(
            backlog.c.team_id, backlog.c.bucket, func.count(), func.sum(backlog.c.overdue)
        ).group_by(backlog.c.team_id, backlog.c.bucket)
    ):
        counts[team_id][codes.index(bucket)] += int(tickets)
        counts[team_id][-1] += int(overdue or 0)
    return [BacklogRow(team_id, tuple(c[:-1]), c[-1]) for team_id, c in counts.items()]


# -- first-response and resolution times ---------------------------------------------------------


@dataclass(frozen=True)
class TimeSample:
    """The business time one ticket's promise counted to its first response or resolution."""

    ticket_id: int
    team_id: int | None
    month: str
    business_time: timedelta


def _time_samples(
    session: Session,
    principal: Principal,
    since: datetime,
    until: datetime,
    now: datetime,
    settings: Settings,
) -> tuple[list[TimeSample], list[TimeSample]]:
    """First-response and resolution samples stopped in ``[since, until)``."""
    # a first response stops at the latest at the (final) resolution: a ticket resolved before
    # ``since`` stopped both before it
    statement: Select[Any] = select(Ticket).where(
        Ticket.merged_into_id.is_(None),
        Ticket.sla_policy_version_id.is_not(None),
        Ticket.created_at < until,
        (Ticket.resolved_at.is_(None)) | (Ticket.resolved_at >= since),
    )
    tickets = list(session.scalars(scoped(statement, principal, Ticket).order_by(Ticket.id)))
    statuses = sla_statuses(session, tickets, now)
    zone = settings.reporting_timezone
    first, resolution = [], []
    for ticket in tickets:
        status = statuses.get(ticket.id)
        if status is None:
            continue
        stopped = status.first_response.stopped_at
        if stopped is not None and since <= stopped < until:
            first.append(
                TimeSample(
                    ticket.id,
                    ticket.team_id,
                    reporting_month(stopped, zone),
                    status.first_response.consumed,
                )
            )
        resolved = ticket.resolved_at
        if (
            status.resolved
            and resolved is not None
            and since <= resolved < until
            and status.resolution.stopped_at is not None
        ):
            resolution.append(
                TimeSample(
                    ticket.id,
                    ticket.team_id,
                    reporting_month(resolved, zone),
                    status.resolution.consumed,
                )
            )
    return first, resolution


# -- the figures per team and month --------------------------------------------------------------


@dataclass
class Figures:
    """The dashboard's figures of one team and month (or their totals over the window)."""

    tickets: int = 0  # created (the effort figures' tickets)
    resolved: int = 0
    one_stop: int = 0
    reopened: int = 0
    transfers: int = 0
    repeats: int = 0
    kept: int = 0
    promised: int = 0  # resolved with a promise result (the kept-promise rate's tickets)
    first_response_times: list[timedelta] = field(default_factory=list)
    resolution_times: list[timedelta] = field(default_factory=list)

    @property
    def kept_rate(self) -> float | None:
        return self.kept / self.promised if self.promised else None

    @property
    def one_stop_rate(self) -> float | None:
        return self.one_stop / self.resolved if self.resolved else None

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.resolved if self.resolved else None

    @property
    def transfers_per_ticket(self) -> float | None:
        return self.transfers / self.tickets if self.tickets else None

    @property
    def repeats_per_ticket(self) -> float | None:
        return self.repeats / self.tickets if self.tickets else None

    @property
    def first_response_median(self) -> timedelta | None:
        return nearest_rank(self.first_response_times, 0.5)

    @property
    def first_response_p90(self) -> timedelta | None:
        return nearest_rank(self.first_response_times, 0.9)

    @property
    def resolution_median(self) -> timedelta | None:
        return nearest_rank(self.resolution_times, 0.5)

    @property
    def resolution_p90(self) -> timedelta | None:
        return nearest_rank(self.resolution_times, 0.9)


@dataclass(frozen=True)
class Dashboard:
    """The dashboard over the months ``first_month`` to ``last_month`` (inclusive).

    ``by_team_month`` has a :class:`Figures` for every (team, month) with a figure, ``by_team``
    each team's over the window, ``overall`` everything shown (the team filter applied)."""

    first_month: str
    last_month: str
    months: list[str]
    now: datetime
    backlog: list[BacklogRow]
    by_team_month: dict[tuple[int | None, str], Figures]
    by_team: dict[int | None, Figures]
    overall: Figures

    @property
    def backlog_total(self) -> BacklogRow:
        return BacklogRow(
            None,
            tuple(sum(r.buckets[i] for r in self.backlog) for i in range(len(AGE_BUCKETS))),
            sum(r.overdue for r in self.backlog),
        )


def _of_team(team_id: int | None, team: int | None) -> bool:
    return team is None or (team_id is None if team == NO_TEAM else team_id == team)


def desk_dashboard(
    session: Session,
    principal: Principal,
    *,
    first_month: str,
    last_month: str,
    team: int | None = None,
    now: datetime,
    settings: Settings,
) -> Dashboard:
    """The dashboard of the tickets in the caller's scope, months ``first_month`` to
    ``last_month`` (``YYYY-MM``, inclusive), of ``team`` (``None``: every team,
    :data:`NO_TEAM`: tickets of no team)."""
    since, until = month_window(first_month, last_month, settings.reporting_timezone)
    by_team_month: dict[tuple[int | None, str], Figures] = defaultdict(Figures)
    by_team: dict[int | None, Figures] = defaultdict(Figures)
    overall = Figures()

    def add(team_id: int | None, month: str) -> Iterable[Figures]:
        return (by_team_month[(team_id, month)], by_team[team_id], overall)

    for ticket in effort_tickets(
        session, principal, since=since, until=until, team=team, settings=settings
    ):
        for figures in add(ticket.team_id, ticket.month):
            figures.tickets += 1
            figures.resolved += ticket.resolved
            figures.one_stop += ticket.first_contact_resolution
            figures.reopened += ticket.reopened
            figures.transfers += ticket.transfers
            figures.repeats += ticket.is_repeat
    for result in kept_promise_tickets(
        session, principal, since=since, until=until, team=team, settings=settings
    ):
        for figures in add(result.team_id, result.month):
            figures.kept += result.kept
            figures.promised += 1
    first, resolution = _time_samples(session, principal, since, until, now, settings)
    for sample in first:
        if _of_team(sample.team_id, team):
            for figures in add(sample.team_id, sample.month):
                figures.first_response_times.append(sample.business_time)
    for sample in resolution:
        if _of_team(sample.team_id, team):
            for figures in add(sample.team_id, sample.month):
                figures.resolution_times.append(sample.business_time)
    backlog = [row for row in _backlog_rows(session, principal, now) if _of_team(row.team_id, team)]
    return Dashboard(
        first_month=first_month,
        last_month=last_month,
        months=months_between(first_month, last_month),
        now=now,
        backlog=backlog,
        by_team_month=dict(by_team_month),
        by_team=dict(by_team),
        overall=overall,
    )


# -- the tickets behind a figure -----------------------------------------------------------------


def figure_tickets(
    session: Session,
    principal: Principal,
    *,
    figure: str,
    first_month: str,
    last_month: str,
    team: int | None = None,
    month: str | None = None,
    age: str | None = None,
    counted: bool = False,
    now: datetime,
    settings: Settings,
) -> list[int]:
    """The ids of exactly the tickets a dashboard figure counts (ascending), in the caller's
    scope: the denominator's tickets, or with ``counted`` the numerator's (kept, one-stop,
    reopened, with a transfer, repeats). ``month`` narrows to one month of the window, ``age``
    (an :data:`AGE_BUCKETS` code) the backlog to one bucket; ``team`` as for
    :func:`desk_dashboard`."""
    if figure not in FIGURES:
        raise InputError(f"unknown figure {figure!r}; known: {', '.join(FIGURES)}", column="figure")
    since, until = month_window(first_month, last_month, settings.reporting_timezone)
    if month is not None:
        if month not in months_between(first_month, last_month):
            raise InputError(f"{month!r} is not a month of the window", column="month")
        since, until = month_window(month, month, settings.reporting_timezone)
    if figure in ("backlog", "overdue"):
        codes = [code for code, _low, _high in AGE_BUCKETS]
        if age is not None and age not in codes:
            raise InputError(f"unknown age {age!r}; known: {', '.join(codes)}", column="age")
        return sorted(
            row.ticket_id
            for row in session.execute(select(_backlog(principal, now)))
            if _of_team(row.team_id, team)
            and (age is None or row.bucket == age)
            and (figure == "backlog" or row.overdue)
        )
    if figure in ("first_response", "resolution"):
        first, resolution = _time_samples(session, principal, since, until, now, settings)
        samples = first if figure == "first_response" else resolution
        return sorted(s.ticket_id for s in samples if _of_team(s.team_id, team))
    if figure == "kept":
        return [
            r.ticket_id
            for r in kept_promise_tickets(
                session, principal, since=since, until=until, team=team, settings=settings
            )
            if r.kept or not counted
        ]
    tickets = effort_tickets(
        session, principal, since=since, until=until, team=team, settings=settings
    )
    if figure in ("one_stop", "reopened"):
        tickets = [t for t in tickets if t.resolved]  # out of resolved tickets
    if not counted:
        return [t.ticket_id for t in tickets]
    hit = {
        "one_stop": lambda t: t.first_contact_resolution,
        "reopened": lambda t: t.reopened,
        "transfers": lambda t: t.transfers > 0,
        "repeats": lambda t: t.is_repeat,
    }[figure]
    return [t.ticket_id for t in tickets if hit(t)]


def listed_tickets(
    session: Session, principal: Principal, ticket_ids: Sequence[int]
) -> list[TicketOut]:
    """The tickets ``ticket_ids`` (in that order) that the caller may read, for a figure's
    list (:func:`figure_tickets` gives the ids)."""
    if not ticket_ids:
        return []
    statement = scoped(select(Ticket).where(Ticket.id.in_(list(ticket_ids))), principal, Ticket)
    found = {ticket.id: ticket for ticket in session.scalars(statement)}
    return [TicketOut.model_validate(found[i]) for i in ticket_ids if i in found]
