"""The ticket's complaint themes beside the ticket (``tickets/_themes.html``): the themes the
tagging gave it (or an agent set), and, for whoever may work the ticket (``tickets:write``), a
control to correct them (choose the themes) or remove one. The correction is the agent's and
is kept: no later tagging run changes it, and the model learns from it
(:mod:`kehu.feedback.themes`).

Why here: the ticket page is a front door, which composes its panels from the domains' public
use cases (as the customer context beside it does, :mod:`kehu.web.views.customer_context`);
the desk domain itself never imports the feedback domain, and the feedback domain reads the
ticket through the desk's use cases (:func:`kehu.desk.ticket_queries.read_ticket`). A
platform registry of "ticket side panels" would add a layer without removing an import: the
web layer may import every domain already.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.feedback import themes
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage

__all__ = ["ThemeChoice", "TicketThemes", "router", "ticket_themes"]

router = APIRouter()

#: What the ticket page's ``done`` notice says after a correction (kehu.web.views.tickets).
DONE = ("themes",)


@dataclass(frozen=True)
class ThemeChoice:
    id: int
    name: str
    chosen: bool


@dataclass(frozen=True)
class TicketThemes:
    view: themes.TextTags
    names: dict[int, str]
    choices: list[ThemeChoice]
    can_correct: bool


def theme_name(page: Page, name_en: str, name_zh: str) -> str:
    """A theme's name in the page's language."""
    return name_zh if page.translator.info.code.startswith("zh") else name_en


def ticket_themes(
    page: Page, session: Session, principal: Principal, ticket_id: int
) -> dict[str, Any]:
    """``{"ticket_themes": TicketThemes | None}`` for the ticket page (``None`` for a viewer
    who may not read feedback: the panel is then left out)."""
    if not principal.can("feedback:read"):
        return {"ticket_themes": None}
    view = themes.ticket_tags(session, principal, ticket_id)
    chosen = {tag.theme_id for tag in view.tags}
    catalogue = themes.list_themes(session, principal)
    names = {t.id: theme_name(page, t.name_en, t.name_zh) for t in catalogue}
    choices = [ThemeChoice(t.id, names[t.id], t.id in chosen) for t in catalogue if t.active]
    return {"ticket_themes": TicketThemes(view, names, choices, principal.can("tickets:write"))}


def _back(page: Page, ticket_id: int) -> Response:
    target = page.request.url_for("web_ticket", ticket_id=ticket_id).path
    return RedirectResponse(f"{target}?done=themes#ticket-themes", status_code=303)


@router.post("/tickets/{ticket_id}/themes", name="web_ticket_themes")
def post_themes(
    page: StaffPage,
    session: SessionDep,
    ticket_id: Id,
    theme_ids: Annotated[list[int], Form(max_length=50)] = [],  # noqa: B006 (FastAPI form)
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Set the ticket's themes to the ones ticked (none ticked: the ticket is of no theme)."""
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    principal = page.principal
    assert principal is not None  # a StaffPage has one
    themes.correct_ticket_tags(session, principal, ticket_id, theme_ids)
    return _back(page, ticket_id)


@router.post("/tickets/{ticket_id}/themes/{theme_id}/remove", name="web_ticket_theme_remove")
def post_remove_theme(
    page: StaffPage,
    session: SessionDep,
    ticket_id: Id,
    theme_id: Id,
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    principal = page.principal
    assert principal is not None
    themes.remove_ticket_tag(session, principal, ticket_id, theme_id)
    return _back(page, ticket_id)
