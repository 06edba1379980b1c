"""Settings pages for people: staff accounts (``/settings/users``) and teams
(``/settings/teams``).

- Users: invite (a new account with a role and a language, and an initial password made here and
  shown once, for the administrator to hand over; the new colleague changes it after signing
  in), change a role, deactivate and reactivate (``users:admin``); mark someone away, optionally
  until a date, or back (``users:absence``: managers; one's own absence: everyone). Someone
  without ``users:absence`` sees only their own absence form.
- Teams: add a team, set how it assigns arriving tickets (none, round robin, fewest open),
  add and remove members (``settings:write``).

Every change is a use case that checks its permission (a refused one is the error map's 403
page); the page only decides which forms to offer. A conflict (409: the last administrator, an
e-mail in use) or refused input (422) shows the page again with the reason in place and what
was typed kept; otherwise post, redirect, get with a notice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.core.users import service as users
from kehu.core.users.assignees import active_staff
from kehu.core.users.tables import LOCALES
from kehu.desk import assignment, routing
from kehu.desk.assignment import ASSIGNMENT_MODE_NAMES, ASSIGNMENT_MODES
from kehu.errors import ConflictError, InputError
from kehu.store.base import utc_now
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.i18n import LOCALES as LOCALE_INFO
from kehu.web.rendering import ROLE_LABELS, Page, StaffPage

router = APIRouter()

ROLES = tuple(ROLE_LABELS)
Csrf = Annotated[str | None, Form(max_length=200)]
Text = Annotated[str, Form(max_length=320)]


def _principal(page: Page) -> Principal:
    principal = page.principal
    assert principal is not None
    return principal


# -- users -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    display_name: str
    role: str
    locale: str
    is_active: bool
    away: bool
    away_through: date | None  # the last day away (the stored until is the next midnight)
    teams: list[str]


def _away_through(page: Page, until: datetime | None) -> date | None:
    if until is None:
        return None
    return (until.astimezone(page.settings.zone) - timedelta(days=1)).date()


def _until(page: Page, through: str) -> datetime | None:
    """The instant an absence ends: the midnight after its last day, in the business zone."""
    if not through:
        return None
    try:
        last_day = date.fromisoformat(through)
    except ValueError:
        raise InputError("not a date", column="absent_until", value=through) from None
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=page.settings.zone)


def _user_rows(page: Page, session: Session, principal: Principal) -> list[UserRow]:
    now = utc_now()
    if principal.can("users:absence"):
        accounts = users.staff_list(session, principal)
    else:
        assert principal.user_id is not None
        accounts = [users.get_user(session, principal, principal.user_id)]
    memberships: dict[int, list[str]] = {}
    if principal.can("settings:write"):
        for team in assignment.team_settings(session, principal):
            for user_id in team.member_ids:
                memberships.setdefault(user_id, []).append(team.name)
    return [
        UserRow(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            locale=user.locale,
            is_active=user.is_active,
            away=users.is_away(user, now),
            away_through=_away_through(page, user.absent_until) if user.absent else None,
            teams=memberships.get(user.id, []),
        )
        for user in accounts
    ]


def _render_users(
    page: Page,
    session: Session,
    *,
    notice: str | None = None,
    error: str | None = None,
    kept: dict[str, str] | None = None,
    invited: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = _principal(page)
    return page.render(
        "settings/users.html",
        {
            "rows": _user_rows(page, session, principal),
            "roles": ROLES,
            "role_names": ROLE_LABELS,
            "locales": [LOCALE_INFO[code] for code in LOCALES if code in LOCALE_INFO],
            "can_admin": principal.can("users:admin"),
            "can_absence": principal.can("users:absence"),
            "can_teams": principal.can("settings:write"),
            "notice": notice,
            "error": error,
            "kept": kept or {},
            "invited": invited,
        },
        active="settings",
        status_code=status_code,
    )


def _problem(page: Page, error: ConflictError | InputError) -> str:
    _ = page._
    if isinstance(error, ConflictError):
        text = str(error)
        if "last active administrator" in text:
            return _("This is the last active administrator: appoint another one first.")
        if "already exists" in text:
            return _("A user with this e-mail address exists already.")
        if "exists already" in text:
            return _("A team with this name exists already.")
        return _("This change is not allowed now: %(reason)s", reason=text)
    fields = {
        "email": _("Enter a valid e-mail address."),
        "display_name": _("Enter a name."),
        "absent_until": _("Choose a last day away that is today or later."),
        "name": _("Enter a name for the team."),
        "user_id": _("Choose an active colleague."),
        "assignment_mode": _("Choose how the team assigns tickets."),
        "role": _("Choose a role."),
        "locale": _("Choose a language."),
    }
    return fields.get(error.column or "", _("Check the field %(field)s.", field=error.column))


def _change(
    page: Page,
    session: Session,
    csrf_token: str | None,
    change: Callable[[Session, Principal], Any],
    *,
    done: str,
    back: str,
    kept: dict[str, str],
) -> Response:
    """Run ``change`` in a savepoint; back to ``back`` (a route name) with ``done`` as the
    notice, or the page again with the reason and what was typed."""
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    try:
        with session.begin_nested():
            change(session, _principal(page))
    except (ConflictError, InputError) as error:
        status_code = 409 if isinstance(error, ConflictError) else 422
        render = _render_users if back == "web_settings_users" else _render_teams
        return render(
            page, session, error=_problem(page, error), kept=kept, status_code=status_code
        )
    target = page.request.url_for(back).path
    return RedirectResponse(f"{target}?done={done}", status_code=303)


def _user_notices(page: Page) -> dict[str, str]:
    _ = page._
    return {
        "role": _("The role was changed."),
        "profile": _("The name and language were saved."),
        "deactivate": _("The user was deactivated; their sessions and API tokens ended."),
        "activate": _("The user can sign in again."),
        "away": _("The absence was saved; automatic assignment passes them over."),
        "back": _("Welcome back: automatic assignment includes them again."),
    }


@router.get("/settings/users", name="web_settings_users")
def users_page(
    page: StaffPage,
    session: SessionDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    return _render_users(page, session, notice=_user_notices(page).get(done or ""))


@router.post("/settings/users/invite", name="web_settings_user_invite")
def invite_user(
    page: StaffPage,
    session: SessionDep,
    email: Text = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "agent",
    locale: Annotated[str, Form(max_length=10)] = "en",
    csrf_token: Csrf = None,
) -> Response:
    """A new colleague, with an initial password shown on this answer only (never stored in
    clear, never in a URL)."""
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    kept = {"email": email, "display_name": display_name, "role": role, "locale": locale}
    password = secrets.token_urlsafe(max(12, page.settings.password_min_length))
    try:
        with session.begin_nested():
            user = users.create_user(
                session,
                _principal(page),
                email=email,
                display_name=display_name,
                role=role,
                password=password,
                locale=locale,
                settings=page.settings,
            )
    except (ConflictError, InputError) as error:
        status_code = 409 if isinstance(error, ConflictError) else 422
        return _render_users(
            page, session, error=_problem(page, error), kept=kept, status_code=status_code
        )
    invited = {"email": user.email, "name": user.display_name, "password": password}
    return _render_users(page, session, invited=invited)


@router.post("/settings/users/{user_id}/password", name="web_settings_user_password")
def new_password(
    page: StaffPage,
    session: SessionDep,
    user_id: Id,
    csrf_token: Csrf = None,
) -> Response:
    """A new initial password for a colleague who lost theirs (their sessions and API tokens
    end), shown on this answer only, like an invitation's."""
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    password = secrets.token_urlsafe(max(12, page.settings.password_min_length))
    with session.begin_nested():
        user = users.reset_password(session, _principal(page), user_id, password, page.settings)
    invited = {"email": user.email, "name": user.display_name, "password": password}
    return _render_users(page, session, invited=invited)


