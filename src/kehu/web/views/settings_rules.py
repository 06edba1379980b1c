"""Routing rules, escalation rules and the ticket categories in the settings: the lists, a new
rule or category, and switching a rule on or off. Every change goes through
:mod:`kehu.desk.routing` (``create_routing_rule``, ``set_routing_rule_active``,
``create_escalation_rule``, ``set_escalation_rule_active``, ``create_category``), as the API's
``/api/routing-rules``, ``/api/escalation-rules`` and ``/api/ticket-categories`` routes do.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kehu.core.auth import Principal
from kehu.core.i18n import N_
from kehu.core.users.directory import display_names
from kehu.desk import routing
from kehu.errors import InputError
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page
from kehu.web.views.settings import (
    Posted,
    PostedForm,
    Problem,
    SettingsPage,
    attempt,
    form_context,
    name_of,
    optional_id,
    principal_of,
    record_id,
    share,
    whole_number,
)

router = APIRouter()

Done = Annotated[str | None, Query(max_length=20)]
DONE = ("created", "activated", "deactivated")

ESCALATION_ACTIONS = {
    "reassign": N_("Reassign to a team or a person"),
    "raise_priority": N_("Raise the priority"),
    "notify": N_("Notify by e-mail"),
}
ESCALATION_TARGETS = {"first_response": N_("First response"), "resolution": N_("Resolution")}
ALERT_KINDS = {"warning": N_("At risk (warning)"), "breach": N_("Broken")}


def _done_notice(page: Page, done: str | None) -> str | None:
    _ = page._
    return {
        "created": _("The rule was added."),
        "activated": _("The rule is on."),
        "deactivated": _("The rule is off."),
    }.get(done or "")


def _categories(session: Session) -> dict[int, str]:
    """Every category's path ("Billing > Refund") by id, ordered by path."""
    paths = {c.id: routing.category_path(session, c.id) for c in routing.list_categories(session)}
    return dict(sorted(paths.items(), key=lambda item: (item[1], item[0])))


def _staff(session: Session) -> dict[int, str]:
    """The members of any team (whom a rule may reassign to), by name."""
    ids = {
        uid
        for team_id in routing.team_names(session)
        for uid in routing.team_member_ids(session, team_id)
    }
    names = display_names(session, ids)
    return dict(sorted(names.items(), key=lambda item: (item[1], item[0])))


