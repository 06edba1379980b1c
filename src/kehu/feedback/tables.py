"""Tables owned by the feedback domain: competitors, surveys and their versions, responses and
their answers (migration 0016).

- ``competitors``: the businesses customers compare us with, named once and shared by every
  survey (competitor ratings), and later by the value map and key-account management;
- ``surveys``: a survey's identity, status (draft, published, closed) and its current version;
  ``version`` is the optimistic lock of the survey row (a stale edit is a 409);
- ``survey_versions``: one definition per version (:class:`~kehu.feedback.definition.
  SurveyDefinition` as JSON), never changed once a response was recorded on it;
- ``survey_responses``: one respondent's answers to one version, with its context: customer
  (nullable: anonymous or not matched), ticket, team, channel, invitation (no invitations yet:
  a plain id), language, status ``partial`` or ``submitted``, when started and submitted;
- ``survey_answers``: one row per (response, question, item), with a number, a text or a chosen
  option id, so that results are computed in SQL and handed to the analytics as columns.

Timestamps are UTC. Every foreign key column leads an index (tests/store/test_indexes.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import ID, Base, UTCDateTime, utc_now

__all__ = [
    "RESPONSE_SOURCES",
    "RESPONSE_STATUSES",
    "SURVEY_STATUSES",
    "Competitor",
    "Survey",
    "SurveyAnswer",
    "SurveyResponse",
    "SurveyVersion",
]

SURVEY_STATUSES = ("draft", "published", "closed")
RESPONSE_STATUSES = ("partial", "submitted")
#: ``recorded``: answered through kehu; ``imported``: a past response from a CSV file
RESPONSE_SOURCES = ("recorded", "imported")


class Competitor(Base):
    """A competitor customers rate us against (named in competitor-rating questions by id)."""

    __tablename__ = "competitors"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the template it was made from (kehu.feedback.templates), or NULL
    template: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class SurveyVersion(Base):
    __tablename__ = "survey_versions"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (UniqueConstraint("survey_id", "number"),)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"), index=True)
    #: the version's number (survey_versions.number), kept for grouping without a join
    version_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="partial")
    source: Mapped[str] = mapped_column(String(20), default="recorded")
    language: Mapped[str] = mapped_column(String(20), default="en")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))
    #: the invitation it answers (survey invitations come later: a plain id until then)
    invitation_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    recorded_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_survey_responses_survey_status", "survey_id", "status", "submitted_at"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    #: the part of the answer ("" for a one-part answer; kehu.feedback.definition)
    item: Mapped[str] = mapped_column(String(90), default="")
    number: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    choice: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (UniqueConstraint("response_id", "question_id", "item"),)
