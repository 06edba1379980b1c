"""The bell and ``/notifications``: one's own notifications (assigned to you, mentioned, a promise
at risk), newest first; opening one marks it read and goes to its page (the ticket); "mark all
read"; one's choice of e-mail. The header's bell loads its count with htmx from
``/notifications/badge`` (so no page pays for it before it is drawn).

Also here: the ticket page's mentions, shown highlighted (:func:`mention_markup`), and the
colleagues the note box suggests after an ``@`` (``/tickets/{id}/mentionable``: those who may
see the ticket).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from kehu.core import notifications
from kehu.core.auth.principal import Principal
from kehu.core.users.mentions import find_mentions, mentionable_users, split_mentions
from kehu.desk import ticket_queries
from kehu.desk.notifications import may_see_ticket
from kehu.store.base import utc_now
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

#: How many notifications the page lists (the newest).
PAGE_SIZE = 100


@dataclass(frozen=True)
class NotificationRow:
    id: int
    title: str
    created_at: datetime
    unread: bool
    link: str | None


def _principal(page: Page) -> Principal:
    principal = page.principal
    assert principal is not None
    return principal


@router.get("/notifications", name="web_notifications")
def notifications_page(page: StaffPage, session: SessionDep) -> HTMLResponse:
    principal = _principal(page)
    unread = notifications.unread_count(session, principal)
    rows = [
        NotificationRow(
            n.id,
            n.title,
            n.created_at,
            n.read_at is None,
            notifications.link_of(n.kind, n.regarding_id),
        )
        for n in notifications.list_notifications(session, principal, limit=PAGE_SIZE)
    ]
    return page.render(
        "notifications/list.html",
        {
            "rows": rows,
            "unread": unread,
            "bell_unread": unread,
            "email_wanted": notifications.own_email_wanted(session, principal),
        },
        active="notifications",
    )


@router.get("/notifications/badge", name="web_notification_badge")
def badge(page: StaffPage, session: SessionDep) -> HTMLResponse:
    """The bell with the unread count (an htmx fragment for the header)."""
    count = notifications.unread_count(session, _principal(page))
    return HTMLResponse(
        page.render_string("notifications/_bell.html", {"bell_unread": count}),
        headers={"Cache-Control": "no-store"},
    )


Csrf = Annotated[str | None, Form(max_length=200)]


@router.post("/notifications/{notification_id}/open", name="web_notification_open")
def open_notification(
    page: StaffPage, session: SessionDep, notification_id: Id, csrf_token: Csrf = None
) -> Response:
    """Mark it read and go to what it is about (back to the list when it has no page)."""
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    read = notifications.mark_read(session, _principal(page), notification_id, now=utc_now())
    target = notifications.link_of(read.kind, read.regarding_id)
    return RedirectResponse(target or page.request.url_for("web_notifications").path, 303)


@router.post("/notifications/read-all", name="web_notifications_read_all")
def read_all(page: StaffPage, session: SessionDep, csrf_token: Csrf = None) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    notifications.mark_all_read(session, _principal(page), now=utc_now())
    return RedirectResponse(page.request.url_for("web_notifications").path, 303)


@router.post("/notifications/email", name="web_notifications_email")
def email_choice(
    page: StaffPage,
    session: SessionDep,
    email: Annotated[str | None, Form(max_length=5)] = None,
    csrf_token: Csrf = None,
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    wanted = email in ("1", "on", "true")
    notifications.set_email_wanted(session, _principal(page), wanted, now=utc_now())
    return RedirectResponse(page.request.url_for("web_notifications").path, 303)


# -- mentions on the ticket page ---------------------------------------------------------------


def mention_markup(session: Session) -> Callable[[str], Markup]:
    """``body -> HTML``: the text escaped, each mention of an active colleague highlighted."""
    users = mentionable_users(session)

    def render(body: str) -> Markup:
        pieces = split_mentions(body, find_mentions(body, users))
        return Markup("").join(
            Markup('<mark class="mention" data-mention="{}" title="{}">{}</mark>').format(
                user.user_id, user.display_name, text
            )
            if user is not None
            else escape(text)
            for text, user in pieces
        )

    return render


@router.get("/tickets/{ticket_id}/mentionable", name="web_ticket_mentionable")
def mentionable(page: StaffPage, session: SessionDep, ticket_id: Id) -> JSONResponse:
    """The colleagues who may see the ticket, for the note box's suggestions after an ``@``."""
    ticket = ticket_queries.get_ticket(session, _principal(page), ticket_id)
    colleagues = [
        {"username": user.username, "name": user.display_name}
        for user in mentionable_users(session)
        if may_see_ticket(session, user.user_id, ticket.id)
    ]
    return JSONResponse(colleagues, headers={"Cache-Control": "no-store"})