def _redirect(page: Page, route: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{page.request.url_for(route).path}?done={done}", status_code=303)


def _taken(page: Page) -> Any:
    _ = page._
    return lambda _error: _("That name is taken already; choose another.")


# -- routing rules -----------------------------------------------------------------------------


def _render_routing(
    page: Page,
    session: Session,
    *,
    problem: Problem | None = None,
    kept: dict[str, Any] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    return page.render(
        "settings/routing.html",
        {
            **form_context(page, problem, kept or {"position": "0"}),
            "rules": routing.list_routing_rules(session),
            "teams": routing.team_names(session),
            "categories": _categories(session),
            "category_options": [(str(i), path) for i, path in _categories(session).items()],
            "notice": _done_notice(page, done),
        },
        active="settings",
        status_code=problem.status if problem else 200,
    )


@router.get("/settings/routing", name="web_settings_routing")
def routing_page(page: SettingsPage, session: SessionDep, done: Done = None) -> HTMLResponse:
    return _render_routing(page, session, done=done if done in DONE else None)


@router.post("/settings/routing", name="web_settings_routing_create")
def create_routing_rule(page: SettingsPage, session: SessionDep, form: Posted) -> Response:
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()

    def change(session: Session, principal: Principal) -> None:
        team_id = optional_id(form.get("team_id"), "team_id")
        if team_id is None:
            raise InputError("choose a team", column="team_id")
        routing.create_routing_rule(
            session,
            principal,
            name=name_of(form),
            team_id=team_id,
            position=whole_number(form.get("position") or "0", "position"),
            kinds=form.getlist("kinds"),
            channels=form.getlist("channels"),
            priorities=form.getlist("priorities"),
            category_ids=[record_id(c, "category_ids") for c in form.getlist("category_ids")],
            value_tiers=form.getlist("value_tiers"),
        )

    problem = attempt(page, session, change, conflict=_taken(page))
    if problem is not None:
        return _render_routing(page, session, problem=problem, kept=form.kept())
    return _redirect(page, "web_settings_routing", "created")


def _switch(form: PostedForm) -> bool:
    return form.get("active") == "1"


@router.post("/settings/routing/{rule_id}/active", name="web_settings_routing_active")
def switch_routing_rule(
    page: SettingsPage, session: SessionDep, rule_id: Id, form: Posted
) -> Response:
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()
    active = _switch(form)
    routing.set_routing_rule_active(session, principal_of(page), rule_id, active)
    return _redirect(page, "web_settings_routing", "activated" if active else "deactivated")


# -- escalation rules --------------------------------------------------------------------------


def _render_escalation(
    page: Page,
    session: Session,
    *,
    problem: Problem | None = None,
    kept: dict[str, Any] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    return page.render(
        "settings/escalation.html",
        {
            **form_context(page, problem, kept or {"position": "0"}),
            "rules": routing.list_escalation_rules(session),
            "teams": routing.team_names(session),
            "staff": _staff(session),
            "actions": ESCALATION_ACTIONS,
            "targets": ESCALATION_TARGETS,
            "alert_kinds": ALERT_KINDS,
            "notice": _done_notice(page, done),
        },
        active="settings",
        status_code=problem.status if problem else 200,
    )


@router.get("/settings/escalation", name="web_settings_escalation")
def escalation_page(page: SettingsPage, session: SessionDep, done: Done = None) -> HTMLResponse:
    return _render_escalation(page, session, done=done if done in DONE else None)


@router.post("/settings/escalation", name="web_settings_escalation_create")
def create_escalation_rule(page: SettingsPage, session: SessionDep, form: Posted) -> Response:
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()

    def change(session: Session, principal: Principal) -> None:
        email = form.get("notify_email") or None
        if email is not None and len(email) > 320:
            raise InputError("at most 320 characters", column="notify_email")
        threshold = form.get("threshold")
        routing.create_escalation_rule(
            session,
            principal,
            name=name_of(form),
            action=form.get("action"),
            target=form.get("target") or None,
            alert_kind=form.get("alert_kind") or None,
            threshold=share(threshold, "threshold") if threshold else None,
            team_id=optional_id(form.get("team_id"), "team_id"),
            assignee_id=optional_id(form.get("assignee_id"), "assignee_id"),
            priority=form.get("priority") or None,
            notify_email=email,
            position=whole_number(form.get("position") or "0", "position"),
        )

    problem = attempt(page, session, change, conflict=_taken(page))
    if problem is not None:
        return _render_escalation(page, session, problem=problem, kept=form.kept())
    return _redirect(page, "web_settings_escalation", "created")


@router.post("/settings/escalation/{rule_id}/active", name="web_settings_escalation_active")
def switch_escalation_rule(
    page: SettingsPage, session: SessionDep, rule_id: Id, form: Posted
) -> Response:
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()
    active = _switch(form)
    routing.set_escalation_rule_active(session, principal_of(page), rule_id, active)
    return _redirect(page, "web_settings_escalation", "activated" if active else "deactivated")


# -- ticket categories -------------------------------------------------------------------------


def _render_categories(
    page: Page,
    session: Session,
    *,
    problem: Problem | None = None,
    kept: dict[str, Any] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    _ = page._
    notice = _("The category was added.") if done == "created" else None
    return page.render(
        "settings/categories.html",
        {
            **form_context(page, problem, kept),
            "categories": _categories(session),
            "notice": notice,
        },
        active="settings",
        status_code=problem.status if problem else 200,
    )


@router.get("/settings/categories", name="web_settings_categories")
def categories_page(page: SettingsPage, session: SessionDep, done: Done = None) -> HTMLResponse:
    return _render_categories(page, session, done=done)


@router.post("/settings/categories", name="web_settings_category_create")
def create_category(page: SettingsPage, session: SessionDep, form: Posted) -> Response:
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()
    _ = page._

    def change(session: Session, principal: Principal) -> None:
        routing.create_category(
            session, principal, name_of(form), optional_id(form.get("parent_id"), "parent_id")
        )

    problem = attempt(
        page,
        session,
        change,
        conflict=lambda _error: _("This category exists already there; choose another name."),
    )
    if problem is not None:
        return _render_categories(page, session, problem=problem, kept=form.kept())
    return _redirect(page, "web_settings_categories", "created")
