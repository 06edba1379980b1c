"""The canned replies settings page (``/settings/macros``): list, create, edit and delete the
desk's macros (:mod:`kehu.desk.macros`).

Everyone who reads tickets sees the list (their teams' macros and every team's); the forms are
offered to those holding ``macros:write`` (managers and admins), and the use cases check it
again. A refused save (an unknown placeholder, no body, no name: 422) or a stale one (someone
else saved the macro first: 409) shows the form again with the reason beside the field and
everything typed kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.core.i18n import N_
from kehu.desk import macros
from kehu.desk.routing import team_names
from kehu.errors import ConflictError, InputError
from kehu.store.bounds import INT32_MAX, Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

#: What each placeholder is filled with, for the form's help (translated where shown).
PLACEHOLDER_HELP: dict[str, str] = {
    "customer_name": N_("the customer's name"),
    "ticket_number": N_("the ticket's number, such as 44 (write # before it for #44)"),
    "ticket_subject": N_("the ticket's subject"),
    "agent_name": N_("your name, the agent who replies"),
    "team_name": N_("the ticket's team"),
    "promise_due": N_("when the running service promise is due (empty when none runs)"),
}
DONE = ("created", "saved", "deleted")

Text = Annotated[str, Form(max_length=macros.BODY_MAX)]
Csrf = Annotated[str | None, Form(max_length=200)]


def _principal(page: Page) -> Principal:
    principal = page.principal
    assert principal is not None
    return principal


def _list_path(page: Page) -> str:
    return page.request.url_for("web_settings_macros").path


@router.get("/settings/macros", name="web_settings_macros")
def macro_list(
    page: StaffPage,
    session: SessionDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    _ = page._
    principal = _principal(page)
    notices = {
        "created": _("The canned reply was added."),
        "saved": _("The canned reply was saved."),
        "deleted": _("The canned reply was deleted."),
    }
    return page.render(
        "settings/macros.html",
        {
            "macros": macros.list_macros(session, principal),
            "teams": team_names(session),
            "can_manage": principal.can("macros:write"),
            "notice": notices.get(done or ""),
        },
        active="settings",
    )


def _form(
    page: Page,
    session: Session,
    *,
    macro_id: int | None,
    values: dict[str, Any],
    error: str | None = None,
    error_field: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = page._
    return page.render(
        "settings/macros_form.html",
        {
            "macro_id": macro_id,
            "values": values,
            "teams": team_names(session),
            "placeholders": [(name, _(text)) for name, text in PLACEHOLDER_HELP.items()],
            "error": error,
            "error_field": error_field,
        },
        active="settings",
        status_code=status_code,
    )


def _values(
    name: str, team_id: str, body_en: str, body_zh: str, version: int | None
) -> dict[str, Any]:
    return {
        "name": name,
        "team_id": team_id,
        "body_en": body_en,
        "body_zh": body_zh,
        "version": version,
    }


@router.get("/settings/macros/new", name="web_settings_macro_new")
def new_macro(page: StaffPage, session: SessionDep) -> HTMLResponse:
    return _form(page, session, macro_id=None, values=_values("", "", "", "", None))


@router.get("/settings/macros/{macro_id}", name="web_settings_macro")
def edit_macro(page: StaffPage, session: SessionDep, macro_id: Id) -> HTMLResponse:
    macro = macros.get_macro(session, _principal(page), macro_id)
    team = "" if macro.team_id is None else str(macro.team_id)
    values = _values(macro.name, team, macro.body_en, macro.body_zh, macro.version)
    return _form(page, session, macro_id=macro.id, values=values)


def _problem(page: Page, error: InputError) -> str:
    """What is wrong with the form, in the page's language."""
    _ = page._
    if error.column in ("body_en", "body_zh") and isinstance(error.value, str):
        known = ", ".join(f"{{{name}}}" for name in macros.PLACEHOLDERS)
        return _(
            "Unknown placeholder {%(name)s}. The known ones are: %(known)s.",
            name=error.value,
            known=known,
        )
    if error.column in ("body_en", "body_zh"):
        return _("Write the reply in English, in Chinese, or both.")
    if error.column == "name":
        return _("Give the canned reply a name.")
    if error.column == "team_id":
        return _("Choose a team, or all teams.")
    return _("Check the field %(field)s.", field=error.column or "–")


