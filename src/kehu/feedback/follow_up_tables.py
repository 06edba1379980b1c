"""Tables of closing the loop (migration 0019): the follow-up items and the one row of rules.

- ``follow_ups``: a customer to be called back about a response (a detractor, a very high effort,
  a very low satisfaction) or an urgent complaint theme: the reason and the score that triggered
  it, status ``open`` -> ``ticket_opened`` (a recovery ticket was filed, ``ticket_id``) ->
  ``closed``, the owner and when it is due; ``version`` is the row's optimistic lock;
- ``follow_up_rules``: the thresholds that open an item and the automatic rule (one row, id 1;
  without it the defaults of :mod:`kehu.feedback.follow_up` apply).

Timestamps are UTC. Every foreign key column leads an index (tests/store/test_indexes.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import ID, Base, UTCDateTime, utc_now

__all__ = ["FOLLOW_UP_REASONS", "FOLLOW_UP_STATUSES", "FollowUp", "FollowUpRules"]

FOLLOW_UP_STATUSES = ("open", "ticket_opened", "closed")
FOLLOW_UP_REASONS = ("detractor", "high_effort", "low_satisfaction", "urgent_theme")


class FollowUp(Base):
    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    #: the response that opened it (unique: one item per response); NULL for a theme's item
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_responses.id"), index=True, unique=True
    )
    reason: Mapped[str] = mapped_column(String(30))
    #: the question whose answer triggered it, and that answer
    question_id: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Float)
    #: the complaint theme of an ``urgent_theme`` item (the theme catalogue's key)
    theme: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    owner_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    #: the recovery ticket was opened by the automatic rule (not by a click)
    opened_by_rule: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    ticket_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class FollowUpRules(Base):
    __tablename__ = "follow_up_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nps_at_most: Mapped[int] = mapped_column(Integer)
    ces_at_most: Mapped[int] = mapped_column(Integer)
    csat_at_most: Mapped[int] = mapped_column(Integer)
    due_days: Mapped[int] = mapped_column(Integer)
    auto_open_high_value: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
