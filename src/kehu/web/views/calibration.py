"""The promise calibration page: per service promise target, how often it was kept over a window,
the target that would have been kept 95% of the time (with the sample size) and the expected kept
rate under it or under a target the manager types; a manager turns it into a new version of the
promise in one step (:mod:`kehu.desk.calibration`).

Reading counts the tickets in the caller's scope, like the service figures. The apply form is
offered only to those who may change service promises (``settings:write``); the use case checks
it. A stale version (someone changed the promise meanwhile) answers 409 and bad input 422, each
shown in the target's card with what was typed kept.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.units import format_unit
from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from kehu.analytics.tiers import TIER_NAMES
from kehu.desk.calibration import (
    MAX_TARGET,
    Calibration,
    TargetCalibration,
    apply_target,
    default_window,
    promise_calibration,
)
from kehu.desk.routing import category_path, list_categories
from kehu.desk.sla import SlaTarget
from kehu.errors import ConflictError, InputError
from kehu.report.svg import Marker, Series, line_chart
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.labels import PRIORITIES, SLA_TARGETS, TICKET_CHANNELS, TICKET_KINDS, namer
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

Text = Annotated[str, Form(max_length=20)]
Csrf = Annotated[str | None, Form(max_length=200)]


def duration(page: Page, delta: timedelta) -> str:
    """``3 hr 10 min`` / ``3小时 10分钟``: business hours and minutes (rounded up to a minute)."""
    minutes = -(-delta // timedelta(minutes=1))
    hours, rest = divmod(minutes, 60)
    locale = page.translator.locale
    parts = []
    if hours:
        parts.append(format_unit(hours, "duration-hour", length="short", locale=locale))
    if rest or not hours:
        parts.append(format_unit(rest, "duration-minute", length="short", locale=locale))
    return " ".join(str(p) for p in parts)


def split_minutes(delta: timedelta | None) -> tuple[str, str]:
    """The hours and minutes fields of a form for ``delta`` (rounded up to a minute)."""
    if delta is None:
        return "", ""
    hours, rest = divmod(-(-delta // timedelta(minutes=1)), 60)
    return str(hours), str(rest)


def parse_target(hours: str, minutes: str) -> timedelta:
    """A target from the hours and minutes fields; bad input names the field."""
    values = []
    for name, text in (("hours", hours), ("minutes", minutes)):
        text = text.strip() or "0"
        if not text.isdigit():
            raise InputError("enter whole hours and minutes", column=name, value=text)
        values.append(int(text))
    target = timedelta(hours=values[0], minutes=values[1])
    if target < timedelta(minutes=1) or target > MAX_TARGET:
        raise InputError("a target is from one minute to 365 days", column="hours")
    return target


def combination(page: Page, row: TargetCalibration) -> str:
    """The tickets a promise applies to, e.g. ``Complaint · Urgent · High value``."""
    _ = page._
    translator = page.translator
    parts = [
        *(_(TICKET_KINDS.get(code, code)) for code in row.kinds),
        *(_(PRIORITIES.get(code, code)) for code in row.priorities),
        *(translator.display_name(TIER_NAMES.get(code), code) for code in row.value_tiers),
        *(_(TICKET_CHANNELS.get(code, code)) for code in row.channels),
    ]
    return " · ".join(parts) if parts else _("Any ticket")


def kept_curve(page: Page, row: TargetCalibration) -> Markup | None:
    """The share of the window's tickets a target of x business hours would have kept (a step
    line through the measured times), with the promise now and the suggestion marked."""
    if row.sample < 2:
        return None
    _ = page._
    translator = page.translator
    n = row.sample
    hours = [e / timedelta(hours=1) for e in row.elapsed]
    xs, ys = [0.0], [0.0]
    for i, value in enumerate(hours):
        xs += [value, value]
        ys += [i / n, (i + 1) / n]
    promised = row.current_target / timedelta(hours=1)
    suggested = row.suggested / timedelta(hours=1) if row.suggested is not None else None
    right = max([hours[-1], promised, suggested or 0.0]) * 1.05
    xs.append(right)
    ys.append(1.0)
    markers = [Marker(promised, row.current_kept_rate or 0.0, _("Promised now"))]
    if suggested is not None and abs(suggested - promised) > right * 0.05:
        markers.append(Marker(suggested, row.suggested_kept_rate or 0.0, _("Suggested target")))
    svg = line_chart(
        [Series(_("Would have been kept"), xs, ys)],
        title=_("Share of tickets kept, by target"),
        x_label=_("Target in business hours"),
        y_label=_("Share of tickets kept"),
        x_range=(0.0, right),
        y_range=(0.0, 1.0),
        x_format=lambda v: translator.format_number(v, 1 if right < 10 else 0),
        y_format=lambda v: translator.format_percent(v, 0),
        markers=markers,
        width=560,
        height=320,
    )
    return Markup(svg)


def _window(page: Page, start: date | None, end: date | None) -> tuple[date, date]:
    default_start, default_end = default_window(page.settings)
    return start or default_start, end or default_end


def _card_id(row: TargetCalibration) -> str:
    return f"target-{row.policy_id}-{row.target.value}"


def _render(
    page: Page,
    session: Session,
    calibration: Calibration,
    *,
    tried: tuple[int, SlaTarget, timedelta] | None = None,
    problem: tuple[int, SlaTarget, str, tuple[str, str]] | None = None,
    applied: tuple[int, SlaTarget, int] | None = None,
    window_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = page._
    principal = page.principal
    assert principal is not None
    categories = {c.id: category_path(session, c.id) for c in list_categories(session)}
    cards = []
    for row in calibration.rows:
        key = (row.policy_id, row.target)
        tried_target = tried[2] if tried is not None and tried[:2] == key else None
        error = problem[2] if problem is not None and problem[:2] == key else None
        typed = problem[3] if problem is not None and problem[:2] == key else None
        proposal = tried_target or row.suggested
        cards.append(
            {
                "row": row,
                "id": _card_id(row),
                "label": _(SLA_TARGETS[row.target.value]).capitalize(),
                "combination": combination(page, row),
                "tried": tried_target,
                "tried_rate": (
                    row.expected_kept_rate(tried_target) if tried_target is not None else None
                ),
                "fields": typed or split_minutes(proposal),
                "error": error,
                "applied": applied is not None and applied[:2] == key,
                "chart": kept_curve(page, row),
            }
        )
    context: dict[str, Any] = {
        "calibration": calibration,
        "cards": cards,
        "window_error": window_error,
        "applied_version": applied[2] if applied is not None else None,
        "can_apply": principal.can("settings:write"),
        "duration": lambda delta: duration(page, delta),
        "name": namer(page._),
        "category_name": lambda category_id: (
            categories.get(category_id, "–") if category_id else _("No category")
        ),
        "tier_name": lambda code: (
            page.translator.display_name(TIER_NAMES.get(code), code) if code else "–"
        ),
        "window_query": urlencode(
            {"from": calibration.start.isoformat(), "to": calibration.end.isoformat()}
        ),
    }
    return page.render(
        "service/calibration.html", context, active="service", status_code=status_code
    )


@router.get("/service/calibration", name="web_service_calibration")
def calibration_page(
    page: StaffPage,
    session: SessionDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    policy: Id | None = None,
    target: SlaTarget | None = None,
    hours: Annotated[str, Query(max_length=20)] = "",
    minutes: Annotated[str, Query(max_length=20)] = "",
    applied: Annotated[int | None, Query(ge=1, le=2_000_000_000)] = None,
) -> Response:
    principal = page.principal
    assert principal is not None
    start, end = _window(page, from_, to)
    try:
        result = promise_calibration(
            session, principal, start=start, end=end, settings=page.settings
        )
    except InputError:
        _ = page._
        start, end = _window(page, None, None)
        result = promise_calibration(
            session, principal, start=start, end=end, settings=page.settings
        )
        message = _("The window must not end before it starts, nor span more than ten years.")
        return _render(page, session, result, window_error=message, status_code=422)
    if policy is None or target is None:
        return _render(page, session, result)
    if applied is not None:
        return _render(page, session, result, applied=(policy, target, applied))
    try:
        tried = parse_target(hours, minutes)
    except InputError:
        _ = page._
        message = _("Enter a target of whole hours and minutes, at least one minute.")
        return _render(
            page,
            session,
            result,
            problem=(policy, target, message, (hours, minutes)),
            status_code=422,
        )
    return _render(page, session, result, tried=(policy, target, tried))


@router.post("/service/calibration", name="web_service_calibration_apply")
def apply_calibration(
    page: StaffPage,
    session: SessionDep,
    policy_id: Annotated[int, Form(ge=1, le=2_000_000_000)],
    target: Annotated[SlaTarget, Form()],
    expected_version: Annotated[int, Form(ge=1, le=2_000_000_000)],
    from_: Annotated[date, Form(alias="from")],
    to: Annotated[date, Form()],
    hours: Text = "",
    minutes: Text = "",
    csrf_token: Csrf = None,
) -> Response:
    """Make the typed (or suggested) target the promise's new version; back to the page with the
    expected kept rate under it, or the reason in the target's card."""
    _ = page._
    principal = page.principal
    assert principal is not None
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    problem: str | None = None
    status_code = 200
    try:
        with session.begin_nested():
            applied = apply_target(
                session,
                principal,
                policy_id=policy_id,
                target=target,
                new_target=parse_target(hours, minutes),
                expected_version=expected_version,
                start=from_,
                end=to,
                settings=page.settings,
            )
    except ConflictError:
        status_code = 409
        problem = _(
            "Someone else changed this service promise after you opened the page. The page now "
            "shows its latest version: check the figures and apply again."
        )
    except InputError as error:
        status_code = 422
        if error.column in ("hours", "minutes", "target_seconds"):
            problem = _("Enter a target of whole hours and minutes, at least one minute.")
        else:
            problem = _("Check the field %(field)s.", field=error.column or "–")
    if problem is not None:
        result = promise_calibration(
            session, principal, start=from_, end=to, settings=page.settings
        )
        return _render(
            page,
            session,
            result,
            problem=(policy_id, target, problem, (hours, minutes)),
            status_code=status_code,
        )
    query = urlencode(
        {
            "from": from_.isoformat(),
            "to": to.isoformat(),
            "policy": applied.policy_id,
            "target": applied.target.value,
            "applied": applied.version,
        }
    )
    path = page.request.url_for("web_service_calibration").path
    return RedirectResponse(f"{path}?{query}#target-{policy_id}-{target.value}", status_code=303)