def _save(
    page: Page,
    session: Session,
    *,
    macro_id: int | None,
    values: dict[str, Any],
    csrf_token: str | None,
) -> Response:
    """Create or update in a savepoint; back to the list, or the form again with the reason."""
    _ = page._
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    principal = _principal(page)
    team = values["team_id"]
    team_id = int(team) if team.isdigit() else None
    fields = {
        "name": values["name"],
        "team_id": team_id,
        "body_en": values["body_en"],
        "body_zh": values["body_zh"],
    }
    if team and team_id is None:
        return _form(
            page,
            session,
            macro_id=macro_id,
            values=values,
            error=_("Choose a team, or all teams."),
            error_field="team_id",
            status_code=422,
        )
    try:
        with session.begin_nested():
            if macro_id is None:
                macros.create_macro(session, principal, **fields)
            else:
                macros.update_macro(
                    session, principal, macro_id, expected_version=values["version"], **fields
                )
    except InputError as error:
        return _form(
            page,
            session,
            macro_id=macro_id,
            values=values,
            error=_problem(page, error),
            error_field=error.column,
            status_code=422,
        )
    except ConflictError:
        if macro_id is not None and values["version"] is not None:
            current = macros.get_macro(session, principal, macro_id).version
            if current != values["version"]:
                message = _(
                    "Someone else changed this canned reply after you opened it. Your text is "
                    "kept below; reload the page to see their version."
                )
                return _form(
                    page, session, macro_id=macro_id, values=values, error=message, status_code=409
                )
        return _form(
            page,
            session,
            macro_id=macro_id,
            values=values,
            error=_("A canned reply with this name exists already for this team."),
            error_field="name",
            status_code=409,
        )
    return RedirectResponse(
        f"{_list_path(page)}?done={'created' if macro_id is None else 'saved'}", status_code=303
    )


@router.post("/settings/macros", name="web_settings_macro_create")
def create_macro(
    page: StaffPage,
    session: SessionDep,
    name: Annotated[str, Form(max_length=macros.NAME_MAX)] = "",
    team_id: Annotated[str, Form(max_length=20)] = "",
    body_en: Text = "",
    body_zh: Text = "",
    csrf_token: Csrf = None,
) -> Response:
    values = _values(name, team_id, body_en, body_zh, None)
    return _save(page, session, macro_id=None, values=values, csrf_token=csrf_token)


@router.post("/settings/macros/{macro_id}", name="web_settings_macro_update")
def update_macro(
    page: StaffPage,
    session: SessionDep,
    macro_id: Id,
    expected_version: Annotated[int, Form(ge=1, le=INT32_MAX)],
    name: Annotated[str, Form(max_length=macros.NAME_MAX)] = "",
    team_id: Annotated[str, Form(max_length=20)] = "",
    body_en: Text = "",
    body_zh: Text = "",
    csrf_token: Csrf = None,
) -> Response:
    values = _values(name, team_id, body_en, body_zh, expected_version)
    return _save(page, session, macro_id=macro_id, values=values, csrf_token=csrf_token)


@router.post("/settings/macros/{macro_id}/delete", name="web_settings_macro_delete")
def delete_macro(
    page: StaffPage,
    session: SessionDep,
    macro_id: Id,
    expected_version: Annotated[int, Form(ge=1, le=INT32_MAX)],
    csrf_token: Csrf = None,
) -> Response:
    _ = page._
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    principal = _principal(page)
    try:
        with session.begin_nested():
            macros.delete_macro(session, principal, macro_id, expected_version=expected_version)
    except ConflictError:
        macro = macros.get_macro(session, principal, macro_id)
        team = "" if macro.team_id is None else str(macro.team_id)
        values = _values(macro.name, team, macro.body_en, macro.body_zh, macro.version)
        message = _(
            "Someone else changed this canned reply after you opened it; it was not deleted. "
            "Check their version below."
        )
        return _form(
            page, session, macro_id=macro_id, values=values, error=message, status_code=409
        )
    return RedirectResponse(f"{_list_path(page)}?done=deleted", status_code=303)
