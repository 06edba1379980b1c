"""The service desk's figures: effort and one-stop resolution per team, category and month, the
kept-promise rate (the reliability figure) per policy, team and month, and the desk dashboard
(:mod:`kehu.desk.dashboard`: the same figures per team and month, with the backlog and the
business-time response and resolution times, and the tickets behind each figure).

Both count only the tickets in the caller's scope (an agent: their teams' tickets).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from kehu.desk.dashboard import (
    AGE_BUCKETS,
    FIGURES,
    NO_TEAM,
    Figures,
    desk_dashboard,
    figure_tickets,
)
from kehu.desk.effort import effort_summary, kept_promise_rates, ticket_effort
from kehu.desk.routing import category_path, team_names
from kehu.errors import InputError
from kehu.http.deps import CurrentPrincipal, DbSession, get_settings
from kehu.store.base import utc_now
from kehu.store.bounds import Id, UtcInstant

router = APIRouter(tags=["service figures"])


class EffortOut(BaseModel):
    """Effort of the tickets created in one month, for one team and category."""

    team_id: int | None
    team: str | None
    category_id: int | None
    category: str | None
    month: str
    tickets: int
    resolved: int
    first_contact_resolutions: int
    first_contact_resolution_rate: float | None
    transfers: int
    handoffs: int
    customer_contacts: int
    contacts_per_ticket: float
    repeats: int
    reopenings: int
    handling_seconds: int


class KeptPromiseOut(BaseModel):
    """Kept service promises out of the tickets resolved in one month."""

    policy_id: int
    policy: str
    team_id: int | None
    team: str | None
    month: str
    kept: int
    total: int
    rate: float


class TicketEffortOut(BaseModel):
    ticket_id: int
    transfers: int
    handoffs: int
    customer_contacts: int
    agent_replies: int
    reopenings: int
    is_repeat: bool
    repeated: int
    resolved: bool
    first_contact_resolution: bool | None
    handling_seconds: int


Since = Annotated[UtcInstant | None, Query(description="from (inclusive); naive = UTC")]
Until = Annotated[UtcInstant | None, Query(description="to (exclusive); naive = UTC")]
Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]


def _period(since: datetime | None, until: datetime | None) -> tuple[datetime | None, ...]:
    since, until = (
        value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
        for value in (since, until)
    )
    if since is not None and until is not None and until <= since:
        raise InputError("until must be after since", column="until")
    return since, until


def _team_names(session: DbSession) -> dict[int, str]:
    return team_names(session)


@router.get("/api/service/effort", summary="Effort and one-stop resolution per team/category/month")
def effort(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    since: Since = None,
    until: Until = None,
    team: Id | None = None,
    month: Month = None,
) -> list[EffortOut]:
    start, end = _period(since, until)
    rows = effort_summary(
        session, principal, since=start, until=end, settings=get_settings(request)
    )
    teams = _team_names(session)
    paths: dict[int, str] = {}
    out = []
    for row in rows:
        if (team is not None and row.team_id != team) or (month is not None and row.month != month):
            continue
        if row.category_id is not None and row.category_id not in paths:
            paths[row.category_id] = category_path(session, row.category_id)
        out.append(
            EffortOut(
                team_id=row.team_id,
                team=teams.get(row.team_id) if row.team_id is not None else None,
                category_id=row.category_id,
                category=paths.get(row.category_id) if row.category_id is not None else None,
                month=row.month,
                tickets=row.tickets,
                resolved=row.resolved,
                first_contact_resolutions=row.first_contact_resolutions,
                first_contact_resolution_rate=row.first_contact_resolution_rate,
                transfers=row.transfers,
                handoffs=row.handoffs,
                customer_contacts=row.customer_contacts,
                contacts_per_ticket=row.contacts_per_ticket,
                repeats=row.repeats,
                reopenings=row.reopenings,
                handling_seconds=row.handling_seconds,
            )
        )
    return out


@router.get("/api/service/kept-promises", summary="Kept-promise rate per policy/team/month")
def kept_promises(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    since: Since = None,
    until: Until = None,
    team: Id | None = None,
    policy: Id | None = None,
    month: Month = None,
) -> list[KeptPromiseOut]:
    start, end = _period(since, until)
    rows = kept_promise_rates(
        session, principal, since=start, until=end, settings=get_settings(request)
    )
    teams = _team_names(session)
    return [
        KeptPromiseOut(
            policy_id=row.policy_id,
            policy=row.policy_name,
            team_id=row.team_id,
            team=teams.get(row.team_id) if row.team_id is not None else None,
            month=row.month,
            kept=row.kept,
            total=row.total,
            rate=row.rate,
        )
        for row in rows
        if (team is None or row.team_id == team)
        and (policy is None or row.policy_id == policy)
        and (month is None or row.month == month)
    ]


@router.get("/api/tickets/{ticket_id}/effort", summary="One ticket's effort figures")
def one_ticket_effort(
    ticket_id: Id, session: DbSession, principal: CurrentPrincipal
) -> TicketEffortOut:
    return TicketEffortOut(**asdict(ticket_effort(session, principal, ticket_id)))


# -- the desk dashboard ---------------------------------------------------------------------------

FirstMonth = Annotated[
    str, Query(alias="from", pattern=r"^\d{4}-\d{2}$", description="first month, YYYY-MM")
]
LastMonth = Annotated[
    str, Query(alias="to", pattern=r"^\d{4}-\d{2}$", description="last month (inclusive), YYYY-MM")
]
DashboardTeam = Annotated[
    str | None, Query(pattern=r"^(\d{1,18}|none)$", description="a team id, or none: no team")
]


class FiguresOut(BaseModel):
    """The dashboard's figures of one team and month (``team_id``/``month`` ``null``: all).

    Times are the business seconds the service promise counted (its calendar's open hours,
    waiting on the customer left out); median and p90 by nearest rank."""

    team_id: int | None
    team: str | None
    month: str | None
    tickets: int
    resolved: int
    kept: int
    promised: int
    kept_rate: float | None
    one_stop: int
    one_stop_rate: float | None
    reopened: int
    reopen_rate: float | None
    transfers: int
    transfers_per_ticket: float | None
    repeats: int
    repeats_per_ticket: float | None
    first_responses: int
    first_response_median_seconds: float | None
    first_response_p90_seconds: float | None
    resolutions: int
    resolution_median_seconds: float | None
    resolution_p90_seconds: float | None


class BacklogOut(BaseModel):
    """One team's tickets still to work on, per age bucket, and those past their promise now."""

    team_id: int | None
    team: str | None
    buckets: dict[str, int]
    tickets: int
    overdue: int


