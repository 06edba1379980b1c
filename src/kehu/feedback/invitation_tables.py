"""Tables of survey invitations (migration 0017).

- ``survey_invitation_rules``: when a survey is sent: after a resolved ticket or a purchase
  (``delay_hours`` later), or to a segment (value tier, RFM segment and/or tag, each optional)
  every ``every_days`` days (``next_run_at``: when the segment is next invited);
- ``survey_invitations``: one invitation of one customer to one survey: its trigger and what it
  is about (a ticket -- at most one invitation per ticket, a unique column -- or a purchase
  import), its signed link (``link_id``; only the link's digest is stored, in
  ``signed_links``), the response it started, its status and the times of each step.

Statuses: ``scheduled`` (waiting for its send time), ``sent``, ``reminded``, ``opened``,
``responded``, ``expired`` (the link ran out unanswered) and ``skipped`` (never sent:
``skip_reason`` says why: the customer unsubscribed or refused e-mail, the contact cap, no
address, the survey not published).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import ID, Base, UTCDateTime, utc_now

__all__ = [
    "INVITATION_STATUSES",
    "TRIGGERS",
    "InvitationRule",
    "SurveyInvitation",
]

TRIGGERS = ("ticket_resolved", "purchase", "segment", "manual")
INVITATION_STATUSES = (
    "scheduled",
    "sent",
    "reminded",
    "opened",
    "responded",
    "expired",
    "skipped",
)


class InvitationRule(Base):
    __tablename__ = "survey_invitation_rules"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    #: ticket_resolved, purchase or segment
    trigger: Mapped[str] = mapped_column(String(20))
    delay_hours: Mapped[int] = mapped_column(Integer, default=0)
    segment_tier: Mapped[str | None] = mapped_column(String(10))
    segment_rfm: Mapped[str | None] = mapped_column(String(40))
    segment_tag: Mapped[str | None] = mapped_column(String(100))
    every_days: Mapped[int | None] = mapped_column(Integer)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class SurveyInvitation(Base):
    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    #: the survey's version when the invitation was sent (the response is recorded on the
    #: version current when it starts: kehu.feedback.responses)
    survey_version: Mapped[int | None] = mapped_column(Integer)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_invitation_rules.id"), index=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), unique=True)
    purchase_import_id: Mapped[int | None] = mapped_column(BigInteger)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("signed_links.id"), index=True)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("survey_responses.id"), index=True)
    language: Mapped[str] = mapped_column(String(20), default="en")
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    skip_reason: Mapped[str | None] = mapped_column(String(40))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (
        Index("ix_survey_invitations_status_send_at", "status", "send_at"),
        Index("ix_survey_invitations_customer_sent", "customer_id", "sent_at"),
    )
