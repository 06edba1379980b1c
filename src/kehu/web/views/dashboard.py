"""The desk's dashboard for a team lead (``/desk/dashboard``) and the tickets behind each of its
figures (``/desk/dashboard/tickets``).

The figures come from :mod:`kehu.desk.dashboard` (which reads :mod:`kehu.desk.effort`, the
service figures' use cases), over the tickets in the caller's scope. Times are business hours
on the promise's calendar; the backlog chart is an inline SVG drawn here (no script).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from kehu.core.i18n import N_
from kehu.customers.queries import customer_names
from kehu.desk.dashboard import (
    AGE_BUCKETS,
    NO_TEAM,
    Dashboard,
    desk_dashboard,
    figure_tickets,
    listed_tickets,
)
from kehu.desk.routing import ticket_teams
from kehu.desk.sla import reporting_month
from kehu.report.svg import bar_chart
from kehu.store.base import utc_now
from kehu.web.deps import SessionDep
from kehu.web.labels import namer
from kehu.web.rendering import Page, StaffPage
from kehu.web.views.service import month_label

router = APIRouter()

#: Months shown when no window is chosen (this month and the ones before).
DEFAULT_MONTHS = 6
#: Tickets per page of a figure's list.
PAGE_SIZE = 100

AGE_LABELS = {
    "under_1d": N_("Under a day"),
    "1d_3d": N_("1–3 days"),
    "3d_7d": N_("3–7 days"),
    "7d_30d": N_("7–30 days"),
    "30d_plus": N_("30 days or more"),
}

FIGURE_TITLES = {
    ("backlog", False): N_("Tickets still to work on"),
    ("overdue", False): N_("Tickets past their promise now"),
    ("first_response", False): N_("Tickets counted in the first-response time"),
    ("resolution", False): N_("Tickets counted in the resolution time"),
    ("kept", False): N_("Resolved tickets with a service promise"),
    ("kept", True): N_("Resolved tickets whose promise was kept"),
    ("one_stop", False): N_("Resolved tickets"),
    ("one_stop", True): N_("Tickets resolved at the first contact"),
    ("reopened", False): N_("Resolved tickets"),
    ("reopened", True): N_("Resolved tickets that were reopened"),
    ("transfers", False): N_("Tickets filed"),
    ("transfers", True): N_("Tickets transferred at least once"),
    ("repeats", False): N_("Tickets filed"),
    ("repeats", True): N_("Repeat tickets"),
}


def _month_before(month: str, count: int) -> str:
    year, number = int(month[:4]), int(month[5:7])
    index = year * 12 + number - 1 - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _window(page: Page, first: str, last: str) -> tuple[str, str]:
    """The chosen months, or the last :data:`DEFAULT_MONTHS` up to this one."""
    last = last or reporting_month(utc_now(), page.settings.reporting_timezone)
    return first or _month_before(last, DEFAULT_MONTHS - 1), last


def _team(text: str, teams: dict[int, str]) -> int | None:
    """``team`` of the query: ``none`` the tickets of no team, a team the caller sees, else
    every team."""
    if text == "none":
        return NO_TEAM
    return int(text) if text.isdigit() and int(text) in teams else None


def _team_param(team_id: int | None) -> str:
    return "none" if team_id is None else str(team_id)


def hours(page: Page, value: timedelta | None) -> str:
    """Business time as hours (``2.5 h`` / ``2.5 小时``), ``–`` for none."""
    if value is None:
        return "–"
    number = page.translator.format_number(value.total_seconds() / 3600, 1)
    return page._("%(hours)s h", hours=number)


def backlog_chart(page: Page, board: Dashboard, team_name: Any) -> Markup | None:
    """Open tickets per age bucket, one bar per team."""
    if not board.backlog:
        return None
    _ = page._
    translator = page.translator
    groups = {
        team_name(row.team_id): [float(count) for count in row.buckets]
        for row in sorted(board.backlog, key=lambda r: team_name(r.team_id))
    }
    svg = bar_chart(
        [_(AGE_LABELS[code]) for code, _low, _high in AGE_BUCKETS],
        groups,
        title=_("Backlog by age and team"),
        x_label=_("Age since filed"),
        y_label=_("Open tickets"),
        # whole tickets, but the axis may tick at halves when there are few
        y_format=lambda v: translator.format_number(v, 0 if float(v).is_integer() else 1),
        width=760,
        height=340,
    )
    return Markup(svg)


@router.get("/desk/dashboard", name="web_desk_dashboard")
def dashboard(
    page: StaffPage,
    session: SessionDep,
    first: Annotated[str, Query(alias="from", max_length=7)] = "",
    last: Annotated[str, Query(alias="to", max_length=7)] = "",
    team: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    _ = page._
    first, last = _window(page, first, last)
    teams = ticket_teams(session, principal)
    team_id = _team(team, teams)
    board = desk_dashboard(
        session,
        principal,
        first_month=first,
        last_month=last,
        team=team_id,
        now=utc_now(),
        settings=page.settings,
    )
    nobody = _("No team")

    def team_name(tid: int | None) -> str:
        return teams.get(tid, nobody) if tid is not None else nobody

    window = {"from": first, "to": last}
    chosen = None if team_id is None else ("none" if team_id == NO_TEAM else str(team_id))

    def link(figure: str, team_of: int | str | None = "all", **extra: Any) -> dict[str, Any]:
        """The query of a figure's tickets: ``team_of`` a row's team, ``"all"`` the filter's."""
        team_value = chosen if team_of == "all" else _team_param(team_of)  # type: ignore[arg-type]
        return {"figure": figure, **window, "team": team_value, **extra}

    rows = sorted(board.by_team_month.items(), key=lambda item: (item[0][1], team_name(item[0][0])))
    context: dict[str, Any] = {
        "board": board,
        "first": first,
        "last": last,
        "teams": teams,
        "team_choice": chosen or "",
        "ages": [(code, _(AGE_LABELS[code])) for code, _low, _high in AGE_BUCKETS],
        "backlog": sorted(board.backlog, key=lambda r: team_name(r.team_id)),
        "rows": list(reversed(rows)),
        "team_totals": sorted(board.by_team.items(), key=lambda item: team_name(item[0])),
        "team_name": team_name,
        "month_label": lambda month: month_label(page, month),
        "hours": lambda value: hours(page, value),
        "link": link,
        "backlog_chart": backlog_chart(page, board, team_name),
    }
    return page.render("desk/dashboard.html", context, active="dashboard")


