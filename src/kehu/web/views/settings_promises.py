"""Service promises (SLA policies) in the settings: the current version of each, a new promise,
and one promise's page where saving writes a new version (tickets keep the version they were
promised) beside the history of its versions and what each changed. Every change goes through
:mod:`kehu.desk.sla_store` (``create_policy``, ``revise_policy`` with the version the manager
saw, ``deactivate_policy``, ``activate_policy``), as the API's ``/api/sla-policies`` routes do.

Targets are typed in business hours ("4", "0.5"); warnings as percentages of the target's time.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kehu.core.auth import Principal
from kehu.core.i18n import N_
from kehu.core.users.directory import display_names
from kehu.desk import sla_store
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
    hours,
    name_of,
    optional_id,
    share,
    stale_or_taken,
    version_of,
    whole_number,
)

router = APIRouter()

DONE = ("created", "revised", "deactivated", "activated")
#: The terms of a version, in the order the history shows what changed.
TERMS = (
    "first_response_seconds",
    "resolution_seconds",
    "calendar_id",
    "priorities",
    "kinds",
    "channels",
    "value_tiers",
    "warning_thresholds",
    "order",
)
#: What the history calls each term (a message id).
TERM_LABELS = {
    "first_response_seconds": N_("First response"),
    "resolution_seconds": N_("Resolution"),
    "calendar_id": N_("Business calendar"),
    "calendar": N_("Calendar hours"),
    "priorities": N_("Priorities"),
    "kinds": N_("Kinds"),
    "channels": N_("Channels"),
    "value_tiers": N_("Value tiers"),
    "warning_thresholds": N_("Warnings at"),
    "order": N_("Order"),
}
CONDITIONS = ("priorities", "kinds", "channels", "value_tiers")


def hours_value(seconds: int) -> str:
    """Seconds as the hours a form shows: ``4``, ``0.5``, ``1.25``."""
    text = f"{seconds / 3600:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def percent_list(shares: list[float]) -> str:
    return ", ".join(f"{round(s * 100, 2):g}" for s in shares)


def _version_values(version: Any) -> dict[str, Any]:
    return {
        "first_response": hours_value(version.first_response_seconds),
        "resolution": hours_value(version.resolution_seconds),
        "calendar_id": str(version.calendar_id),
        "priorities": list(version.priorities),
        "kinds": list(version.kinds),
        "channels": list(version.channels),
        "value_tiers": list(version.value_tiers),
        "warning_thresholds": percent_list(version.warning_thresholds),
        "order": str(version.order),
    }


def _terms(form: PostedForm) -> dict[str, Any]:
    """The terms of a version as ``create_policy``/``revise_policy`` take them."""
    thresholds_text = form.get("warning_thresholds")
    thresholds = [
        share(part, "warning_thresholds")
        for part in thresholds_text.replace("，", ",").split(",")
        if part.strip()
    ]
    calendar_id = optional_id(form.get("calendar_id"), "calendar_id")
    if calendar_id is None:
        raise InputError("choose a calendar", column="calendar_id")
    return {
        "first_response": hours(form.get("first_response"), "first_response"),
        "resolution": hours(form.get("resolution"), "resolution"),
        "calendar_id": calendar_id,
        **{field: form.getlist(field) for field in CONDITIONS},
        "warning_thresholds": thresholds,
        "order": whole_number(form.get("order") or "0", "order"),
    }


def _done_notice(page: Page, done: str | None) -> str | None:
    _ = page._
    return {
        "created": _("The service promise was added."),
        "revised": _(
            "A new version of the service promise was saved; new tickets get it, open tickets "
            "keep the version they were given."
        ),
        "deactivated": _("New tickets no longer get this promise; tickets that have it keep it."),
        "activated": _("New tickets may get this promise again."),
    }.get(done or "")


def _calendars(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in sla_store.list_calendars(session)}


# -- the list and a new promise ----------------------------------------------------------------


def _render_list(
    page: Page,
    session: Session,
    *,
    problem: Problem | None = None,
    kept: dict[str, Any] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    policies = sla_store.list_policies(session, include_inactive=True)
    current = {
        policy.id: next(
            v
            for v in sla_store.policy_versions(session, policy.id)
            if v.version == policy.current_version
        )
        for policy in policies
    }
    values = kept or {"warning_thresholds": "75", "order": "0"}
    return page.render(
        "settings/promises.html",
        {
            **form_context(page, problem, values),
            "policies": policies,
            "current": current,
            "calendars": _calendars(session),
            "hours_value": hours_value,
            "percent_list": percent_list,
            "notice": _done_notice(page, done),
        },
        active="settings",
        status_code=problem.status if problem else 200,
    )


Done = Annotated[str | None, Query(max_length=20)]


@router.get("/settings/promises", name="web_settings_promises")
def promises_page(page: SettingsPage, session: SessionDep, done: Done = None) -> HTMLResponse:
    return _render_list(page, session, done=done if done in DONE else None)


@router.post("/settings/promises", name="web_settings_promise_create")
def create_promise(page: SettingsPage, session: SessionDep, form: Posted) -> Response:
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()
    _ = page._
    created: list[int] = []

    def change(session: Session, principal: Principal) -> None:
        version = sla_store.create_policy(session, principal, name=name_of(form), **_terms(form))
        created.append(version.policy_id)

    problem = attempt(
        page,
        session,
        change,
        conflict=lambda _error: _("That name is taken already; choose another."),
    )
    if problem is not None:
        return _render_list(page, session, problem=problem, kept=form.kept())
    target = page.request.url_for("web_settings_promise", policy_id=created[0]).path
    return RedirectResponse(f"{target}?done=created", status_code=303)


# -- one promise -------------------------------------------------------------------------------


def _changes(previous: Any, version: Any) -> list[str]:
    """The terms ``version`` changed from ``previous`` (the first version changed nothing)."""
    if previous is None:
        return []
    changed = [t for t in TERMS if getattr(previous, t) != getattr(version, t)]
    if previous.calendar != version.calendar and "calendar_id" not in changed:
        changed.append("calendar")
    return changed


def _render_promise(
    page: Page,
    session: Session,
    policy_id: int,
    *,
    problem: Problem | None = None,
    kept: dict[str, Any] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    policy = sla_store.get_policy(session, policy_id)
    versions = sla_store.policy_versions(session, policy_id)
    current = next(v for v in versions if v.version == policy.current_version)
    history = [
        (version, _changes(versions[i - 1] if i else None, version))
        for i, version in enumerate(versions)
    ]
    authors = display_names(session, {v.created_by for v in versions})
    return page.render(
        "settings/promise.html",
        {
            **form_context(page, problem, kept if kept is not None else _version_values(current)),
            "policy": policy,
            "current": current,
            "history": list(reversed(history)),
            "authors": authors,
            "term_labels": TERM_LABELS,
            "calendars": _calendars(session),
            "hours_value": hours_value,
            "percent_list": percent_list,
            "notice": _done_notice(page, done),
        },
        active="settings",
        status_code=problem.status if problem else 200,
    )


@router.get("/settings/promises/{policy_id}", name="web_settings_promise")
def promise_page(
    page: SettingsPage, session: SessionDep, policy_id: Id, done: Done = None
) -> HTMLResponse:
    return _render_promise(page, session, policy_id, done=done if done in DONE else None)


@router.post("/settings/promises/{policy_id}", name="web_settings_promise_revise")
def revise_promise(
    page: SettingsPage, session: SessionDep, policy_id: Id, form: Posted
) -> Response:
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()
    sla_store.get_policy(session, policy_id)
    expected: list[int] = []

    def change(session: Session, principal: Principal) -> None:
        expected.append(version_of(form))
        sla_store.revise_policy(
            session, principal, policy_id, expected_version=expected[0], **_terms(form)
        )

    def current() -> int:
        session.expire_all()
        return sla_store.get_policy(session, policy_id).current_version

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
        return _render_promise(page, session, policy_id, problem=problem, kept=form.kept())
    target = page.request.url_for("web_settings_promise", policy_id=policy_id).path
    return RedirectResponse(f"{target}?done=revised", status_code=303)


@router.post("/settings/promises/{policy_id}/active", name="web_settings_promise_active")
def switch_promise(
    page: SettingsPage, session: SessionDep, policy_id: Id, form: Posted
) -> Response:
    """Deactivate (new tickets no longer get it) or activate a promise again."""
    if not page.csrf_ok(form.get("csrf_token")):
        return page.expired_form()
    principal = page.principal
    assert principal is not None
    if form.get("active") == "1":
        sla_store.activate_policy(session, principal, policy_id)
        done = "activated"
    else:
        sla_store.deactivate_policy(session, principal, policy_id)
        done = "deactivated"
    target = page.request.url_for("web_settings_promise", policy_id=policy_id).path
    return RedirectResponse(f"{target}?done={done}", status_code=303)
