"""Assignment on the ticket page (``tickets/_assignment.html``): "take it" (the agent assigns
the ticket to themself), assign or reassign to a colleague who may work the ticket's team
(:func:`kehu.desk.assignment.assignable_staff`, checked again by the use case), unassign.

One form, one post: the button pressed is the ``action``. Like every action on the ticket page it
carries the CSRF token and the version the agent saw; a change made meanwhile answers 409 with
"someone else changed this ticket", a colleague outside the team 422, each shown in the form's
place (:func:`kehu.web.views.tickets._act`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.desk import ticket_commands
from kehu.errors import InputError
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import StaffPage
from kehu.web.views.tickets import Csrf, Version, _act

router = APIRouter()

ACTIONS = ("claim", "assign", "unassign")


@router.post("/tickets/{ticket_id}/assignment", name="web_ticket_assignment")
def post_assignment(
    page: StaffPage,
    session: SessionDep,
    ticket_id: Id,
    expected_version: Version,
    action: Annotated[str, Form(max_length=20)] = "",
    assignee_id: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Csrf = None,
) -> Response:
    def change(session: Session, principal: Principal) -> Any:
        if action == "claim":
            return ticket_commands.claim(
                session,
                principal,
                ticket_id,
                expected_version=expected_version,
                settings=page.settings,
            )
        if action == "unassign":
            target = None
        elif action == "assign" and assignee_id.isdigit():
            target = int(assignee_id)
        else:
            raise InputError("choose a colleague", column="assignee_id")
        return ticket_commands.assign(
            session,
            principal,
            ticket_id,
            target,
            expected_version=expected_version,
            settings=page.settings,
            within_team=True,
        )

    return _act(
        page,
        session,
        ticket_id,
        action if action in ACTIONS else "assign",
        expected_version,
        csrf_token,
        change,
        kept={"assignee_id": assignee_id},
    )
