"""The settings area: its index (:data:`SECTIONS`) and what every settings page shares.

Every settings page exists to change something, so it is refused like the API's write routes
(``Depends(require_permission("settings:write"))`` in :mod:`kehu.api.routes.desk_admin`): the
registered permission layer raises ``PermissionDeniedError`` and the one error map answers 403.
The use cases the pages call ``require`` the permission again; the pages hold no rule of their
own. A form's refused input (422, naming the field) and conflicts (409: someone else changed the
record, or a name is taken) are shown in the form's place with what was typed kept.

The sections of other areas (users, teams, canned replies) are one line each in
:data:`SECTIONS`; a section is offered to principals holding its permission.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from kehu.analytics.tiers import TIER_NAMES
from kehu.core.auth import Principal, require
from kehu.core.i18n import N_
from kehu.desk.workflow import CHANNELS, KINDS, PRIORITIES
from kehu.errors import ConflictError, InputError
from kehu.store.bounds import INT32_MAX, INT32_MIN, MAX_ID
from kehu.web.labels import namer
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

#: What changing the desk's settings needs (the desk registers it; admins hold every permission).
SETTINGS_PERMISSION = "settings:write"


@dataclass(frozen=True)
class SettingsSection:
    """One entry of the settings index: a page and what it is for."""

    key: str
    label: str  # a message id (N_ marked), translated when shown
    description: str  # a message id
    path: str  # the page (a plain path: the pages of other areas may not be installed yet)
    permission: str = SETTINGS_PERMISSION  # offered only to principals holding it


SECTIONS: tuple[SettingsSection, ...] = (
    SettingsSection(
        "users",
        N_("Users"),
        N_("Invite staff, give them roles and teams, deactivate accounts."),
        "/settings/users",
        "users:admin",
    ),
    SettingsSection(
        "teams",
        N_("Teams"),
        N_("The teams that work tickets and their members."),
        "/settings/teams",
    ),
    SettingsSection(
        "calendars",
        N_("Business calendars"),
        N_("Opening hours per weekday in a time zone, holidays and special days."),
        "/settings/calendars",
    ),
    SettingsSection(
        "promises",
        N_("Service promises"),
        N_("First-response and resolution targets, in versions that tickets keep."),
        "/settings/promises",
    ),
    SettingsSection(
        "routing",
        N_("Routing rules"),
        N_("Which team a new ticket goes to, tried in order."),
        "/settings/routing",
    ),
    SettingsSection(
        "escalation",
        N_("Escalation rules"),
        N_("What happens when a service promise is at risk or broken."),
        "/settings/escalation",
    ),
    SettingsSection(
        "categories",
        N_("Ticket categories"),
        N_("The root-cause categories tickets are filed under."),
        "/settings/categories",
    ),
    SettingsSection(
        "macros",
        N_("Canned replies"),
        N_("Prepared replies with placeholders, in both languages, by team."),
        "/settings/macros",
    ),
)


def settings_page(page: StaffPage) -> Page:
    """A settings page: the permission layer refuses a principal who may not change settings
    (403 through the error map), as the API's ``settings:write`` routes do."""
    assert page.principal is not None
    require(page.principal, SETTINGS_PERMISSION)
    return page


SettingsPage = Annotated[Page, Depends(settings_page)]


def principal_of(page: Page) -> Principal:
    principal = page.principal
    assert principal is not None
    return principal


@router.get("/settings", name="web_settings")
def settings_index(page: SettingsPage) -> HTMLResponse:
    principal = principal_of(page)
    offered = [s for s in SECTIONS if principal.can(s.permission)]
    return page.render("settings/index.html", {"sections": offered}, active="settings")


# -- forms -------------------------------------------------------------------------------------

#: The longest value a settings form field may carry, and how many values one field may have.
MAX_FIELD_LENGTH = 2000
MAX_FIELD_VALUES = 200


