"""Assignment: "take it" (claim) on a ticket, a team's automatic assignment mode, and a user's
absence (away, optionally until an instant), which automatic assignment respects.

Assigning to someone else and unassigning (``assignee_id: null``) is
``POST /api/tickets/{id}/assign`` (:mod:`kehu.api.routes.tickets`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from kehu.api.routes.desk_admin import TeamOut, team_out
from kehu.api.routes.tickets import ActionIn, IfMatch, action_response, expected_version
from kehu.core.auth import Principal
from kehu.core.users import service as users
from kehu.core.users.schemas import AbsenceIn, UserOut
from kehu.desk import assignment, ticket_commands, ticket_queries
from kehu.desk.schemas import TicketDetail
from kehu.http.deps import CurrentPrincipal, DbSession, get_settings
from kehu.http.deps import require_permission as permission
from kehu.store.bounds import Id

router = APIRouter(tags=["assignment"])

Editor = Annotated[Principal, Depends(permission("settings:write"))]
AssignmentMode = Literal["none", "round_robin", "least_open"]


class AssignmentModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignment_mode: AssignmentMode


@router.post(
    "/api/tickets/{ticket_id}/claim",
    summary='"Take it": assign the ticket to yourself (409 if it changed since expected_version)',
)
def claim(
    ticket_id: Id,
    body: ActionIn,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> TicketDetail:
    ticket = ticket_commands.claim(
        session,
        principal,
        ticket_id,
        expected_version=expected_version(body, if_match),
        handling_seconds=body.handling_seconds,
        settings=get_settings(request),
    )
    return action_response(response, ticket_queries.detail_of(session, ticket))


@router.put(
    "/api/teams/{team_id}/assignment",
    summary="How the team assigns tickets arriving without an assignee: none, round_robin "
    "(members in turn) or least_open (the member with the fewest open tickets); away and "
    "deactivated members are passed over",
)
def set_assignment_mode(
    team_id: Id, body: AssignmentModeIn, session: DbSession, principal: Editor
) -> TeamOut:
    assignment.set_assignment_mode(session, principal, team_id, body.assignment_mode)
    return team_out(session, team_id)


@router.put(
    "/api/users/{user_id}/absence",
    summary="Mark a user away (optionally until an instant) or back: one's own, or a "
    "colleague's with users:absence (managers) or users:admin",
)
def set_absence(
    user_id: Id, body: AbsenceIn, session: DbSession, principal: CurrentPrincipal
) -> UserOut:
    user = users.set_absence(
        session, principal, user_id, absent=body.absent, until=body.absent_until
    )
    return UserOut.model_validate(user)
