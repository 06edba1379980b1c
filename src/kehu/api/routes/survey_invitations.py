"""Survey invitations (:mod:`kehu.feedback.invitations`): a manager re-sends a ticket's survey
(``feedback:write``): a new link, now, whatever the contact cap; a customer who unsubscribed
or refused e-mail, or a survey already answered, is a 409; a ticket without an invitation a 404.
Invitations themselves are sent by ``kehu worker``. See docs/surveys.md."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from kehu.core.auth import Principal
from kehu.feedback import invitations
from kehu.http.deps import AppSettings, DbSession
from kehu.http.deps import require_permission as permission
from kehu.store.bounds import Id

router = APIRouter(tags=["surveys"])

Editor = Annotated[Principal, Depends(permission("feedback:write"))]


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    survey_id: int
    customer_id: int
    ticket_id: int | None
    trigger: str
    status: str
    sent_at: datetime | None
    expires_at: datetime | None


@router.post(
    "/api/tickets/{ticket_id}/survey-invitation/resend",
    response_model=InvitationOut,
    summary="Send a ticket's survey again",
)
def resend_ticket_survey(
    ticket_id: Id, session: DbSession, principal: Editor, settings: AppSettings
) -> InvitationOut:
    """Send the ticket's survey invitation again, with a new link."""
    invitation = invitations.resend_for_ticket(session, principal, ticket_id, settings=settings)
    return InvitationOut.model_validate(invitation)