class PostedForm:
    """A settings form's fields: every value a string, bounded, so that no value reaches a use
    case unparsed. Lists (check boxes) come from :meth:`getlist`."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def get(self, name: str, default: str = "") -> str:
        for key, value in self._items:
            if key == name:
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name and value != ""]

    def kept(self) -> dict[str, Any]:
        """What was typed, for the form shown again (a field given twice keeps a list)."""
        values: dict[str, Any] = {}
        for key, value in self._items:
            if key == "csrf_token":
                continue
            if key in values:
                previous = values[key]
                values[key] = (
                    [*previous, value] if isinstance(previous, list) else [previous, value]
                )
            else:
                values[key] = value
        return values


async def posted_form(request: Request) -> PostedForm:
    form = await request.form()
    items: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise InputError("expected text, not a file", column=key)
        if len(value) > MAX_FIELD_LENGTH:
            raise InputError(f"at most {MAX_FIELD_LENGTH} characters", column=key)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] > MAX_FIELD_VALUES:
            raise InputError(f"at most {MAX_FIELD_VALUES} values", column=key)
        items.append((key, value.strip()))
    return PostedForm(items)


Posted = Annotated[PostedForm, Depends(posted_form)]


def whole_number(text: str, field: str, *, low: int = INT32_MIN, high: int = INT32_MAX) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError("expected a whole number", column=field, value=text) from None
    if not low <= value <= high:
        raise InputError(f"expected a number from {low} to {high}", column=field, value=text)
    return value


def record_id(text: str, field: str) -> int:
    """An id chosen in a form (a select): bounded like the API's ``Id``."""
    return whole_number(text, field, low=1, high=MAX_ID)


def optional_id(text: str, field: str) -> int | None:
    return record_id(text, field) if text else None


def version_of(form: PostedForm) -> int:
    return whole_number(form.get("expected_version"), "expected_version", low=1)


def hours(text: str, field: str) -> timedelta:
    """Business hours typed as a number ("4", "0.5", "1,5"); the use case refuses zero or less."""
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise InputError("expected a number of hours", column=field, value=text) from None
    if not value.is_finite() or abs(value) > 24 * 366 * 10:
        raise InputError("expected a number of hours", column=field, value=text)
    return timedelta(seconds=int(value * 3600))


def share(text: str, field: str) -> float:
    """A percentage typed as "75" (or "75%"), as the share 0.75; strictly between 0 and 100."""
    try:
        value = Decimal(text.rstrip("%").strip().replace(",", "."))
    except InvalidOperation:
        raise InputError("expected a percentage", column=field, value=text) from None
    if not value.is_finite() or not 0 < value < 100:
        raise InputError("expected a percentage between 0 and 100", column=field, value=text)
    return float(value / 100)


def name_of(form: PostedForm, field: str = "name") -> str:
    value = form.get(field)
    if not value or len(value) > 200:
        raise InputError("a name of 1 to 200 characters", column=field, value=value)
    return value


@dataclass(frozen=True)
class Problem:
    """Why a form was refused, in the page's language, and the field it is about."""

    status: int
    message: str
    field: str | None = None


def field_label(page: Page, field: str | None) -> str:
    """The form label of a use case's field name (``weekly_hours.2`` is Wednesday's hours)."""
    _ = page._
    if field is None:
        return ""
    if field.startswith("weekly_hours."):
        day = field.split(".", 1)[1]
        if day.isdigit() and int(day) < 7:
            return _(WEEKDAYS[int(day)])
    base = field.split(".", 1)[0]
    found = FIELD_LABELS.get(base)
    return _(found) if found is not None else field


WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)

FIELD_LABELS = {
    "name": N_("Name"),
    "timezone": N_("Time zone"),
    "weekly_hours": N_("Opening hours"),
    "calendar": N_("Opening hours"),
    "holidays": N_("Holiday"),
    "special_hours": N_("Special day"),
    "special_day": N_("Special day"),
    "first_response": N_("First response"),
    "resolution": N_("Resolution"),
    "calendar_id": N_("Business calendar"),
    "priorities": N_("Priorities"),
    "kinds": N_("Kinds"),
    "channels": N_("Channels"),
    "value_tiers": N_("Value tiers"),
    "warning_thresholds": N_("Warnings at"),
    "order": N_("Order"),
    "position": N_("Order"),
    "team_id": N_("Team"),
    "category_ids": N_("Categories"),
    "action": N_("Action"),
    "target": N_("Promise"),
    "alert_kind": N_("Alert"),
    "threshold": N_("Share of the promise's time"),
    "assignee_id": N_("Assignee"),
    "priority": N_("Priority"),
    "notify_email": N_("E-mail to notify"),
    "parent_id": N_("Parent category"),
    "expected_version": N_("Version"),
}


