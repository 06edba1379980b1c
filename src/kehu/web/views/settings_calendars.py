"""Business calendars in the settings: the list, a new calendar, and one calendar's weekly hours,
time zone, holidays and special days. Every change goes through :mod:`kehu.desk.sla_store`
(``create_calendar``, ``update_calendar`` with the version the manager saw), as the API's
``/api/calendars`` routes do; editing a calendar gives the promises using it a new version.

Opening hours are typed per weekday as ``09:00-12:00, 13:00-18:00`` (empty: closed).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kehu.core.auth import Principal
from kehu.desk import sla_store
from kehu.errors import InputError
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page
from kehu.web.views.settings import (
    WEEKDAYS,
    Posted,
    PostedForm,
    Problem,
    SettingsPage,
    attempt,
    form_context,
    name_of,
    stale_or_taken,
    version_of,
)

router = APIRouter()

#: The hours a new calendar's form starts with: Monday to Friday, 09:00 to 18:00.
DEFAULT_HOURS = {str(day): "09:00-18:00" for day in range(5)}
Done = Annotated[str | None, Query(max_length=20)]
DONE = ("created", "saved", "holiday_added", "holiday_removed", "special_added", "special_removed")


def hours_text(intervals: Any) -> str:
    """``[["09:00", "12:00"], ["13:00", "18:00"]]`` as ``09:00-12:00, 13:00-18:00``."""
    return ", ".join(f"{start}-{end}" for start, end in intervals or [])


def parse_hours(text: str, field: str) -> list[list[str]]:
    """``09:00-12:00, 13:00-18:00`` as pairs; the times themselves are checked by the desk."""
    pairs = []
    for part in text.replace("，", ",").replace("；", ",").replace(";", ",").split(","):
        part = part.strip().replace("–", "-").replace("—", "-")
        if not part:
            continue
        start, dash, end = part.partition("-")
        if not dash or not start.strip() or not end.strip():
            raise InputError("expected hours such as 09:00-18:00", column=field, value=part)
        pairs.append([start.strip(), end.strip()])
    return pairs


def _weekly(form: PostedForm) -> dict[str, list[list[str]]]:
    weekly = {}
    for day in range(7):
        pairs = parse_hours(form.get(f"hours_{day}"), f"weekly_hours.{day}")
        if pairs:
            weekly[str(day)] = pairs
    return weekly


def _as_json(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "timezone": row.timezone,
        "weekly_hours": dict(row.weekly_hours or {}),
        "holidays": list(row.holidays or []),
        "special_hours": dict(row.special_hours or {}),
    }


def _calendar_values(row: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"name": row.name, "timezone": row.timezone}
    for day in range(7):
        values[f"hours_{day}"] = hours_text((row.weekly_hours or {}).get(str(day)))
    return values


def _done_notice(page: Page, done: str | None) -> str | None:
    _ = page._
    return {
        "created": _("The business calendar was added."),
        "saved": _(
            "The calendar was saved; the service promises using it have a new version "
            "(open tickets keep the promise they were given)."
        ),
        "holiday_added": _("The holiday was added."),
        "holiday_removed": _("The holiday was removed."),
        "special_added": _("The special day was added."),
        "special_removed": _("The special day was removed."),
    }.get(done or "")


# -- the list and a new calendar ---------------------------------------------------------------


def _render_list(
    page: Page,
    session: Session,
    *,
    problem: Problem | None = None,
    kept: dict[str, Any] | None = None,
    done: Done = None,
) -> HTMLResponse:
    calendars = sla_store.list_calendars(session)
    values = kept or {
        "timezone": page.settings.timezone,
        **{f"hours_{d}": h for d, h in DEFAULT_HOURS.items()},
    }
    return page.render(
        "settings/calendars.html",
        {
            **form_context(page, problem, values),
            "calendars": calendars,
            "weekdays": WEEKDAYS,
            "hours_text": hours_text,
            "notice": _done_notice(page, done),
        },
        active="settings",
        status_code=problem.status if problem else 200,
    )


@router.get("/settings/calendars", name="web_settings_calendars")
def calendars_page(page: SettingsPage, session: SessionDep, done: Done = None) -> HTMLResponse:
    return _render_list(page, session, done=done if done in DONE else None)


@router.post("/settings/calendars", name="web_settings_calendar_create")
def create_calendar(page: SettingsPage, session: SessionDep, form: Posted) -> Response:
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()
    _ = page._
    created: list[int] = []

    def change(session: Session, principal: Principal) -> None:
        calendar = sla_store.calendar_from_json(
            {
                "name": name_of(form),
                "timezone": form.get("timezone"),
                "weekly_hours": _weekly(form),
            }
        )
        created.append(sla_store.create_calendar(session, principal, calendar).id)

    problem = attempt(
        page,
        session,
        change,
        conflict=lambda _error: _("That name is taken already; choose another."),
    )
    if problem is not None:
        return _render_list(page, session, problem=problem, kept=form.kept())
    target = page.request.url_for("web_settings_calendar", calendar_id=created[0]).path
    return RedirectResponse(f"{target}?done=created", status_code=303)


# -- one calendar ------------------------------------------------------------------------------


def _render_calendar(
    page: Page,
    session: Session,
    calendar_id: int,
    *,
    problem: Problem | None = None,
    kept: dict[str, Any] | None = None,
    form_name: str | None = None,
    done: Done = None,
) -> HTMLResponse:
    row = sla_store.get_calendar(session, calendar_id)
    values = _calendar_values(row)
    if kept is not None and form_name == "hours":
        values = kept
    return page.render(
        "settings/calendar.html",
        {
            **form_context(page, problem, values),
            "calendar": row,
            "weekdays": WEEKDAYS,
            "hours_text": hours_text,
            "special_days": sorted((row.special_hours or {}).items()),
            "form_name": form_name,
            "typed": kept or {},
            "notice": _done_notice(page, done),
        },
        active="settings",
        status_code=problem.status if problem else 200,
    )


@router.get("/settings/calendars/{calendar_id}", name="web_settings_calendar")
def calendar_page(
    page: SettingsPage, session: SessionDep, calendar_id: Id, done: Done = None
) -> HTMLResponse:
    return _render_calendar(page, session, calendar_id, done=done if done in DONE else None)


def _save(
    page: Page,
    session: Session,
    calendar_id: int,
    form: PostedForm,
    form_name: str,
    done: str,
    edit: Any,
) -> Response:
    """Apply ``edit`` (the calendar as JSON -> the changed JSON) through ``update_calendar``
    with the version the manager saw."""
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()
    row = sla_store.get_calendar(session, calendar_id)
    expected: list[int] = []

    def change(session: Session, principal: Principal) -> None:
        expected.append(version_of(form))
        data = edit(_as_json(row))
        sla_store.update_calendar(
            session,
            principal,
            calendar_id,
            sla_store.calendar_from_json(data),
            expected_version=expected[0],
        )

    def current() -> int:
        session.expire_all()
        return sla_store.get_calendar(session, calendar_id).version

    problem = attempt(
        page,
        session,
        change,
        conflict=lambda error: stale_or_taken(page, expected[0] if expected else None, current)(
            error
        ),
    )
    if problem is not None:
        session.expire_all()
        return _render_calendar(
            page, session, calendar_id, problem=problem, kept=form.kept(), form_name=form_name
        )
    target = page.request.url_for("web_settings_calendar", calendar_id=calendar_id).path
    return RedirectResponse(f"{target}?done={done}", status_code=303)


@router.post("/settings/calendars/{calendar_id}", name="web_settings_calendar_save")
def save_calendar(
    page: SettingsPage, session: SessionDep, calendar_id: Id, form: Posted
) -> Response:
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        return {
            **data,
            "name": name_of(form),
            "timezone": form.get("timezone"),
            "weekly_hours": _weekly(form),
        }

    return _save(page, session, calendar_id, form, "hours", "saved", edit)


@router.post("/settings/calendars/{calendar_id}/holidays", name="web_settings_holiday_add")
def add_holiday(page: SettingsPage, session: SessionDep, calendar_id: Id, form: Posted) -> Response:
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        day = form.get("holiday")
        if not day:
            raise InputError("a date is needed", column="holidays")
        return {**data, "holidays": sorted({*data["holidays"], day})}

    return _save(page, session, calendar_id, form, "holiday", "holiday_added", edit)


@router.post(
    "/settings/calendars/{calendar_id}/holidays/remove", name="web_settings_holiday_remove"
)
def remove_holiday(
    page: SettingsPage, session: SessionDep, calendar_id: Id, form: Posted
) -> Response:
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        day = form.get("holiday")
        return {**data, "holidays": [d for d in data["holidays"] if d != day]}

    return _save(page, session, calendar_id, form, "holiday_remove", "holiday_removed", edit)


@router.post("/settings/calendars/{calendar_id}/special", name="web_settings_special_add")
def add_special_day(
    page: SettingsPage, session: SessionDep, calendar_id: Id, form: Posted
) -> Response:
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        day = form.get("special_day")
        if not day:
            raise InputError("a date is needed", column="special_day")
        pairs = parse_hours(form.get("special_hours"), f"special_hours.{day}")
        return {**data, "special_hours": {**data["special_hours"], day: pairs}}

    return _save(page, session, calendar_id, form, "special", "special_added", edit)


@router.post("/settings/calendars/{calendar_id}/special/remove", name="web_settings_special_remove")
def remove_special_day(
    page: SettingsPage, session: SessionDep, calendar_id: Id, form: Posted
) -> Response:
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        day = form.get("special_day")
        return {
            **data,
            "special_hours": {d: h for d, h in data["special_hours"].items() if d != day},
        }

    return _save(page, session, calendar_id, form, "special_remove", "special_removed", edit)