@router.post("/settings/users/{user_id}/profile", name="web_settings_user_profile")
def change_profile(
    page: StaffPage,
    session: SessionDep,
    user_id: Id,
    display_name: Annotated[str, Form(max_length=200)] = "",
    locale: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Csrf = None,
) -> Response:
    return _change(
        page,
        session,
        csrf_token,
        lambda session, principal: users.update_user(
            session, principal, user_id, display_name=display_name, locale=locale or None
        ),
        done="profile",
        back="web_settings_users",
        kept={f"name_{user_id}": display_name},
    )


@router.post("/settings/users/{user_id}/role", name="web_settings_user_role")
def change_role(
    page: StaffPage,
    session: SessionDep,
    user_id: Id,
    role: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Csrf = None,
) -> Response:
    return _change(
        page,
        session,
        csrf_token,
        lambda session, principal: users.update_user(session, principal, user_id, role=role),
        done="role",
        back="web_settings_users",
        kept={},
    )


@router.post("/settings/users/{user_id}/active", name="web_settings_user_active")
def change_active(
    page: StaffPage,
    session: SessionDep,
    user_id: Id,
    action: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Csrf = None,
) -> Response:
    def change(session: Session, principal: Principal) -> Any:
        if action == "activate":
            return users.activate_user(session, principal, user_id)
        return users.deactivate_user(session, principal, user_id)

    return _change(
        page,
        session,
        csrf_token,
        change,
        done="activate" if action == "activate" else "deactivate",
        back="web_settings_users",
        kept={},
    )


