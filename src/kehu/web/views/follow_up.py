"""The follow-up queue (``/feedback/follow-up``) and the service-quality gaps
(``/feedback/service-gaps``): issue 10, items 9 and 8, over :mod:`kehu.feedback.follow_up` and
:mod:`kehu.feedback.desk_link` (see docs/follow-up.md).

The queue needs ``feedback:read`` to see; its two buttons (open the recovery ticket, close the
item) are form posts with the session's CSRF token and the item's version, and need
``tickets:write`` (a refusal is left to the one error map, 403). A stale click (the item was
changed meanwhile, 409) shows the queue again with the reason in place. Below the queue: the
outcome per month of the items followed up (came back, next score rose, with n and Wilson
intervals).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from kehu.analytics.association import Correlation
from kehu.core.i18n import N_
from kehu.core.users.directory import display_names
from kehu.customers.queries import customer_names
from kehu.desk.routing import team_names
from kehu.errors import ConflictError, InputError
from kehu.feedback import desk_link, follow_up
from kehu.report.svg import ScatterPoint, scatter_chart
from kehu.store.base import utc_now
from kehu.store.bounds import INT32_MAX, MAX_ID, Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage
from kehu.web.views.service import month_label

router = APIRouter()

Csrf = Annotated[str | None, Form(max_length=200)]
Version = Annotated[int | None, Form(ge=1, le=INT32_MAX)]
StatusFilter = Literal["open", "ticket_opened", "closed", "all"]
ReasonFilter = Literal["detractor", "high_effort", "low_satisfaction", "urgent_theme"]
OUTCOME_DAYS = (30, 60, 90, 180)
PERIODS = (3, 6, 12, 24)
DEFAULT_PERIOD = 12

#: The notices after a change (``?done=``).
DONE = {
    "ticket_opened": N_("Recovery ticket #%(ticket)s opened and assigned to you."),
    "closed": N_("Follow-up closed."),
}


def _render_queue(
    page: Page,
    session: Session,
    *,
    status: StatusFilter = "open",
    reason: ReasonFilter | None = None,
    days: int = 90,
    done: str | None = None,
    ticket: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    _ = page._
    rows = follow_up.list_follow_ups(
        session, principal, status=None if status == "all" else status, reason=reason, limit=200
    )
    names = customer_names(session, principal, {row.customer_id for row in rows})
    owners = display_names(session, (row.owner_id for row in rows))
    outcome = follow_up.outcome_by_month(session, principal, settings=page.settings, days=days)
    notice = None
    if done in DONE and (done != "ticket_opened" or ticket is not None):
        notice = _(DONE[done], ticket=ticket)
    context: dict[str, Any] = {
        "rows": rows,
        "now": utc_now(),
        "customer_name": lambda customer_id: names.get(customer_id, f"#{customer_id}"),
        "owner_name": lambda user_id: owners.get(user_id, f"#{user_id}") if user_id else "–",
        "reasons": follow_up.REASONS,
        "statuses": follow_up.STATUSES,
        "status": status,
        "reason": reason,
        "days": days,
        "outcome_days": OUTCOME_DAYS if days in OUTCOME_DAYS else sorted({*OUTCOME_DAYS, days}),
        "outcome": list(reversed(outcome)),
        "month_label": lambda month: month_label(page, month),
        "can_act": principal.can("tickets:write"),
        "notice": notice,
        "opened_ticket": ticket if notice and done == "ticket_opened" else None,
        "error": error,
    }
    return page.render(
        "feedback/follow_up_queue.html", context, active="follow_up", status_code=status_code
    )


@router.get("/feedback/follow-up", name="web_follow_up")
def follow_up_queue(
    page: StaffPage,
    session: SessionDep,
    status: StatusFilter = "open",
    reason: ReasonFilter | None = None,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
    done: Annotated[str | None, Query(max_length=40)] = None,
    ticket: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    return _render_queue(
        page, session, status=status, reason=reason, days=days, done=done, ticket=ticket
    )


def _change(
    page: Page,
    session: Session,
    follow_up_id: int,
    csrf_token: str | None,
    expected_version: int | None,
    *,
    recovery: bool,
) -> Response:
    _ = page._
    principal = page.principal
    assert principal is not None
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    follow_up.get_follow_up(session, principal, follow_up_id)  # NotFoundError out of scope
    try:
        with session.begin_nested():
            if recovery:
                row = follow_up.open_recovery_ticket(
                    session,
                    principal,
                    follow_up_id,
                    settings=page.settings,
                    expected_version=expected_version,
                )
            else:
                row = follow_up.close_follow_up(
                    session, principal, follow_up_id, expected_version=expected_version
                )
    except ConflictError:
        error = _(
            "This follow-up was changed by someone else meanwhile (its recovery ticket may be "
            "open already, or it was closed). Check the queue as it is now."
        )
        return _render_queue(page, session, status="all", error=error, status_code=409)
    except InputError as problem:
        if problem.column != "team_id":
            raise
        error = _(
            "You are in no team, so you could not see the recovery ticket. Ask a lead to open "
            "it, or to add you to a team."
        )
        return _render_queue(page, session, error=error, status_code=422)
    target = page.request.url_for("web_follow_up").path
    if recovery:
        return RedirectResponse(f"{target}?done=ticket_opened&ticket={row.ticket_id}", 303)
    return RedirectResponse(f"{target}?done=closed", status_code=303)


@router.post("/feedback/follow-up/{follow_up_id}/recovery-ticket", name="web_follow_up_recover")
def post_recovery_ticket(
    page: StaffPage,
    session: SessionDep,
    follow_up_id: Id,
    expected_version: Version = None,
    csrf_token: Csrf = None,
) -> Response:
    """One click: the recovery ticket, assigned to the one who clicked."""
    return _change(page, session, follow_up_id, csrf_token, expected_version, recovery=True)


@router.post("/feedback/follow-up/{follow_up_id}/close", name="web_follow_up_close")
def post_close(
    page: StaffPage,
    session: SessionDep,
    follow_up_id: Id,
    expected_version: Version = None,
    csrf_token: Csrf = None,
) -> Response:
    return _change(page, session, follow_up_id, csrf_token, expected_version, recovery=False)


# -- the service-quality gaps -------------------------------------------------------------------


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _team_month_points(
    page: Page, rows: list[Any], x: str, y: str, team: Any
) -> list[ScatterPoint]:
    """One point per rated team-month (``x`` and ``y`` name the row's fields), coloured by team,
    teams in name order; its tooltip names the team and the month."""
    ordered = sorted(rows, key=lambda row: str(team(row.team_id)))
    return [
        ScatterPoint(
            getattr(row, x),
            _nan(getattr(row, y)),
            f"{team(row.team_id)} {month_label(page, row.month)}",
            group=str(team(row.team_id)),
        )
        for row in ordered
    ]


def _reliability_chart(page: Page, gaps: desk_link.ReliabilityGaps, team: Any) -> Markup | None:
    """Kept-promise rate against the mean reliability rating, per rated team-month."""
    rated = [row for row in gaps.rows if row.mean_reliability is not None]
    if not rated:
        return None
    _ = page._
    translator = page.translator
    return Markup(
        scatter_chart(
            _team_month_points(page, rated, "kept_rate", "mean_reliability", team),
            title=_("Kept promises and the reliability rating, per team and month"),
            x_label=_("Kept-promise rate"),
            y_label=_("Reliability rating (0-100)"),
            x_range=(0.0, 1.0),
            y_range=(0.0, 100.0),
            x_format=lambda v: translator.format_percent(v, 0),
            point_text=False,
            width=760,
            height=360,
        )
    )


def _effort_chart(page: Page, gaps: desk_link.EffortGaps, team: Any) -> Markup | None:
    """Transfers per ticket against the mean CES answer, per rated team-month."""
    rated = [row for row in gaps.rows if row.mean_ces is not None]
    if not rated:
        return None
    _ = page._
    return Markup(
        scatter_chart(
            _team_month_points(page, rated, "transfers_per_ticket", "mean_ces", team),
            title=_("Transfers and the effort score, per team and month"),
            x_label=_("Transfers per ticket"),
            y_label=_("Mean CES (1-7, 7 = easy)"),
            y_range=(1.0, 7.0),
            point_text=False,
            width=760,
            height=360,
        )
    )


def _finite(correlation: Correlation | None) -> Correlation | None:
    """A correlation whose r is a number (the page shows "not enough data" otherwise)."""
    if correlation is None or not math.isfinite(correlation.estimate):
        return None
    return correlation


@router.get("/feedback/service-gaps", name="web_service_gaps")
def service_gaps(
    page: StaffPage,
    session: SessionDep,
    months: Annotated[int, Query(ge=1, le=120)] = DEFAULT_PERIOD,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    _ = page._
    since = utc_now() - timedelta(days=31 * months)
    settings = page.settings
    reliability = desk_link.reliability_gaps(session, principal, since=since, settings=settings)
    effort = desk_link.effort_gaps(session, principal, since=since, settings=settings)
    drop = desk_link.loyalty_drop(session, principal, since=since, days=days, settings=settings)
    names = team_names(session)
    nobody = _("No team")

    def team(team_id: int | None) -> str:
        return names.get(team_id, nobody) if team_id else nobody

    context: dict[str, Any] = {
        "months": months,
        "periods": PERIODS if months in PERIODS else tuple(sorted({*PERIODS, months})),
        "days": days,
        "reliability": reliability,
        "effort": effort,
        "correlations": {
            "kept_by_team_month": _finite(reliability.by_team_month),
            "kept_by_ticket": _finite(reliability.by_ticket),
            "transfers_by_team_month": _finite(effort.transfers_by_team_month),
            "transfers_by_ticket": _finite(effort.transfers_by_ticket),
            "repeats_by_ticket": _finite(effort.repeats_by_ticket),
        },
        "drop": drop,
        "team_name": team,
        "month_label": lambda month: month_label(page, month),
        "reliability_chart": _reliability_chart(page, reliability, team),
        "effort_chart": _effort_chart(page, effort, team),
    }
    return page.render("feedback/service_gaps.html", context, active="follow_up")