@dataclass(frozen=True)
class ListedTicket:
    id: int
    subject: str
    customer: str
    team: str
    status: str
    created_at: Any
    resolved_at: Any


@router.get("/desk/dashboard/tickets", name="web_desk_dashboard_tickets")
def dashboard_tickets(
    page: StaffPage,
    session: SessionDep,
    figure: Annotated[str, Query(max_length=30)],
    first: Annotated[str, Query(alias="from", max_length=7)] = "",
    last: Annotated[str, Query(alias="to", max_length=7)] = "",
    team: Annotated[str, Query(max_length=20)] = "",
    month: Annotated[str, Query(max_length=7)] = "",
    age: Annotated[str, Query(max_length=20)] = "",
    counted: Annotated[str, Query(max_length=5)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    _ = page._
    first, last = _window(page, first, last)
    teams = ticket_teams(session, principal)
    team_id = _team(team, teams)
    only_counted = counted == "1"
    ids = figure_tickets(
        session,
        principal,
        figure=figure,
        first_month=first,
        last_month=last,
        team=team_id,
        month=month or None,
        age=age or None,
        counted=only_counted,
        now=utc_now(),
        settings=page.settings,
    )
    shown = listed_tickets(session, principal, ids[offset : offset + PAGE_SIZE])
    names = customer_names(session, principal, {t.customer_id for t in shown})
    nobody = _("No team")
    title_id = FIGURE_TITLES.get((figure, only_counted), FIGURE_TITLES[(figure, False)])
    filters = {
        "figure": figure,
        "from": first,
        "to": last,
        "team": team or None,
        "month": month or None,
        "age": age or None,
        "counted": "1" if only_counted else None,
    }
    context: dict[str, Any] = {
        "title": _(title_id),
        "count": len(ids),
        "figure": figure,
        "first": first,
        "last": last,
        "month": month,
        "age_label": _(AGE_LABELS[age]) if age in AGE_LABELS else None,
        "team_label": (
            None
            if team_id is None
            else nobody
            if team_id == NO_TEAM
            else teams.get(team_id, nobody)
        ),
        "month_label": lambda m: month_label(page, m),
        "tickets": [
            ListedTicket(
                id=t.id,
                subject=t.subject,
                customer=names.get(t.customer_id, f"#{t.customer_id}"),
                team=teams.get(t.team_id, nobody) if t.team_id is not None else nobody,
                status=t.status,
                created_at=t.created_at,
                resolved_at=t.resolved_at,
            )
            for t in shown
        ],
        "filters": filters,
        "name": namer(page.translator.lookup),
        "previous_offset": max(offset - PAGE_SIZE, 0) if offset > 0 else None,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < len(ids) else None,
    }
    return page.render("desk/dashboard_tickets.html", context, active="dashboard")