class DashboardOut(BaseModel):
    first_month: str
    last_month: str
    backlog: list[BacklogOut]
    overall: FiguresOut
    teams: list[FiguresOut]
    team_months: list[FiguresOut]


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _figures_out(
    figures: Figures, team_id: int | None, month: str | None, teams: dict[int, str]
) -> FiguresOut:
    return FiguresOut(
        team_id=team_id,
        team=teams.get(team_id) if team_id is not None else None,
        month=month,
        tickets=figures.tickets,
        resolved=figures.resolved,
        kept=figures.kept,
        promised=figures.promised,
        kept_rate=figures.kept_rate,
        one_stop=figures.one_stop,
        one_stop_rate=figures.one_stop_rate,
        reopened=figures.reopened,
        reopen_rate=figures.reopen_rate,
        transfers=figures.transfers,
        transfers_per_ticket=figures.transfers_per_ticket,
        repeats=figures.repeats,
        repeats_per_ticket=figures.repeats_per_ticket,
        first_responses=len(figures.first_response_times),
        first_response_median_seconds=_seconds(figures.first_response_median),
        first_response_p90_seconds=_seconds(figures.first_response_p90),
        resolutions=len(figures.resolution_times),
        resolution_median_seconds=_seconds(figures.resolution_median),
        resolution_p90_seconds=_seconds(figures.resolution_p90),
    )


def _dashboard_team(team: str | None) -> int | None:
    if team is None:
        return None
    return NO_TEAM if team == "none" else int(team)


@router.get("/api/service/dashboard", summary="The desk dashboard's figures per team and month")
def dashboard(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    first: FirstMonth,
    last: LastMonth,
    team: DashboardTeam = None,
) -> DashboardOut:
    board = desk_dashboard(
        session,
        principal,
        first_month=first,
        last_month=last,
        team=_dashboard_team(team),
        now=utc_now(),
        settings=get_settings(request),
    )
    teams = _team_names(session)
    codes = [code for code, _low, _high in AGE_BUCKETS]
    return DashboardOut(
        first_month=board.first_month,
        last_month=board.last_month,
        backlog=[
            BacklogOut(
                team_id=row.team_id,
                team=teams.get(row.team_id) if row.team_id is not None else None,
                buckets=dict(zip(codes, row.buckets, strict=True)),
                tickets=row.tickets,
                overdue=row.overdue,
            )
            for row in board.backlog
        ],
        overall=_figures_out(board.overall, None, None, teams),
        teams=[
            _figures_out(figures, team_id, None, teams)
            for team_id, figures in sorted(board.by_team.items(), key=lambda i: i[0] or 0)
        ],
        team_months=[
            _figures_out(figures, team_id, month, teams)
            for (team_id, month), figures in sorted(
                board.by_team_month.items(), key=lambda i: (i[0][1], i[0][0] or 0)
            )
        ],
    )


class FigureTicketsOut(BaseModel):
    figure: str
    count: int
    ticket_ids: list[int]


@router.get("/api/service/dashboard/tickets", summary="The tickets one dashboard figure counts")
def dashboard_tickets(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    figure: Annotated[str, Query(max_length=30, description=", ".join(FIGURES))],
    first: FirstMonth,
    last: LastMonth,
    team: DashboardTeam = None,
    month: Month = None,
    age: Annotated[str | None, Query(max_length=20)] = None,
    counted: bool = False,
) -> FigureTicketsOut:
    ids = figure_tickets(
        session,
        principal,
        figure=figure,
        first_month=first,
        last_month=last,
        team=_dashboard_team(team),
        month=month,
        age=age,
        counted=counted,
        now=utc_now(),
        settings=get_settings(request),
    )
    return FigureTicketsOut(figure=figure, count=len(ids), ticket_ids=ids)