@router.post("/settings/users/{user_id}/absence", name="web_settings_user_absence")
def change_absence(
    page: StaffPage,
    session: SessionDep,
    user_id: Id,
    action: Annotated[str, Form(max_length=20)] = "away",
    through: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Csrf = None,
) -> Response:
    away = action != "back"

    def change(session: Session, principal: Principal) -> Any:
        until = _until(page, through) if away else None
        return users.set_absence(session, principal, user_id, absent=away, until=until)

    return _change(
        page,
        session,
        csrf_token,
        change,
        done="away" if away else "back",
        back="web_settings_users",
        kept={f"through_{user_id}": through},
    )


# -- teams -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    away: bool


@dataclass(frozen=True)
class TeamRow:
    id: int
    name: str
    email: str | None
    assignment_mode: str
    members: list[Member]
    addable: list[Member]


def _render_teams(
    page: Page,
    session: Session,
    *,
    notice: str | None = None,
    error: str | None = None,
    kept: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = _principal(page)
    staff = active_staff(session, utc_now())
    people = {m.user_id: Member(m.user_id, m.display_name, m.away) for m in staff}
    rows = []
    for team in assignment.team_settings(session, principal):
        members = [people[user_id] for user_id in team.member_ids if user_id in people]
        addable = [m for m in people.values() if m.user_id not in team.member_ids]
        rows.append(TeamRow(team.id, team.name, team.email, team.assignment_mode, members, addable))
    return page.render(
        "settings/teams.html",
        {
            "teams": rows,
            "modes": ASSIGNMENT_MODES,
            "mode_names": ASSIGNMENT_MODE_NAMES,
            "notice": notice,
            "error": error,
            "kept": kept or {},
        },
        active="settings",
        status_code=status_code,
    )


def _team_notices(page: Page) -> dict[str, str]:
    _ = page._
    return {
        "created": _("The team was added."),
        "mode": _("The team's automatic assignment was changed."),
        "member_added": _("The colleague was added to the team."),
        "member_removed": _("The colleague was removed from the team."),
    }


@router.get("/settings/teams", name="web_settings_teams")
def teams_page(
    page: StaffPage,
    session: SessionDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    return _render_teams(page, session, notice=_team_notices(page).get(done or ""))


@router.post("/settings/teams", name="web_settings_team_create")
def create_team(
    page: StaffPage,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    email: Text = "",
    assignment_mode: Annotated[str, Form(max_length=20)] = "none",
    csrf_token: Csrf = None,
) -> Response:
    def change(session: Session, principal: Principal) -> Any:
        team = routing.create_team(session, principal, name, email=email.strip() or None)
        assignment.set_assignment_mode(session, principal, team.id, assignment_mode)

    return _change(
        page,
        session,
        csrf_token,
        change,
        done="created",
        back="web_settings_teams",
        kept={"name": name, "email": email, "assignment_mode": assignment_mode},
    )


@router.post("/settings/teams/{team_id}/assignment", name="web_settings_team_assignment")
def change_mode(
    page: StaffPage,
    session: SessionDep,
    team_id: Id,
    assignment_mode: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Csrf = None,
) -> Response:
    return _change(
        page,
        session,
        csrf_token,
        lambda session, principal: assignment.set_assignment_mode(
            session, principal, team_id, assignment_mode
        ),
        done="mode",
        back="web_settings_teams",
        kept={},
    )


@router.post("/settings/teams/{team_id}/members", name="web_settings_team_member_add")
def add_member(
    page: StaffPage,
    session: SessionDep,
    team_id: Id,
    user_id: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Csrf = None,
) -> Response:
    def change(session: Session, principal: Principal) -> Any:
        if not user_id.isdigit():
            raise InputError("choose a colleague", column="user_id")
        routing.add_team_member(session, principal, team_id, int(user_id))

    return _change(
        page,
        session,
        csrf_token,
        change,
        done="member_added",
        back="web_settings_teams",
        kept={},
    )


@router.post(
    "/settings/teams/{team_id}/members/{user_id}/remove", name="web_settings_team_member_remove"
)
def remove_member(
    page: StaffPage,
    session: SessionDep,
    team_id: Id,
    user_id: Id,
    csrf_token: Csrf = None,
) -> Response:
    def change(session: Session, principal: Principal) -> Any:
        routing.get_team(session, team_id)
        routing.remove_team_member(session, principal, team_id, user_id)

    return _change(
        page,
        session,
        csrf_token,
        change,
        done="member_removed",
        back="web_settings_teams",
        kept={},
    )
