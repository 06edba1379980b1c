"""Pydantic shapes of the service desk's input and output (used by the API, CLI and web).

:func:`parse` turns a ``ValidationError`` into an :class:`~kehu.errors.InputError` that names the
field, so every front door reports bad input the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kehu.errors import InputError
from kehu.store.bounds import Id

Kind = Literal["complaint", "inquiry", "request", "praise"]
Channel = Literal["phone", "email", "web_form", "chat", "in_person"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "in_progress", "waiting_on_customer", "resolved", "closed"]

MAX_TEXT = 20_000

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any) -> M:
    """``model`` validated from ``data``; the first problem becomes an :class:`InputError`
    naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InputError(first["msg"], column=field) from None


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: Id
    kind: Kind
    channel: Channel
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=MAX_TEXT)
    priority: Priority = "normal"
    category_id: Id | None = None
    #: An explicit team overrides the routing rules.
    team_id: Id | None = None
    assignee_id: Id | None = None


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    kind: str
    channel: str
    priority: str
    status: str
    status_category: str
    subject: str
    description: str
    team_id: int | None
    assignee_id: int | None
    category_id: int | None
    repeat_of_id: int | None
    merged_into_id: int | None
    split_from_id: int | None
    sla_policy_version_id: int | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_due_at: datetime | None
    sla_kept: bool | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class TargetOut(BaseModel):
    """One target of the service promise (first response or resolution) now."""

    state: str  # running, paused, met, breached
    goal_seconds: int
    consumed_seconds: int
    remaining_seconds: int  # negative when overdue
    due_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None


class SlaOut(BaseModel):
    policy_id: int
    policy_version: int
    policy_name: str
    evaluated_at: datetime
    paused: bool
    breached: bool
    kept: bool | None
    first_response: TargetOut
    resolution: TargetOut


class TicketDetail(TicketOut):
    category_path: str | None = None
    sla: SlaOut | None = None


class TicketPage(BaseModel):
    """One page of tickets: ``total`` counts every ticket that matches."""

    items: list[TicketOut]
    total: int


class TicketEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    kind: str
    actor_id: int | None
    actor_kind: str
    at: datetime
    before: dict[str, Any]
    after: dict[str, Any]
    handling_seconds: int


class TicketMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    kind: str
    internal: bool
    author_id: int | None
    body: str
    created_at: datetime


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    message_id: int | None = None  # the reply or note it came with
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class CalendarIn(BaseModel):
    """A calendar as JSON: ``weekly_hours`` keyed by weekday "0" (Monday) .. "6", each a list of
    ``["09:00", "17:00"]`` pairs ("24:00" closes at midnight); holidays and special days as
    ``YYYY-MM-DD``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    timezone: str
    weekly_hours: dict[str, list[tuple[str, str]]]
    holidays: list[str] = Field(default_factory=list)
    special_hours: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
