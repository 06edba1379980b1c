"""The service desk's figures: effort and one-stop resolution per team, category and month, and
the kept-promise rate (the reliability figure) per policy, team and month.

Both count only the tickets in the caller's scope (an agent: their teams' tickets).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from kehu.desk.effort import effort_summary, kept_promise_rates, ticket_effort
from kehu.desk.routing import category_path, team_names
from kehu.errors import InputError
from kehu.http.deps import CurrentPrincipal, DbSession, get_settings
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
