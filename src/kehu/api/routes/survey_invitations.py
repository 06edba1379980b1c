"""Survey invitations (:mod:`kehu.feedback.invitations`): the rules that send a survey (after a
resolved ticket, after a purchase, to a segment on a schedule; reading ``feedback:read``,
changing ``feedback:write``), and a manager's re-send of a ticket's survey (``feedback:write``):
a new link, now, whatever the contact cap; a customer who unsubscribed or refused e-mail, or a
survey already answered, is a 409; a ticket without an invitation a 404. Invitations themselves
are sent by ``kehu worker``. See docs/surveys.md."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from kehu.core.auth import Principal
from kehu.feedback import invitations
from kehu.http.deps import AppSettings, DbSession
from kehu.http.deps import require_permission as permission
from kehu.store.bounds import Id

router = APIRouter(tags=["surveys"])

Reader = Annotated[Principal, Depends(permission("feedback:read"))]
Editor = Annotated[Principal, Depends(permission("feedback:write"))]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    trigger: Literal["ticket_resolved", "purchase", "segment"]
    delay_hours: int = Field(default=0, ge=0, le=24 * 90)
    tier: str | None = Field(default=None, max_length=10)
    rfm_segment: str | None = Field(default=None, max_length=40)
    tag: str | None = Field(default=None, max_length=100)
    every_days: int | None = Field(default=None, ge=1, le=3660)


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    survey_id: int
    trigger: str
    delay_hours: int
    segment_tier: str | None
    segment_rfm: str | None
    segment_tag: str | None
    every_days: int | None
    next_run_at: datetime | None
    active: bool


class RuleActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool


@router.get(
    "/api/surveys/{survey_id}/invitation-rules",
    response_model=list[RuleOut],
    summary="When a survey is sent",
)
def list_invitation_rules(survey_id: Id, session: DbSession, principal: Reader) -> list[RuleOut]:
    return [
        RuleOut.model_validate(r) for r in invitations.list_rules(session, principal, survey_id)
    ]


@router.post(
    "/api/surveys/{survey_id}/invitation-rules",
    response_model=RuleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Send a survey on a trigger",
)
def create_invitation_rule(
    survey_id: Id, body: RuleIn, session: DbSession, principal: Editor
) -> RuleOut:
    rule = invitations.create_rule(
        session,
        principal,
        survey_id,
        body.trigger,
        delay_hours=body.delay_hours,
        tier=body.tier,
        rfm_segment=body.rfm_segment,
        tag=body.tag,
        every_days=body.every_days,
    )
    return RuleOut.model_validate(rule)


@router.patch(
    "/api/survey-invitation-rules/{rule_id}",
    response_model=RuleOut,
    summary="Switch an invitation rule on or off",
)
def change_invitation_rule(
    rule_id: Id, body: RuleActiveIn, session: DbSession, principal: Editor
) -> RuleOut:
    return RuleOut.model_validate(
        invitations.set_rule_active(session, principal, rule_id, body.active)
    )


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