def _input_message(page: Page, field: str | None) -> str:
    _ = page._
    base = (field or "").split(".", 1)[0]
    messages = {
        "name": _("Enter a name of at most 200 characters."),
        "timezone": _("Enter a known IANA time zone, such as Asia/Shanghai."),
        "weekly_hours": _(
            "Enter opening hours as 09:00-12:00, 13:00-18:00, or leave the day empty when closed."
        ),
        "special_hours": _(
            "Enter opening hours as 09:00-12:00, 13:00-18:00, or leave the day empty when closed."
        ),
        "calendar": _(
            "Check the opening hours: each interval must end after it starts, and at least one "
            "day must be open."
        ),
        "holidays": _("Enter a date as YYYY-MM-DD."),
        "special_day": _("Enter a date as YYYY-MM-DD."),
        "first_response": _("Enter a number of business hours greater than zero."),
        "resolution": _("Enter a number of business hours greater than zero."),
        "calendar_id": _("Choose a business calendar."),
        "warning_thresholds": _(
            "Enter percentages between 0 and 100 separated by commas, such as 75, 90."
        ),
        "threshold": _("Enter a percentage between 0 and 100, such as 75."),
        "order": _("Enter a whole number."),
        "position": _("Enter a whole number."),
        "team_id": _("Choose a team; a rule that reassigns needs a team or an assignee."),
        "assignee_id": _("Choose an active staff member."),
        "notify_email": _("Enter an e-mail address of at most 320 characters."),
        "parent_id": _("Choose a parent category from the list."),
    }
    return messages.get(base, _("Choose from the list or check what you typed."))


def attempt(
    page: Page,
    session: Session,
    change: Callable[[Session, Principal], Any],
    *,
    conflict: Callable[[ConflictError], str],
) -> Problem | None:
    """Run ``change`` in a savepoint of the request's transaction; refused input (422) and a
    conflict (409) come back as a :class:`Problem` to show in the form's place (the savepoint
    is rolled back). A refused permission or a missing record is left to the one error map."""
    _ = page._
    try:
        with session.begin_nested():
            change(session, principal_of(page))
    except ConflictError as error:
        return Problem(409, conflict(error))
    except InputError as error:
        label = field_label(page, error.column)
        message = _input_message(page, error.column)
        text = _("%(field)s: %(problem)s", field=label, problem=message) if label else message
        return Problem(422, text, error.column)
    return None


def stale_or_taken(page: Page, expected: int | None, current: Callable[[], int]) -> Callable:
    """The conflict message of an edit: someone else saved a newer version (the page shows it
    now), or the name is taken."""
    _ = page._

    def message(_error: ConflictError) -> str:
        if expected is not None and current() != expected:
            return _(
                "Someone else changed this after you opened it. The page now shows the latest "
                "version: check it and make your change again."
            )
        return _("That name is taken already; choose another.")

    return message


def codes_offered(page: Page) -> dict[str, list[tuple[str, str]]]:
    """The codes a rule or promise condition may name, with their labels."""
    name = namer(page.translator.lookup)
    return {
        "priorities": [(code, name("priority", code)) for code in PRIORITIES],
        "kinds": [(code, name("ticket_kind", code)) for code in KINDS],
        "channels": [(code, name("ticket_channel", code)) for code in CHANNELS],
        "value_tiers": [
            (code, page.translator.display_name(TIER_NAMES.get(code), code))
            for code in ("high", "middle", "low")
        ],
    }


def invalid_attributes(problem: Problem | None, field: str, form_id: str) -> Markup:
    """`` aria-invalid="true" aria-describedby="<form>-problem"`` on the field the problem
    names (``weekly_hours`` also covers ``weekly_hours.2``), else nothing."""
    named = problem.field if problem is not None else None
    if named and (named == field or named.startswith(f"{field}.")):
        return Markup(' aria-invalid="true" aria-describedby="%s-problem"') % form_id
    return Markup("")


def is_checked(kept: Mapping[str, Any], field: str, code: str, current: Any = ()) -> bool:
    """Whether a check box of ``field`` is ticked: as typed (one value or several), else as
    ``current``."""
    chosen = kept.get(field, current)
    if isinstance(chosen, str):
        chosen = [chosen]
    return code in chosen


def form_context(
    page: Page, problem: Problem | None, kept: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What every settings form template gets: the problem to show and the typed values."""
    return {
        "problem": problem,
        "kept": dict(kept or {}),
        "codes": codes_offered(page),
        "name": namer(page.translator.lookup),
        "invalid": invalid_attributes,
        "is_checked": is_checked,
        "tier_label": lambda code: page.translator.display_name(TIER_NAMES.get(code), code),
    }
