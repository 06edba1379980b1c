"""The service figures page: customer effort and one-stop resolution per team, category and
month, and the kept-promise rate (reliability) per policy, team and month, with SVG bar charts.

The figures come from :mod:`kehu.desk.effort`, over the tickets in the caller's scope (an
agent sees their teams' figures, a manager everyone's).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from babel.dates import format_skeleton
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from kehu.desk.effort import EffortRow, KeptPromiseRow, effort_summary, kept_promise_rates
from kehu.desk.routing import category_path, list_categories, team_names
from kehu.report.svg import bar_chart
from kehu.store.base import utc_now
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

PERIODS = (3, 6, 12, 24)
DEFAULT_PERIOD = 12


def month_label(page: Page, month: str) -> str:
    """``2026-03`` as ``Mar 2026`` / ``2026年3月``."""
    try:
        year, number = (int(part) for part in month.split("-"))
        return str(format_skeleton("yMMM", date(year, number, 1), locale=page.translator.locale))
    except ValueError:
        return month


@dataclass(frozen=True)
class TeamTotals:
    team: str
    tickets: int
    resolved: int
    first_contact_resolutions: int
    transfers: int
    handoffs: int
    customer_contacts: int
    repeats: int
    reopenings: int

    @property
    def first_contact_resolution_rate(self) -> float | None:
        return self.first_contact_resolutions / self.resolved if self.resolved else None

    @property
    def contacts_per_ticket(self) -> float | None:
        return self.customer_contacts / self.tickets if self.tickets else None


def team_totals(rows: list[EffortRow], teams: dict[int, str], nobody: str) -> list[TeamTotals]:
    sums: dict[int | None, list[int]] = defaultdict(lambda: [0] * 8)
    for row in rows:
        s = sums[row.team_id]
        for i, value in enumerate(
            (
                row.tickets,
                row.resolved,
                row.first_contact_resolutions,
                row.transfers,
                row.handoffs,
                row.customer_contacts,
                row.repeats,
                row.reopenings,
            )
        ):
            s[i] += value
    return sorted(
        (
            TeamTotals(teams.get(team_id or 0, nobody) if team_id else nobody, *values)
            for team_id, values in sums.items()
        ),
        key=lambda t: t.team,
    )


def kept_chart(page: Page, rows: list[KeptPromiseRow], teams: dict[int, str]) -> Markup | None:
    """Kept-promise rate per month, one bar per team."""
    if not rows:
        return None
    _ = page._
    nobody = _("No team")
    months = sorted({r.month for r in rows})
    names = sorted({teams.get(r.team_id or 0, nobody) if r.team_id else nobody for r in rows})
    kept: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        key = (teams.get(r.team_id or 0, nobody) if r.team_id else nobody, r.month)
        kept[key][0] += r.kept
        kept[key][1] += r.total
    groups = {
        team: [
            kept[(team, m)][0] / kept[(team, m)][1] if kept[(team, m)][1] else float("nan")
            for m in months
        ]
        for team in names
    }
    translator = page.translator
    svg = bar_chart(
        [month_label(page, m) for m in months],
        groups,
        title=_("Kept-promise rate per month and team"),
        x_label=_("Month of resolution"),
        y_label=_("Promises kept"),
        y_format=lambda v: translator.format_percent(v, 0),
        width=760,
        height=360,
    )
    return Markup(svg)


def effort_chart(page: Page, totals: list[TeamTotals]) -> Markup | None:
    """First-contact resolution rate and transfers per ticket, per team."""
    if not totals:
        return None
    _ = page._
    translator = page.translator
    svg = bar_chart(
        [t.team for t in totals],
        {
            _("First-contact resolution"): [
                t.first_contact_resolution_rate
                if t.first_contact_resolution_rate is not None
                else float("nan")
                for t in totals
            ],
            _("Transfers per ticket"): [t.transfers / t.tickets for t in totals],
        },
        title=_("One-stop resolution and transfers per team"),
        x_label=_("Team"),
        y_label=_("Share of tickets"),
        y_format=lambda v: translator.format_percent(v, 0),
        width=760,
        height=340,
    )
    return Markup(svg)


@router.get("/service", name="web_service_figures")
def service_figures(
    page: StaffPage,
    session: SessionDep,
    months: Annotated[int, Query(ge=1, le=120)] = DEFAULT_PERIOD,
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    _ = page._
    since = utc_now() - timedelta(days=31 * months)
    teams = team_names(session)
    categories = {c.id: category_path(session, c.id) for c in list_categories(session)}
    effort = effort_summary(session, principal, since=since, settings=page.settings)
    kept = kept_promise_rates(session, principal, since=since, settings=page.settings)
    nobody = _("No team")
    totals = team_totals(effort, teams, nobody)
    context: dict[str, Any] = {
        "months": months,
        "periods": PERIODS if months in PERIODS else tuple(sorted({*PERIODS, months})),
        "effort": list(reversed(effort)),
        "kept": list(reversed(kept)),
        "totals": totals,
        "team_name": lambda team_id: teams.get(team_id, nobody) if team_id else nobody,
        "category_name": lambda category_id: (
            categories.get(category_id, "–") if category_id else _("No category")
        ),
        "month_label": lambda month: month_label(page, month),
        "kept_chart": kept_chart(page, kept, teams),
        "effort_chart": effort_chart(page, totals),
    }
    return page.render("service/index.html", context, active="service")
