"""Confirm or dismiss a stored possible duplicate (:mod:`kehu.customers.duplicate_flags`) from
the notice beside a ticket or on the 360 page.

Each is a form post with the session's CSRF token and the flag version the page showed.
Confirming merges the flagged customer into the one it duplicates (``customers:merge``);
dismissing records who and when, for good (``customers:write``); a refused permission is left to
the one error map (403). A flag changed meanwhile or already decided (409) shows the page again
with the reason in place. After the change the browser goes back where the form was: the ticket
(``ticket_id`` given) or the customer page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.customers.duplicate_flags import DuplicateFlagOut, confirm_flag, dismiss_flag, get_flag
from kehu.errors import ConflictError
from kehu.store.bounds import INT32_MAX, MAX_ID, Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage
from kehu.web.views import customers as customer_pages
from kehu.web.views import tickets as ticket_pages

router = APIRouter()

Csrf = Annotated[str | None, Form(max_length=200)]
Version = Annotated[int | None, Form(ge=1, le=INT32_MAX)]
TicketId = Annotated[int | None, Form(ge=1, le=MAX_ID)]


def _decide(
    page: Page,
    session: Session,
    flag_id: int,
    ticket_id: int | None,
    csrf_token: str | None,
    done: str,
    change: Callable[[Session, Principal], DuplicateFlagOut],
) -> Response:
    _ = page._
    principal = page.principal
    assert principal is not None
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    flag = get_flag(session, principal, flag_id)  # NotFoundError outside the caller's scope
    try:
        with session.begin_nested():
            decided = change(session, principal)
    except ConflictError:
        error = _(
            "This possible duplicate was already decided or changed by someone else. Check the "
            "page as it is now."
        )
        if ticket_id is not None:
            return ticket_pages._render_ticket(
                page, session, ticket_id, error=error, status_code=409
            )
        return customer_pages._render_customer(
            page, session, flag.customer_id, error=error, status_code=409
        )
    if ticket_id is not None:
        target = page.request.url_for("web_ticket", ticket_id=ticket_id).path
        return RedirectResponse(f"{target}?done={done}", status_code=303)
    # after a merge the flagged customer is gone: back to the one it was merged into
    customer_id = decided.duplicate_of_id if decided.status == "confirmed" else decided.customer_id
    target = page.request.url_for("web_customer", customer_id=customer_id).path
    return RedirectResponse(f"{target}?done={done}", status_code=303)


@router.post("/customers/duplicate-flags/{flag_id}/confirm", name="web_duplicate_flag_confirm")
def post_confirm(
    page: StaffPage,
    session: SessionDep,
    flag_id: Id,
    expected_version: Version = None,
    ticket_id: TicketId = None,
    csrf_token: Csrf = None,
) -> Response:
    """The same customer: merge the flagged one into the one it duplicates."""

    def change(session: Session, principal: Principal) -> Any:
        return confirm_flag(session, principal, flag_id, expected_version=expected_version)

    return _decide(page, session, flag_id, ticket_id, csrf_token, "duplicate_merged", change)


@router.post("/customers/duplicate-flags/{flag_id}/dismiss", name="web_duplicate_flag_dismiss")
def post_dismiss(
    page: StaffPage,
    session: SessionDep,
    flag_id: Id,
    expected_version: Version = None,
    ticket_id: TicketId = None,
    csrf_token: Csrf = None,
) -> Response:
    """Not the same customer: dismiss the flag for good."""

    def change(session: Session, principal: Principal) -> Any:
        return dismiss_flag(session, principal, flag_id, expected_version=expected_version)

    return _decide(page, session, flag_id, ticket_id, csrf_token, "duplicate_dismissed", change)
